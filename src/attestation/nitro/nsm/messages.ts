/**
 * The NSM API's messages (aws-nitro-enclaves-nsm-api, src/api/mod.rs), as
 * TypeScript values. On the wire they are serde's CBOR, externally tagged:
 *
 *   unit variant      "DescribeNSM"                       (a text string)
 *   struct variant    { "DescribePCR": { "index": 0 } }   (a one-key map; fields in declaration order)
 *   newtype variant   { "Error": "InvalidIndex" }         (a one-key map around the inner value)
 *
 * Byte fields (serde_bytes / ByteBuf) are CBOR byte strings; an absent Option is
 * null; u16 is an unsigned integer; a BTreeSet<u16> is an array; the Digest and
 * ErrorCode enums are text strings. Field names stay in snake_case on the wire and
 * become camelCase here; the tables below are the one place that maps them.
 */

export const NSM_ERROR_CODES = [
  'Success',
  'InvalidArgument',
  'InvalidIndex',
  'InvalidResponse',
  'ReadOnlyIndex',
  'InvalidOperation',
  'BufferTooSmall',
  'InputTooLarge',
  'InternalError',
] as const;
export type NsmErrorCode = (typeof NSM_ERROR_CODES)[number];

export const NSM_DIGESTS = ['SHA256', 'SHA384', 'SHA512'] as const;
export type NsmDigest = (typeof NSM_DIGESTS)[number];

export type NsmRequest =
  | { type: 'DescribePCR'; index: number }
  | { type: 'ExtendPCR'; index: number; data: Uint8Array }
  | { type: 'LockPCR'; index: number }
  | { type: 'LockPCRs'; range: number }
  | { type: 'DescribeNSM' }
  | { type: 'Attestation'; userData: Uint8Array | null; nonce: Uint8Array | null; publicKey: Uint8Array | null }
  | { type: 'GetRandom' };

export type NsmResponse =
  | { type: 'DescribePCR'; lock: boolean; data: Uint8Array }
  | { type: 'ExtendPCR'; data: Uint8Array }
  | { type: 'LockPCR' }
  | { type: 'LockPCRs' }
  | {
      type: 'DescribeNSM';
      versionMajor: number;
      versionMinor: number;
      versionPatch: number;
      moduleId: string;
      maxPcrs: number;
      lockedPcrs: number[];
      digest: NsmDigest;
    }
  | { type: 'Attestation'; document: Uint8Array }
  | { type: 'GetRandom'; random: Uint8Array }
  | { type: 'Error'; code: NsmErrorCode };

export type NsmRequestType = NsmRequest['type'];
export type NsmResponseType = NsmResponse['type'];

/** How one field is written on the wire. */
export type FieldKind = 'u16' | 'bytes' | 'optionalBytes' | 'bool' | 'text' | 'u16Set' | 'digest';
/** [wire name, our name, kind], in the Rust declaration order (= serde's map order). */
export type FieldSpec = readonly [wire: string, name: string, kind: FieldKind];
/** null: a unit variant (a bare text string on the wire). */
export type VariantTable = Readonly<Record<string, readonly FieldSpec[] | null>>;

export const REQUEST_VARIANTS = {
  DescribePCR: [['index', 'index', 'u16']],
  ExtendPCR: [
    ['index', 'index', 'u16'],
    ['data', 'data', 'bytes'],
  ],
  LockPCR: [['index', 'index', 'u16']],
  LockPCRs: [['range', 'range', 'u16']],
  DescribeNSM: null,
  Attestation: [
    ['user_data', 'userData', 'optionalBytes'],
    ['nonce', 'nonce', 'optionalBytes'],
    ['public_key', 'publicKey', 'optionalBytes'],
  ],
  GetRandom: null,
} as const satisfies Record<NsmRequestType, readonly FieldSpec[] | null>;

/** Error(ErrorCode) is the one newtype variant; it is handled apart from this table. */
export const RESPONSE_VARIANTS = {
  DescribePCR: [
    ['lock', 'lock', 'bool'],
    ['data', 'data', 'bytes'],
  ],
  ExtendPCR: [['data', 'data', 'bytes']],
  LockPCR: null,
  LockPCRs: null,
  DescribeNSM: [
    ['version_major', 'versionMajor', 'u16'],
    ['version_minor', 'versionMinor', 'u16'],
    ['version_patch', 'versionPatch', 'u16'],
    ['module_id', 'moduleId', 'text'],
    ['max_pcrs', 'maxPcrs', 'u16'],
    ['locked_pcrs', 'lockedPcrs', 'u16Set'],
    ['digest', 'digest', 'digest'],
  ],
  Attestation: [['document', 'document', 'bytes']],
  GetRandom: [['random', 'random', 'bytes']],
} as const satisfies Record<Exclude<NsmResponseType, 'Error'>, readonly FieldSpec[] | null>;
