/**
 * Member keys (held by org members on their own machines, never by the
 * enclave). A key file is JSON with the private key in hex; the CLI writes it
 * with mode 0600. An adapter makes it a signer for @did-plc/lib.
 */
import { z } from 'zod';
import { EncumberError } from '../errors.ts';
import { fromHex, toHex } from '../crypto/encoding.ts';
import { assertK256PrivateKey, generateK256PrivateKey, k256DidKey, signK256 } from '../crypto/k256-signer.ts';

export const MEMBER_KEY_TYPE = 'dev.encumber.memberKey';

const keyFileSchema = z.strictObject({
  $type: z.literal(MEMBER_KEY_TYPE),
  curve: z.literal('k256'),
  did: z.string(),
  privateKeyHex: z.string().regex(/^[0-9a-f]{64}$/),
});

export interface MemberKey {
  curve: 'k256';
  /** Public did:key. */
  did: string;
  sign(message: Uint8Array): Uint8Array;
  /** The key file's JSON text (contains the private key: write it 0600). */
  toKeyFile(): string;
}

function memberKeyFrom(priv: Uint8Array): MemberKey {
  assertK256PrivateKey(priv);
  const did = k256DidKey(priv);
  return {
    curve: 'k256',
    did,
    sign: (message) => signK256(priv, message),
    toKeyFile: () => JSON.stringify({ $type: MEMBER_KEY_TYPE, curve: 'k256', did, privateKeyHex: toHex(priv) }, null, 2) + '\n',
  };
}

export function generateMemberKey(): MemberKey {
  return memberKeyFrom(generateK256PrivateKey());
}

export function memberKeyFromPrivateKey(priv: Uint8Array): MemberKey {
  return memberKeyFrom(priv);
}

export function parseMemberKeyFile(text: string): MemberKey {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new EncumberError('UsageError', 'key file is not JSON');
  }
  const parsed = keyFileSchema.safeParse(value);
  if (!parsed.success) throw new EncumberError('UsageError', `not an encumber member key file: ${parsed.error.issues[0]?.message}`);
  const key = memberKeyFrom(fromHex(parsed.data.privateKeyHex));
  if (key.did !== parsed.data.did) throw new EncumberError('UsageError', 'key file did does not match its private key');
  return key;
}

/** The `Keypair` shape @did-plc/lib signs with. */
export function plcSigner(key: MemberKey) {
  return {
    jwtAlg: 'ES256K',
    did: () => key.did,
    sign: async (msg: Uint8Array) => key.sign(msg),
  };
}
