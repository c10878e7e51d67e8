/**
 * Nitro attestation-document verification throughput (target ≤ 2 ms per
 * document): a real AWS document (../shared/fixtures/nitro, read in place)
 * through verifyNitroDocument (strict CBOR, 5-certificate chain, COSE ES384),
 * warm (the chain seen before: its parses and links memoised, as
 * for a verifier checking the same enclave again) and cold; and a dev document.
 *
 *   node --import tsx bench/nitro-verify.ts [--ms=1000] [--rounds=3]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { measureInterleaved, table, type BenchCase } from './harness.ts';
import { AWS_NITRO_ROOT_G1_DER, verifyNitroDocument } from '../src/attestation/nitro/index.ts';
import { clearChainMemo } from '../src/attestation/x509/memo.ts';
import { createDevRoot, devPcrsFromDigests, issueDevDocument, verifyDevDocument } from '../src/attestation/dev/index.ts';

const arg = (name: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
const ms = arg('ms', 1000);
const rounds = arg('rounds', 3);

const file = fileURLToPath(new URL('../../shared/fixtures/nitro/marlin-aws-valid.cbor', import.meta.url));
const doc = new Uint8Array(readFileSync(file));
const at = new Date('2024-12-13T07:38:00Z');
const check = verifyNitroDocument(doc, { trustRoots: [AWS_NITRO_ROOT_G1_DER], at });
if (!check.ok) throw new Error(`benchmark document does not verify: ${check.error.message}`);

const now = new Date();
const root = createDevRoot({ now, validityDays: 1 });
const devDoc = issueDevDocument(root, { pcrs: devPcrsFromDigests({ bundleSha384: new Uint8Array(48) }), publicKey: new Uint8Array(33).fill(2), userData: new Uint8Array(36), nonce: new Uint8Array(32), now });

const cases: BenchCase[] = [
  { row: 'AWS document (5 certs, ES384), warm: chain seen before', run: () => verifyNitroDocument(doc, { trustRoots: [AWS_NITRO_ROOT_G1_DER], at }) },
  {
    row: 'AWS document, cold: memo cleared (5 parses, 5 ECDSA P-384)',
    run: () => {
      clearChainMemo();
      return verifyNitroDocument(doc, { trustRoots: [AWS_NITRO_ROOT_G1_DER], at });
    },
  },
  { row: 'dev document (2 certs, ES384)', run: () => verifyDevDocument(devDoc, { devRoot: root.certificate, at: now }) },
];
const rows = await measureInterleaved(cases, { rounds, ms });
console.log(`node ${process.version}; ${rounds} interleaved rounds × ${ms} ms, median\n`);
console.log(table(rows));
for (const r of rows) console.log(`${r.name}: ${(1000 / r.opsPerSec).toFixed(2)} ms per document (target ≤ 2 ms)`);
