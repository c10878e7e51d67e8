/**
 * serde's externally tagged CBOR, driven by the variant tables in messages.ts.
 * Encoding writes exactly what serde writes (definite lengths, shortest
 * integers, fields in declaration order). Decoding reads like serde: one CBOR
 * item and nothing after it, fields in any order, unknown fields ignored, an
 * absent Option field read as null; every field's type is checked.
 */
import { Decoder } from 'cbor-x';
import { encodeCbor } from '../cbor.ts';
import { describe } from '../cose.ts';
import { NSM_DIGESTS, type FieldKind, type FieldSpec, type NsmDigest, type VariantTable } from './messages.ts';
import { NSM_LIMITS } from './limits.ts';

/** How a caller reports a bad value: the encoder's InvalidRequest, the decoder's MalformedResponse. */
export type Fail = (message: string, details?: { path?: string; expected?: unknown; actual?: unknown; cause?: unknown }) => never;

const decoder = new Decoder({ mapsAsObjects: false, useRecords: false });

/** One CBOR item occupying all of `bytes`. */
export function decodeItem(bytes: Uint8Array, fail: Fail): unknown {
  try {
    // cbor-x caches a DataView on the buffer it reads: give it a copy.
    return decoder.decode(bytes.slice());
  } catch (cause) {
    return fail(`not one well-formed CBOR item: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

const isU16 = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= NSM_LIMITS.maxU16;

/** Check one field's value against its kind; returns our representation (bytes copied). */
export function readField(kind: FieldKind, v: unknown, path: string, fail: Fail): unknown {
  switch (kind) {
    case 'u16':
      if (!isU16(v)) fail(`${path} must be an integer in 0..65535`, { path, actual: describe(v) });
      return v;
    case 'bytes':
      if (!(v instanceof Uint8Array)) fail(`${path} must be a byte string`, { path, actual: describe(v) });
      return new Uint8Array(v);
    case 'optionalBytes':
      if (v === null || v === undefined) return null;
      return readField('bytes', v, path, fail);
    case 'bool':
      if (typeof v !== 'boolean') fail(`${path} must be a boolean`, { path, actual: describe(v) });
      return v;
    case 'text':
      if (typeof v !== 'string') fail(`${path} must be a text string`, { path, actual: describe(v) });
      return v;
    case 'u16Set': {
      if (!Array.isArray(v) || !v.every(isU16)) fail(`${path} must be an array of integers in 0..65535`, { path, actual: describe(v) });
      return [...new Set(v as number[])].sort((a, b) => a - b);
    }
    case 'digest':
      if (!NSM_DIGESTS.includes(v as NsmDigest)) fail(`${path} must be one of ${NSM_DIGESTS.join(', ')}`, { path, expected: NSM_DIGESTS, actual: describe(v) });
      return v;
  }
}

/** Encode `value` as the variant `type` of `table` (its fields already checked with readField). */
export function encodeVariant(table: VariantTable, type: string, value: Readonly<Record<string, unknown>>): Uint8Array {
  const fields = table[type];
  if (fields === undefined) throw new TypeError(`unknown NSM variant ${type}`);
  if (fields === null) return encodeCbor(type);
  return encodeCbor(new Map([[type, new Map(fields.map(([wire, name]) => [wire, value[name] ?? null]))]]));
}

/** Decode an externally tagged variant of `table`; `extra` handles variants outside it (newtypes). */
export function decodeVariant(
  table: VariantTable,
  item: unknown,
  fail: Fail,
  extra: (type: string, inner: unknown) => Record<string, unknown> | undefined = () => undefined,
): Record<string, unknown> & { type: string } {
  if (typeof item === 'string') {
    if (table[item] !== null) {
      fail(table[item] === undefined ? `unknown variant "${item}"` : `variant "${item}" has fields, but came as a bare string`, { actual: item });
    }
    return { type: item };
  }
  if (!(item instanceof Map) || item.size !== 1) {
    return fail('must be a variant name or a one-key map { variant: fields }', { actual: describe(item) });
  }
  const [type, inner] = [...item][0]!;
  if (typeof type !== 'string') return fail('the variant name must be a text string', { actual: describe(type) });
  const other = extra(type, inner);
  if (other) return { type, ...other };
  const fields: readonly FieldSpec[] | null | undefined = table[type];
  if (fields === undefined) return fail(`unknown variant "${type}"`, { actual: type });
  if (fields === null) return fail(`variant "${type}" has no fields, but came as a map`, { actual: type });
  if (!(inner instanceof Map)) return fail(`${type}: fields must be a map`, { path: type, actual: describe(inner) });
  const out: Record<string, unknown> & { type: string } = { type };
  for (const [wire, name, kind] of fields) {
    const path = `${type}.${wire}`;
    if (!inner.has(wire) && kind !== 'optionalBytes') fail(`${path} is missing`, { path });
    out[name] = readField(kind, inner.get(wire), path, fail);
  }
  return out;
}
