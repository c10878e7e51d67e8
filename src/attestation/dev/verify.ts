/**
 * Verify a dev attestation document: the Nitro rules, with the dev root as the
 * only trust root (the caller must name it; there is no default), and the
 * result labelled platform 'dev'. The AWS root never validates a dev document
 * and the dev root never validates an AWS one.
 */
import type { NitroVerifyOptions } from '../nitro/options.ts';
import { verifyNitroShaped, type NitroVerdict } from '../nitro/verify.ts';

export interface DevVerifyOptions extends Omit<NitroVerifyOptions, 'trustRoots'> {
  /** The dev root certificate: DER or PEM. */
  devRoot: Uint8Array | string;
}

export function verifyDevDocument(bytes: Uint8Array, options: DevVerifyOptions): NitroVerdict {
  const { devRoot, ...rest } = options;
  return verifyNitroShaped(bytes, { ...rest, trustRoots: typeof devRoot === 'string' ? devRoot : [devRoot] }, 'dev');
}
