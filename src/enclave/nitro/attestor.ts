/**
 * The Nitro attestor (DESIGN.md "Binding and attestation"): one NSM
 * Attestation request with public_key = the 33-byte compressed enclave key,
 * user_data = the binding CID bytes, nonce = the verifier's nonce; the
 * evidence is the document the NSM returns, unchanged.
 *
 * Before handing it out, the document is parsed (structure only; the chain is
 * the verifier's business) and must echo exactly what was asked: a device or
 * transport that answers with another document fails here, closed, rather
 * than at every verifier.
 */
import { bytesEqual } from '../../attestation/bytes.ts';
import { parseCoseSign1 } from '../../attestation/nitro/cose.ts';
import { parseAttestationDocument, type NitroDocument } from '../../attestation/nitro/document.ts';
import { NsmError } from '../../attestation/nitro/nsm/errors.ts';
import type { Attestor } from '../attestor.ts';
import { nsmCall, type NsmTransport } from './transport.ts';

export interface NsmAttestationInput {
  publicKey: Uint8Array | null;
  userData: Uint8Array | null;
  nonce: Uint8Array | null;
}

function parseDocument(document: Uint8Array): NitroDocument {
  try {
    return parseAttestationDocument(parseCoseSign1(document).payload);
  } catch (cause) {
    throw new NsmError('MalformedResponse', `the NSM's attestation document does not parse: ${(cause as Error)?.message ?? cause}`, { cause });
  }
}

/** Ask the NSM for a document over `input`; returns its bytes once it echoes `input`. */
export async function nsmAttest(transport: NsmTransport, input: NsmAttestationInput): Promise<Uint8Array> {
  const { document } = await nsmCall(transport, { type: 'Attestation', ...input });
  const parsed = parseDocument(document);
  for (const field of ['publicKey', 'userData', 'nonce'] as const) {
    const want = input[field];
    const got = parsed[field];
    if (want === null ? got !== null : got === null || !bytesEqual(got, want)) {
      throw new NsmError('UnexpectedResponse', `the NSM's attestation document does not carry the ${field} that was asked for`, {
        path: field,
        expected: want?.length ?? null,
        actual: got?.length ?? null,
      });
    }
  }
  return document;
}

/** The PCRs an EIF's measurement is published as. */
export const DESCRIBED_PCRS = [0, 1, 2] as const;

export function nitroAttestor(transport: NsmTransport): Attestor {
  return {
    platform: 'nitro',
    attest: (req) => nsmAttest(transport, { publicKey: req.publicKey, userData: req.bindingCid, nonce: req.nonce }),
    describeMeasurements: async () => {
      const out = [];
      for (const index of DESCRIBED_PCRS) out.push({ name: `PCR${index}`, value: (await nsmCall(transport, { type: 'DescribePCR', index })).data });
      return out;
    },
  };
}
