/**
 * Signature verification throughput, k256 and p256.
 *
 *   node --import tsx bench/signature-verify.ts [--ms=1000] [--rounds=3]
 *
 * Rows per curve (all verify one valid 64-byte low-S signature over SHA-256 of a
 * 256-byte message, the size of a typical PLC operation):
 *   - node:crypto  — `crypto.verify('sha256', msg, {key, dsaEncoding: 'ieee-p1363'}, sig)` with a
 *                    KeyObject imported once: the native limit, and the reference for the ratios;
 *   - ours         — `checkSignature(parsedKey, msg, sig)`: strict form checks, then node:crypto;
 *   - ours (did)   — `verifySignature(didString, msg, sig)`: also parses the did:key on every call;
 *   - @atproto/crypto 0.5.5 — `verifySignature(didKey, msg, sig)` (async, noble 1.x inside);
 *   - noble 2.x    — `verify(sig, msg, compressedKey, {lowS: true, format: 'compact'})`, pure JS.
 * A second table shows the cost of our strict pre-checks alone (`checkSignatureForm`).
 *
 * Each row is measured `rounds` times, interleaved, and the median is reported,
 * so a noisy neighbour hurts all rows alike.
 */
import { createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { sha256 } from '@noble/hashes/sha2.js';
import { verifySignature as atprotoVerify } from '@atproto/crypto';
import { table, measureInterleaved, type BenchCase } from './harness.ts';
import { K256, P256, type CurveInfo } from '../src/crypto/curves.ts';
import { formatDidKey, parseDidKey } from '../src/crypto/did-key.ts';
import { checkSignature, checkSignatureForm, verifySignature } from '../src/crypto/verify.ts';

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);

type Case = BenchCase;

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
  return { noble, compressed, did, key, msg, sig, keyObject };
}

/** Throws if a row would be measuring a failing verification. */
function mustBeTrue(row: string, ok: unknown): void {
  if (ok !== true && ok !== undefined) throw new Error(`${row}: verification did not succeed (${String(ok)})`);
}

const measure = (cases: Case[]) => measureInterleaved(cases, { rounds, ms });

async function main(): Promise<void> {
  console.log(`node ${process.version}, ${process.arch}; ${rounds} interleaved rounds × ${ms} ms per row, median shown\n`);
  for (const curve of [K256, P256]) {
    const s = setup(curve);
    const cases: Case[] = [
      { row: 'node:crypto (native limit)', run: () => nodeVerify('sha256', s.msg, { key: s.keyObject, dsaEncoding: 'ieee-p1363' }, s.sig) },
      { row: 'ours: checkSignature(parsed key)', run: () => checkSignature(s.key, s.msg, s.sig) },
      { row: 'ours: verifySignature(did string)', run: () => verifySignature(s.did, s.msg, s.sig) },
      { row: '@atproto/crypto 0.5.5 verifySignature', run: () => atprotoVerify(s.did, s.msg, s.sig), async: true },
      { row: 'noble 2.x verify (pure JS)', run: () => s.noble.verify(s.sig, s.msg, s.compressed, { lowS: true, format: 'compact' }) },
    ];
    // Every row must verify the signature; a bench of a failing check is meaningless.
    for (const c of cases) mustBeTrue(c.row, c.async ? await (c.run() as Promise<boolean>) : c.run());

    console.log(`### ${curve.name} (${curve.jwtAlg})\n`);
    console.log(table(await measure(cases), cases[0]!.row));
    console.log();

    const pre: Case[] = [
      cases[0]!,
      { row: 'ours: checkSignatureForm alone (strict pre-checks)', run: () => checkSignatureForm(curve, s.sig) },
    ];
    console.log(table(await measure(pre), pre[0]!.row));
    console.log();
  }
}

await main();
