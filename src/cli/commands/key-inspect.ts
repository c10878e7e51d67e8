/** `encumber key inspect DIDKEY`: curve and compressed point. */
import { parseDidKey } from '../../crypto/did-key.ts';
import { toHex } from '../../crypto/encoding.ts';
import { EncumberError } from '../../errors.ts';
import { EXIT_INVALID, EXIT_OK, type CliIo } from '../io.ts';

export function keyInspect(didKey: string, flags: { json?: boolean }, io: CliIo): number {
  try {
    const key = parseDidKey(didKey);
    const info = { did: key.did, curve: key.curve, compressed: toHex(key.compressed), normalised: key.did !== didKey };
    if (flags.json) io.out(JSON.stringify(info));
    else {
      io.out(`curve: ${info.curve} (${key.curve === 'k256' ? 'secp256k1' : 'P-256'})`);
      io.out(`compressed: ${info.compressed}`);
      if (info.normalised) io.out(`canonical did:key: ${info.did}`);
    }
    return EXIT_OK;
  } catch (e) {
    if (!(e instanceof EncumberError)) throw e;
    if (flags.json) io.out(JSON.stringify({ error: { code: e.code, message: e.message } }));
    else io.err(`invalid did:key: ${e.code}: ${e.message}`);
    return EXIT_INVALID;
  }
}
