/**
 * The metadata section (EIF v4): JSON that is stored and CRC-covered but not
 * measured, so it never changes a PCR; it does change the file's bytes, so a
 * reproducible build must fix every field, the build time included.
 *
 * `eifIdentityMetadata` gives AWS's EifIdentityInfo shape (src/defs/mod.rs),
 * keys in serde's declaration order, serialised compactly like
 * `serde_json::to_vec`. The build time comes from the caller (SOURCE_DATE_EPOCH
 * read at the edge), never from the clock.
 */
import { EncumberError } from '../../../src/errors.ts';

export interface EifIdentityInput {
  imageName: string;
  /** AWS's eif_build default: "1.0". */
  imageVersion?: string;
  /** Seconds since the epoch (SOURCE_DATE_EPOCH); formatted like chrono's to_rfc3339. */
  sourceDateEpoch: number;
  buildTool: string;
  buildToolVersion: string;
  /** AWS's eif_build default: "Generic Linux". */
  operatingSystem?: string;
  kernelVersion?: string;
  /** User metadata (AWS: `--metadata` JSON file); null when absent, as AWS writes. */
  custom?: unknown;
}

/** chrono `DateTime<Utc>::to_rfc3339()` for whole seconds: 1970-01-01T00:00:01+00:00. */
export function rfc3339FromEpoch(seconds: number): string {
  if (!Number.isSafeInteger(seconds) || seconds < 0 || seconds > 253402300799) {
    throw new EncumberError('UsageError', `sourceDateEpoch must be whole seconds in 0..253402300799, got ${seconds}`, {
      path: 'sourceDateEpoch',
      actual: seconds,
    });
  }
  return new Date(seconds * 1000).toISOString().replace(/\.000Z$/, '+00:00');
}

export function eifIdentityMetadata(input: EifIdentityInput): object {
  return {
    ImageName: input.imageName,
    ImageVersion: input.imageVersion ?? '1.0',
    BuildMetadata: {
      BuildTime: rfc3339FromEpoch(input.sourceDateEpoch),
      BuildTool: input.buildTool,
      BuildToolVersion: input.buildToolVersion,
      OperatingSystem: input.operatingSystem ?? 'Generic Linux',
      KernelVersion: input.kernelVersion ?? 'Unknown version',
    },
    DockerInfo: null,
    CustomMetadata: input.custom ?? null,
  };
}

/** Compact JSON in the object's own key order (JSON.stringify escapes as serde_json does for valid strings). */
export function encodeMetadata(metadata: object): Uint8Array {
  let text: string | undefined;
  try {
    text = JSON.stringify(metadata);
  } catch (cause) {
    throw new EncumberError('UsageError', `metadata is not JSON-serialisable: ${(cause as Error).message}`, { path: 'metadata', cause });
  }
  if (text === undefined || !text.startsWith('{')) {
    throw new EncumberError('UsageError', 'metadata must serialise to a JSON object', { path: 'metadata' });
  }
  return new TextEncoder().encode(text);
}
