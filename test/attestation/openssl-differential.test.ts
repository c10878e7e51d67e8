/**
 * Differential test of the one chain validator against `openssl verify`: for
 * every real certificate chain in ../shared/fixtures (SEV-SNP: ARK → ASK/ASVK →
 * VCEK/VLEK, RSA-PSS; Nitro: AWS root → … → leaf, ECDSA P-384) and mutations of
 * them, at several times, both must give the same verdict. The mutations keep
 * the certificate path forced (one possible issuer per certificate), so
 * OpenSSL's path building and our fixed order judge the same chain.
 *
 * OpenSSL runs with the root as its only trust anchor, the intermediates as
 * untrusted, `-attime` for the time, and `-check_ss_sig` where the profile
 * checks the root's self-signature (SEV-SNP). Not `-x509_strict`: neither
 * AMD's nor AWS's certificates carry the Authority/Subject Key Identifiers it
 * requires (and neither verifier needs them: issuers are matched by Name and
 * signature). Times are probed at each certificate's notBefore − 1 s and
 * notBefore, and at notAfter − 1 s and notAfter + 1 s, not at notAfter itself:
 * RFC 5280 §4.1.2.5 makes the window inclusive, as we do, while OpenSSL treats
 * notAfter as already expired. A missing openssl skips here and fails under CI.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprint } from '../../src/attestation/bytes.ts';
import { parseCoseSign1 } from '../../src/attestation/nitro/cose.ts';
import { parseAttestationDocument } from '../../src/attestation/nitro/document.ts';
import { NITRO_PROFILE } from '../../src/attestation/nitro/profile.ts';
import { SNP_PROFILE } from '../../src/attestation/sev-snp/profile.ts';
import { validateChain } from '../../src/attestation/x509/chain.ts';
import { clearChainMemo } from '../../src/attestation/x509/memo.ts';
import type { ChainProfile } from '../../src/attestation/x509/profile.ts';
import { encodePem } from '../../src/crypto/encoding.ts';
import { EncumberError } from '../../src/errors.ts';
import { tempDir } from '../support/fixtures.ts';
import { hasCommand, skipUnlessCi } from '../support/tools.ts';
import { AWS_FIXTURES, nitroBytes } from './helpers.ts';
import { SNP_AT, SNP_CASES, snpCerts, snpRoot, VLEK_AT } from './sev-snp/helpers.ts';

const skip = skipUnlessCi(hasCommand('openssl', 'version') ? null : 'openssl is not installed');
const dir = skip ? '' : tempDir('encumber-openssl-');
after(() => clearChainMemo());

let files = 0;
function pemFile(ders: readonly Uint8Array[]): string {
  const path = join(dir, `${files++}.pem`);
  writeFileSync(path, ders.map((d) => encodePem(d)).join(''));
  return path;
}

/** OpenSSL's verdict on [root, ...intermediates, leaf] at `at` (ms): true iff `openssl verify` prints OK. */
function opensslAccepts(chain: readonly Uint8Array[], at: number, profile: ChainProfile): Promise<boolean> {
  const args = ['verify', '-attime', String(Math.floor(at / 1000)), '-CAfile', pemFile([chain[0]!])];
  if (profile.rootSelfSigned) args.push('-check_ss_sig');
  if (chain.length > 2) args.push('-untrusted', pemFile(chain.slice(1, -1)));
  args.push(pemFile([chain[chain.length - 1]!]));
  return new Promise((resolve, reject) => {
    const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('error', reject);
    child.on('close', (status) => resolve(status === 0 && /: OK\s*$/.test(out)));
  });
}

/** Our verdict: validateChain under `profile`, the root pinned (it is OpenSSL's trust anchor too). */
async function weAccept(chain: readonly Uint8Array[], at: number, profile: ChainProfile): Promise<{ ok: boolean; code?: string }> {
  try {
    await validateChain(chain, profile, { at, pins: [fingerprint(chain[0]!)] });
    return { ok: true };
  } catch (e) {
    assert.ok(e instanceof EncumberError, `untyped error ${(e as Error).message}`);
    assert.ok(['CertificateChainInvalid', 'CertificateExpired', 'UntrustedRoot', 'InvalidEvidence'].includes(e.code), e.code);
    return { ok: false, code: e.code };
  }
}

interface Case {
  label: string;
  chain: Uint8Array[];
  at: number;
}

/** True the first time a certificate is seen in `seen`. */
function firstTime(seen: Set<string>, der: Uint8Array): boolean {
  const id = fingerprint(der);
  if (seen.has(id)) return false;
  seen.add(id);
  return true;
}

const flip = (der: Uint8Array, at: number): Uint8Array => {
  const out = new Uint8Array(der);
  out[at]! ^= 0x01;
  return out;
};

/** The offset of the last byte of the serial number (inside the signed tbsCertificate). */
function serialLastByte(der: Uint8Array): number {
  // SEQUENCE { SEQUENCE(tbs) { [0] version (5 bytes), INTEGER serial ... } }: walk the two headers.
  const header = (at: number) => (der[at + 1]! < 0x80 ? 2 : 2 + (der[at + 1]! & 0x7f));
  const tbs = header(0);
  const serial = tbs + header(tbs) + 5;
  return serial + 2 + der[serial + 1]! - 1;
}

/**
 * The mutations every chain gets: each certificate's signature and signed body
 * broken (once per certificate: chains share their ARK, ASK and AWS root), the
 * intermediates left out.
 */
function mutations(name: string, chain: Uint8Array[], at: number, seen: Set<string>, positions = (_i: number) => true): Case[] {
  const out: Case[] = [];
  chain.forEach((der, i) => {
    if (!positions(i) || !firstTime(seen, der)) return;
    out.push({ label: `${name}: [${i}] signature flipped`, chain: chain.map((d, j) => (j === i ? flip(d, d.length - 1) : d)), at });
    out.push({ label: `${name}: [${i}] serial flipped`, chain: chain.map((d, j) => (j === i ? flip(d, serialLastByte(d)) : d)), at });
  });
  out.push({ label: `${name}: intermediates left out`, chain: [chain[0]!, chain[chain.length - 1]!], at });
  return out;
}

/** Each chain's leaf under the next chain's root and intermediates: valid where they share the issuer, refused elsewhere. */
function leafSwaps(chains: Array<{ name: string; chain: Uint8Array[]; at: number }>): Case[] {
  return chains.map(({ name, chain, at }, i) => {
    const next = chains[(i + 1) % chains.length]!;
    return { label: `${name}: leaf under the chain of ${next.name}`, chain: [...next.chain.slice(0, -1), chain[chain.length - 1]!], at };
  });
}

/** Each time: the given one, each certificate's notBefore − 1 s / notBefore / notAfter − 1 s / notAfter + 1 s. */
function times(name: string, chain: Uint8Array[], windows: Array<{ notBefore: number; notAfter: number }>, at: number, seen: Set<string>, positions = (_i: number) => true): Case[] {
  const out: Case[] = [{ label: `${name} at ${new Date(at).toISOString()}`, chain, at }];
  windows.forEach((w, i) => {
    if (!positions(i) || !firstTime(seen, chain[i]!)) return;
    for (const [what, t] of [['notBefore − 1 s', w.notBefore - 1000], ['notBefore', w.notBefore], ['notAfter − 1 s', w.notAfter - 1000], ['notAfter + 1 s', w.notAfter + 1000]] as const) {
      out.push({ label: `${name}: at [${i}] ${what}`, chain, at: t });
    }
  });
  return out;
}

async function agree(cases: Case[], profile: ChainProfile): Promise<{ accepted: number; refused: number }> {
  let accepted = 0;
  let refused = 0;
  // OpenSSL runs four processes at a time (each is mostly start-up).
  const theirs = new Array<boolean>(cases.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < cases.length; i = next++) theirs[i] = await opensslAccepts(cases[i]!.chain, cases[i]!.at, profile);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i]!;
    const ours = await weAccept(c.chain, c.at, profile);
    const openssl = theirs[i]!;
    assert.equal(ours.ok, openssl, `${c.label}: we say ${ours.ok ? 'valid' : ours.code}, openssl says ${openssl ? 'OK' : 'invalid'}`);
    if (ours.ok) accepted++;
    else refused++;
  }
  return { accepted, refused };
}

/** Validity windows through the validator itself (its own parse), at a time the chain is valid. */
async function windowsOf(chain: Uint8Array[], profile: ChainProfile, at: number) {
  const v = await validateChain(chain, profile, { at, pins: [fingerprint(chain[0]!)] });
  return v.chain.map((c) => ({ notBefore: c.notBefore, notAfter: c.notAfter }));
}

test('SEV-SNP: every fixture chain and its mutations get the same verdict from openssl verify', { skip }, async () => {
  const cases: Case[] = [];
  const chains = SNP_CASES.map((c) => {
    const certs = snpCerts(c.name);
    return { name: c.name, chain: [certs.ark!, (certs.ask ?? certs.asvk)!, (certs.vcek ?? certs.vlek)!], at: (c.keyType === 'vlek' ? VLEK_AT : SNP_AT).getTime() };
  });
  const [probed, mutated] = [new Set<string>(), new Set<string>()];
  for (const { name, chain, at } of chains) {
    cases.push(...times(name, chain, await windowsOf(chain, SNP_PROFILE, at), at, probed), ...mutations(name, chain, at, mutated));
  }
  cases.push(...leafSwaps(chains));
  // Certificates from another product line or the other intermediate: no issuer fits.
  const milan = SNP_CASES.find((c) => c.name === 'milan-v2-vcek-virtee')!;
  const vcek = snpCerts(milan.name).vcek!;
  cases.push(
    { label: 'Milan VCEK under the Genoa ASK', chain: [snpRoot('Genoa', 'ark'), snpRoot('Genoa', 'ask'), vcek], at: SNP_AT.getTime() },
    { label: 'Milan VCEK under the Milan ASVK', chain: [snpRoot('Milan', 'ark'), snpRoot('Milan', 'asvk'), vcek], at: SNP_AT.getTime() },
    { label: 'Milan ASK under the Turin ARK', chain: [snpRoot('Turin', 'ark'), snpRoot('Milan', 'ask'), vcek], at: SNP_AT.getTime() },
  );
  for (const product of ['Milan', 'Genoa', 'Turin']) {
    // The ASK as the leaf: a CA where a signing key belongs (OpenSSL accepts a CA leaf; so the case is only ours).
    assert.equal((await weAccept([snpRoot(product, 'ark'), snpRoot(product, 'ask')], SNP_AT.getTime(), SNP_PROFILE)).ok, false);
  }
  const { accepted, refused } = await agree(cases, SNP_PROFILE);
  // Both verdicts occur, so agreement is not vacuous.
  assert.ok(accepted >= SNP_CASES.length && refused > 2 * SNP_CASES.length, `${accepted} accepted, ${refused} refused`);
});

test('Nitro: every AWS fixture chain and its mutations get the same verdict from openssl verify', { skip }, async () => {
  const cases: Case[] = [];
  const chains = AWS_FIXTURES.map((f) => {
    const doc = parseAttestationDocument(parseCoseSign1(nitroBytes(f.file)).payload);
    return { name: f.file, chain: [...doc.cabundle, doc.certificate], at: doc.timestamp };
  });
  // AWS chains are five certificates, each fixture's intermediates its own: the root, the first intermediate and the leaf are enough.
  const [probed, mutated] = [new Set<string>(), new Set<string>()];
  for (const { name, chain, at } of chains) {
    const ends = (i: number) => i === 0 || i === chain.length - 1;
    cases.push(...times(name, chain, await windowsOf(chain, NITRO_PROFILE, at), at, probed, ends));
    cases.push(...mutations(name, chain, at, mutated, (i) => ends(i) || i === 1));
  }
  cases.push(...leafSwaps(chains));
  const { accepted, refused } = await agree(cases, NITRO_PROFILE);
  assert.ok(accepted >= AWS_FIXTURES.length && refused > 2 * AWS_FIXTURES.length, `${accepted} accepted, ${refused} refused`);
});
