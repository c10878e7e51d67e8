/**
 * Issue a dev attestation document: exactly the Nitro shape (untagged
 * COSE_Sign1, ES384, the same payload fields in the NSM's order), signed by a
 * fresh P-384 leaf certificate that the dev root issues for this document.
 * cabundle = [root]. Pure given its inputs, apart from fresh randomness
 * (leaf key, serial numbers, signature nonces).
 */
import { p384 } from '@noble/curves/nist.js';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { EncumberError } from '../../errors.ts';
import { encodeCbor } from '../nitro/cbor.ts';
import { COSE_ALG_ES384, COSE_ALG_LABEL, sigStructure } from '../nitro/cose.ts';
import { NITRO_LIMITS } from '../nitro/limits.ts';
import { PCR_BYTES } from './pcrs.ts';
import type { DevRoot } from './root.ts';
import { buildCertificate, simpleName, subjectOf } from './x509-build.ts';

/** Like an NSM leaf: a few hours. */
export const DEV_LEAF_VALIDITY_MS = 3 * 60 * 60 * 1000;
/** The NSM reports PCR0..15; unset ones are zero. */
const REPORTED_PCRS = 16;

export interface DevDocumentInput {
  /** PCR index → 48 bytes (see devPcrsFromDigests); PCRs 0..15 not given are reported as zero. */
  pcrs: Record<number, Uint8Array>;
  publicKey?: Uint8Array | null;
  userData?: Uint8Array | null;
  nonce?: Uint8Array | null;
  now: Date;
  moduleId?: string;
  /** Leaf certificate lifetime; default 3 h, never past the root's notAfter. */
  leafValidityMs?: number;
}

function usage(message: string): never {
  throw new EncumberError('UsageError', `issueDevDocument: ${message}`);
}

function optional(v: Uint8Array | null | undefined, name: string): Uint8Array | null {
  if (v === undefined || v === null) return null;
  if (!(v instanceof Uint8Array) || v.length > NITRO_LIMITS.maxOptionalFieldBytes) {
    usage(`${name} must be at most ${NITRO_LIMITS.maxOptionalFieldBytes} bytes`);
  }
  return v;
}

export function issueDevDocument(root: DevRoot, input: DevDocumentInput): Uint8Array {
  // Inputs: the same bounds the verifier enforces.
  const now = input.now;
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) usage('now must be a valid Date');
  if (now.getTime() < root.notBefore || now.getTime() > root.notAfter) usage('now is outside the dev root validity');
  const moduleId = input.moduleId ?? 'encumber-dev';
  if (typeof moduleId !== 'string' || moduleId.length === 0 || moduleId.length > NITRO_LIMITS.maxModuleIdLength) usage('bad moduleId');
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < REPORTED_PCRS; i++) pcrs.set(i, new Uint8Array(PCR_BYTES));
  for (const [key, value] of Object.entries(input.pcrs ?? {})) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= NITRO_LIMITS.maxPcrs) usage(`bad PCR index ${key}`);
    if (!(value instanceof Uint8Array) || value.length !== PCR_BYTES) usage(`PCR${index} must be ${PCR_BYTES} bytes`);
    pcrs.set(index, value);
  }

  // A fresh leaf key and certificate, issued by the root, valid from `now` (to the second).
  const leafKey = p384.utils.randomSecretKey();
  const notBefore = new Date(Math.floor(now.getTime() / 1000) * 1000);
  const notAfter = new Date(Math.min(notBefore.getTime() + (input.leafValidityMs ?? DEV_LEAF_VALIDITY_MS), root.notAfter));
  const certificate = buildCertificate({
    subject: simpleName(`${moduleId}.dev.encumber`),
    issuer: subjectOf(root.certificate),
    notBefore,
    notAfter,
    publicKey: p384.getPublicKey(leafKey, false),
    ca: false,
    keyUsage: KeyUsageFlags.digitalSignature,
    authorityKeyId: root.keyIdentifier,
    sign: (tbs) => root.signCertificate(tbs),
  });

  // The payload, in the NSM's field order; the timestamp as a uint64 like the NSM writes it.
  const payload = encodeCbor(
    new Map<string, unknown>([
      ['module_id', moduleId],
      ['digest', 'SHA384'],
      ['timestamp', BigInt(now.getTime())],
      ['pcrs', new Map([...pcrs].sort(([a], [b]) => a - b))],
      ['certificate', certificate],
      ['cabundle', [root.certificate]],
      ['public_key', optional(input.publicKey, 'publicKey')],
      ['user_data', optional(input.userData, 'userData')],
      ['nonce', optional(input.nonce, 'nonce')],
    ]),
  );

  // COSE_Sign1: protected { 1: -35 }, empty unprotected, ES384 over the Sig_structure.
  const protectedBytes = encodeCbor(new Map([[COSE_ALG_LABEL, COSE_ALG_ES384]]));
  const signature = p384.sign(sigStructure(protectedBytes, payload), leafKey, { prehash: true, format: 'compact' });
  return encodeCbor([protectedBytes, new Map(), payload, signature]);
}
