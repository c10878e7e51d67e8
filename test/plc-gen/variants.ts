/**
 * "Unsafe variants" of a valid generated log: one entry changed so that it
 * carries exactly one defect a lenient verifier lets through. Everything else
 * is made consistent again: the changed op's cid, the DID when the genesis
 * changes, and every later op whose prev pointed at a changed cid (re-pointed
 * and re-signed by its original signer, cascading). So the only way to reject
 * the variant is to catch the one intended defect.
 *
 *   padded       sig with '=' padding (88 characters)
 *   der          sig as ASN.1 DER of (r, s) instead of 64-byte r‖s
 *   highS        s replaced by n − s (the same signature's malleable twin)
 *   newline      sig followed by "\n"
 *   trailingBits last base64url character with non-zero unused bits (same bytes in a lenient decoder)
 *   unknownField an extra field in the op, signed WITH the field (so the signature is valid)
 */
import * as plc from '@did-plc/lib';
import type { PlcAnyOperation } from '../../src/plc/types.ts';
import type { GeneratedLog } from './builder.ts';
import { cidOf, didOf } from './hash.ts';
import { NOBLE, ORDER, type Curve, type GenKey } from './keys.ts';

export type SigVariant = 'padded' | 'der' | 'highS' | 'newline' | 'trailingBits';
export type Variant = SigVariant | 'unknownField';
export const SIG_VARIANTS: readonly SigVariant[] = ['padded', 'der', 'highS', 'newline', 'trailingBits'];

type Transform = (op: PlcAnyOperation, signer: GenKey) => Promise<PlcAnyOperation>;

/**
 * Replace entry `index`'s op by `transform(op, signer)` and repair everything
 * downstream (cids, DID, prev links, signatures). The input is not modified.
 */
export async function rewriteOp(gen: GeneratedLog, index: number, transform: Transform): Promise<GeneratedLog> {
  const log = structuredClone(gen.log);
  const entry = log[index];
  if (!entry) throw new Error(`no entry ${index}`);
  const renamed = new Map<string, string>();
  const signerOf = (i: number) => {
    const k = gen.keys.get(gen.meta[i]!.signer);
    if (!k) throw new Error(`no private key for the signer of entry ${i}`);
    return k;
  };

  const changed = await transform(entry.operation, signerOf(index));
  entry.operation = changed;
  renamed.set(entry.cid, cidOf(changed));
  entry.cid = cidOf(changed);

  for (let j = index + 1; j < log.length; j++) {
    const e = log[j]!;
    const newPrev = e.operation.prev === null ? undefined : renamed.get(e.operation.prev);
    if (newPrev === undefined) continue;
    const { sig: _old, ...unsigned } = e.operation;
    e.operation = (await plc.addSignature({ ...unsigned, prev: newPrev }, signerOf(j).keypair)) as PlcAnyOperation;
    renamed.set(e.cid, cidOf(e.operation));
    e.cid = cidOf(e.operation);
  }

  const did = index === 0 ? didOf(log[0]!.operation) : gen.did;
  for (const e of log) e.did = did;
  return { ...gen, did, log };
}

/** Re-spell entry `index`'s signature in one of the unsafe forms. */
export function withSigVariant(gen: GeneratedLog, index: number, variant: SigVariant): Promise<GeneratedLog> {
  return rewriteOp(gen, index, async (op, signer) => ({ ...op, sig: unsafeSig(op.sig, signer.curve, variant) }));
}

/** Add a field the schema does not know, and sign the op with it. */
export function withUnknownField(gen: GeneratedLog, index: number, field = 'encumberNote', value: unknown = 'hidden'): Promise<GeneratedLog> {
  return rewriteOp(gen, index, async (op, signer) => {
    const { sig: _old, ...unsigned } = op;
    return (await plc.addSignature({ ...unsigned, [field]: value }, signer.keypair)) as PlcAnyOperation;
  });
}

export function withVariant(gen: GeneratedLog, index: number, variant: Variant): Promise<GeneratedLog> {
  return variant === 'unknownField' ? withUnknownField(gen, index) : withSigVariant(gen, index, variant);
}

/** The unsafe spelling of a canonical base64url signature. */
export function unsafeSig(sig: string, curve: Curve, variant: SigVariant): string {
  const bytes = new Uint8Array(Buffer.from(sig, 'base64url'));
  if (bytes.length !== 64 || Buffer.from(bytes).toString('base64url') !== sig) {
    throw new Error('expected a canonical 64-byte base64url signature');
  }
  switch (variant) {
    case 'padded':
      return sig + '==';
    case 'newline':
      return sig + '\n';
    case 'der':
      return b64url(toDer(bytes, curve));
    case 'highS':
      return b64url(flipS(bytes, curve));
    case 'trailingBits':
      return withTrailingBits(sig);
  }
}

/** Compact r‖s → DER SEQUENCE { INTEGER r, INTEGER s } (noble's encoder). */
export function toDer(compact: Uint8Array, curve: Curve): Uint8Array {
  return NOBLE[curve].Signature.fromBytes(compact, 'compact').toBytes('der');
}

/** s → n − s: the other valid signature for the same message and key. */
export function flipS(compact: Uint8Array, curve: Curve): Uint8Array {
  const s = BigInt('0x' + Buffer.from(compact.subarray(32)).toString('hex'));
  const out = new Uint8Array(compact);
  out.set(Buffer.from((ORDER[curve] - s).toString(16).padStart(64, '0'), 'hex'), 32);
  return out;
}

/**
 * 64 bytes = 86 base64url characters; the last one carries 2 data bits and 4
 * unused bits, which canonical encoding leaves zero. Set one of them.
 */
export function withTrailingBits(sig: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(sig[sig.length - 1]!);
  return sig.slice(0, -1) + alphabet[last | 0b0001];
}

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
