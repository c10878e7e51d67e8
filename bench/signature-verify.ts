/**
 * Signature verification and signing throughput, k256 and p256, every peer in
 * the same process and run.
 *
 *   node --import tsx bench/signature-verify.ts [--ms=1000] [--rounds=3]
 *
 * Every row verifies (or makes) one 64-byte compact low-S signature over
 * SHA-256 of a 256-byte message, the size of a typical PLC operation; rows whose
 * library takes a digest hash the message with node:crypto's SHA-256 inside the
 * measured call, so all rows do the same work.
 *
 * k256 verify rows:
 *   - OpenSSL (node:crypto) — `crypto.verify('sha256', msg, {key, dsaEncoding: 'ieee-p1363'}, sig)`,
 *                    KeyObject imported once;
 *   - libsecp256k1 native — `secp256k1/bindings` (the prebuilt addon in the npm package, never its
 *                    index.js, which may fall back to pure-JS elliptic) `ecdsaVerify(sig, digest, key)`;
 *   - tiny-secp256k1 — libsecp256k1 compiled to wasm, `verify(digest, key, sig)`;
 *   - ours           — `checkSignature(parsedKey, msg, sig)` (strict form checks, then the ECDSA
 *                    equation) and `verifySignature(didString, msg, sig)`, with the libsecp256k1
 *                    backend installed as the Node edges (enclave boot, CLI) install it; and once
 *                    without a backend, as a library caller gets it (OpenSSL);
 *   - @atproto/crypto 0.5.5 `verifySignature` (async, noble 1.x) and noble 2.x (pure JS).
 * k256 sign rows: the same libraries; "ours" is the enclave's KeyHolder.sign.
 * Every k256 row carries a ratio against both OpenSSL and libsecp256k1 native.
 * p256 (no libsecp256k1) is measured against OpenSSL only.
 *
 * Each row is measured `rounds` times, interleaved, and the median is reported,
 * so a noisy neighbour hurts all rows alike.
 */
import { createRequire } from 'node:module';
import { createHash, createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { Secp256k1Keypair, verifySignature as atprotoVerify } from '@atproto/crypto';
import * as tiny from 'tiny-secp256k1';
import { tableVs, measureInterleaved, type BenchCase } from './harness.ts';
import { K256, P256, type CurveInfo } from '../src/crypto/curves.ts';
import { formatDidKey, parseDidKey } from '../src/crypto/did-key.ts';
import { checkSignature, checkSignatureForm, verifySignature } from '../src/crypto/verify.ts';
import { KeyHolder } from '../src/enclave/key-holder.ts';
import { installK256Backend } from '../src/crypto/k256-backend.ts';
import { libsecp256k1Backend } from '../src/crypto/k256-libsecp256k1.ts';

interface Libsecp256k1 {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pubkey: Uint8Array): boolean;
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
}
/** The native addon only: `secp256k1/bindings` fails rather than falling back to JS. */
const native = createRequire(import.meta.url)('secp256k1/bindings') as Libsecp256k1;

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);

const OPENSSL = 'OpenSSL (node:crypto)';
const LIBSECP = 'libsecp256k1 native (secp256k1/bindings)';
/** As the enclave's boot and the CLI do (installLibsecp256k1). */
const withBackend = (f: () => unknown) => () => {
  installK256Backend(libsecp256k1Backend);
  return f();
};
const noBackend = (f: () => unknown) => () => {
  installK256Backend(undefined);
  return f();
};
const digest = (m: Uint8Array) => createHash('sha256').update(m).digest();

function setup(curve: CurveInfo) {
  const noble = curve.noble;
  const priv = noble.utils.randomSecretKey();
  const compressed = noble.getPublicKey(priv, true);
  const did = formatDidKey(curve, compressed);
  const key = parseDidKey(did);
  const msg = new Uint8Array(256).map((_, i) => (i * 37 + 11) & 0xff);
  const sig = noble.sign(sha256(msg), priv, { prehash: false, lowS: true, format: 'compact' });
  const der = new Uint8Array(curve.spkiCompressedPrefix.length + 33);
  der.set(curve.spkiCompressedPrefix, 0);
  der.set(compressed, curve.spkiCompressedPrefix.length);
  const keyObject: KeyObject = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
  return { noble, priv, compressed, did, key, msg, sig, keyObject };
}

/** Throws if a row would be measuring a failing verification. */
function mustBeTrue(row: string, ok: unknown): void {
  if (ok !== true && ok !== undefined) throw new Error(`${row}: verification did not succeed (${String(ok)})`);
}

const measure = (cases: BenchCase[]) => measureInterleaved(cases, { rounds, ms });

function verifyCases(curve: CurveInfo, s: ReturnType<typeof setup>): BenchCase[] {
  const k256 = curve === K256;
  return [
    { row: OPENSSL, run: () => nodeVerify('sha256', s.msg, { key: s.keyObject, dsaEncoding: 'ieee-p1363' }, s.sig) },
    ...(k256
      ? [
          { row: LIBSECP, run: () => native.ecdsaVerify(s.sig, digest(s.msg), s.compressed) },
          { row: 'libsecp256k1 wasm (tiny-secp256k1 2.2.4)', run: () => tiny.verify(digest(s.msg), s.compressed, s.sig) },
        ]
      : []),
    // The backend is a module variable: each row sets the one it measures (one assignment, negligible).
    { row: 'ours: checkSignature(parsed key), pre-checks included', run: withBackend(() => checkSignature(s.key, s.msg, s.sig)) },
    { row: 'ours: verifySignature(did string)', run: withBackend(() => verifySignature(s.did, s.msg, s.sig)) },
    ...(k256
      ? [{ row: 'ours: checkSignature, no backend installed (library callers: OpenSSL)', run: noBackend(() => checkSignature(s.key, s.msg, s.sig)) }]
      : []),
    { row: '@atproto/crypto 0.5.5 verifySignature', run: () => atprotoVerify(s.did, s.msg, s.sig), async: true },
    { row: 'noble 2.x verify (pure JS)', run: () => s.noble.verify(s.sig, s.msg, s.compressed, { lowS: true, format: 'compact' }) },
  ];
}

/** Checks every row's signature verifies under the one public key, then returns the cases. */
async function signCases(s: ReturnType<typeof setup>): Promise<BenchCase[]> {
  const pkcs8 = Buffer.concat([Buffer.from('303e020100301006072a8648ce3d020106052b8104000a042730250201010420', 'hex'), s.priv]);
  const privObject = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const holderKey = new Uint8Array(s.priv);
  const holder = KeyHolder.generate(() => holderKey);
  const atKeypair = await Secp256k1Keypair.import(new Uint8Array(s.priv));
  const cases: BenchCase[] = [
    { row: OPENSSL, run: () => nodeSign('sha256', s.msg, { key: privObject, dsaEncoding: 'ieee-p1363' }) },
    { row: LIBSECP, run: () => native.ecdsaSign(digest(s.msg), s.priv).signature },
    { row: 'libsecp256k1 wasm (tiny-secp256k1 2.2.4)', run: () => tiny.sign(digest(s.msg), s.priv) },
    { row: 'ours: enclave KeyHolder.sign', run: () => holder.sign(s.msg) },
    { row: '@atproto/crypto 0.5.5 Secp256k1Keypair.sign', run: () => atKeypair.sign(s.msg), async: true },
    { row: 'noble 2.x sign (pure JS)', run: () => s.noble.sign(s.msg, s.priv, { lowS: true, format: 'compact' }) },
  ];
  if (holder.did !== s.did) throw new Error('KeyHolder did not take the benchmark key');
  for (const c of cases) {
    const sig = (c.async ? await (c.run() as Promise<Uint8Array>) : c.run()) as Uint8Array;
    // OpenSSL's raw signature may be high-S; everything else must be low-S and verify under our strict check.
    if (c.row !== OPENSSL && checkSignature(s.key, s.msg, sig) !== undefined) throw new Error(`${c.row}: bad signature`);
  }
  return cases;
}

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}; ${rounds} interleaved rounds × ${ms} ms per row, median shown\n`);
  for (const curve of [K256, P256]) {
    const s = setup(curve);
    const cases = verifyCases(curve, s);
    for (const c of cases) mustBeTrue(c.row, c.async ? await (c.run() as Promise<boolean>) : c.run());
    const refs = curve === K256 ? [OPENSSL, LIBSECP] : [OPENSSL];

    console.log(`### ${curve.name} (${curve.jwtAlg}) verify\n`);
    console.log(tableVs(await measure(cases), refs));
    console.log();

    if (curve === K256) {
      console.log(`### ${curve.name} (${curve.jwtAlg}) sign\n`);
      console.log(tableVs(await measure(await signCases(s)), refs));
      console.log();
    }

    console.log(`### ${curve.name}: cost of the strict pre-checks alone\n`);
    const pre: BenchCase[] = [cases[0]!, { row: 'ours: checkSignatureForm alone (strict pre-checks)', run: () => checkSignatureForm(curve, s.sig) }];
    console.log(tableVs(await measure(pre), [OPENSSL]));
    console.log();
  }
}

await main();
