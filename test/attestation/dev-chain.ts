/**
 * Build Nitro-shaped documents over arbitrary, correctly signed certificate
 * chains, so each chain rule can be broken on its own (real AWS documents
 * cannot be re-signed). Uses the dev issuer's certificate builder.
 */
import { p384 } from '@noble/curves/nist.js';
import { KeyUsageFlags, type Extension } from '@peculiar/asn1-x509';
import { encodeCbor } from '../../src/attestation/nitro/cbor.ts';
import { sigStructure } from '../../src/attestation/nitro/cose.ts';
import { buildCertificate, keyIdentifier, simpleName } from '../../src/attestation/dev/x509-build.ts';

export interface Key {
  secret: Uint8Array;
  point: Uint8Array;
}
export const newKey = (): Key => {
  const secret = p384.utils.randomSecretKey();
  return { secret, point: p384.getPublicKey(secret, false) };
};

export const T0 = new Date('2025-03-01T10:00:00.000Z');
const HOUR = 3600_000;

export interface CertOpts {
  name: string;
  issuerName?: string;
  key: Key;
  issuerKey?: Key;
  ca: { pathLen?: number } | false;
  keyUsage?: number;
  notBefore?: Date;
  notAfter?: Date;
  extra?: Extension[];
}

export function cert(o: CertOpts): Uint8Array {
  const issuerKey = o.issuerKey ?? o.key;
  return buildCertificate({
    subject: simpleName(o.name),
    issuer: simpleName(o.issuerName ?? o.name),
    notBefore: o.notBefore ?? new Date(T0.getTime() - HOUR),
    notAfter: o.notAfter ?? new Date(T0.getTime() + HOUR),
    publicKey: o.key.point,
    ca: o.ca,
    keyUsage: o.keyUsage ?? (o.ca ? KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign : KeyUsageFlags.digitalSignature),
    ...(o.issuerKey ? { authorityKeyId: keyIdentifier(o.issuerKey.point) } : {}),
    ...(o.extra ? { extraExtensions: o.extra } : {}),
    sign: (tbs) => p384.sign(tbs, issuerKey.secret, { prehash: true, format: 'der' }),
  });
}

export interface Assembly {
  cabundle: Uint8Array[];
  leaf: Uint8Array;
  /** The key that signs the COSE structure (normally the leaf's). */
  signer: Key;
  timestamp?: Date;
  pcr0?: Uint8Array;
}

export function assemble(a: Assembly): Uint8Array {
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 16; i++) pcrs.set(i, new Uint8Array(48).fill(i === 0 ? 0xaa : 0));
  if (a.pcr0) pcrs.set(0, a.pcr0);
  const payload = encodeCbor(
    new Map<string, unknown>([
      ['module_id', 'test-module'],
      ['digest', 'SHA384'],
      ['timestamp', BigInt((a.timestamp ?? T0).getTime())],
      ['pcrs', pcrs],
      ['certificate', a.leaf],
      ['cabundle', a.cabundle],
      ['public_key', null],
      ['user_data', null],
      ['nonce', null],
    ]),
  );
  const prot = encodeCbor(new Map([[1, -35]]));
  const sig = p384.sign(sigStructure(prot, payload), a.signer.secret, { prehash: true, format: 'compact' });
  return encodeCbor([prot, new Map(), payload, sig]);
}

/** root → leaf, both well-formed; override any part. */
export function simpleChain(over: { root?: Partial<CertOpts>; leaf?: Partial<CertOpts> } = {}) {
  const rootKey = newKey();
  const leafKey = newKey();
  const root = cert({ name: 'test root', key: rootKey, ca: {}, ...over.root });
  const leaf = cert({ name: 'test leaf', issuerName: 'test root', key: leafKey, issuerKey: rootKey, ca: false, ...over.leaf });
  return { root, leaf, rootKey, leafKey };
}
