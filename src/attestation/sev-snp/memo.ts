/**
 * Pure memos for the SNP chain. A parsed certificate depends only on its DER,
 * and "issuer X signed certificate Y" only on the two DERs, so both are
 * remembered under the SHA-256 of those bytes. Nothing time-dependent is
 * cached (validity is checked on every call), only successes are stored (a
 * flood of bad certificates cannot evict the good ones for free), and both
 * maps are bounded (oldest entry out first).
 *
 * Why: the ARK, ASK and a server's VCEK recur in every report, and three
 * RSA-4096 verifications plus three certificate parses cost more than the
 * rest of the verification together (see bench/snp-verify.ts).
 */
import { fingerprint } from '../bytes.ts';
import { parseSnpCertificate, type CertPosition, type SnpCertificate } from './certificate.ts';
import { verifyRsaPss } from './webcrypto.ts';

class Bounded<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly limit: number) {}
  get(key: string): V | undefined {
    return this.map.get(key);
  }
  set(key: string, value: V): void {
    if (this.map.size >= this.limit && !this.map.has(key)) this.map.delete(this.map.keys().next().value!);
    this.map.set(key, value);
  }
  clear(): void {
    this.map.clear();
  }
}

const parsed = new Bounded<SnpCertificate>(64);
const signedBy = new Bounded<true>(256);

/** parseSnpCertificate, remembered by the DER's SHA-256. */
export function parseSnpCertificateMemo(der: Uint8Array, where: CertPosition): SnpCertificate {
  const key = fingerprint(der);
  const hit = parsed.get(key);
  if (hit) return hit;
  const cert = parseSnpCertificate(der, where);
  parsed.set(key, cert);
  return cert;
}

/** Does `issuer`'s RSA key verify `cert`'s signature? Remembered when it does. */
export async function signedByMemo(cert: SnpCertificate, issuer: SnpCertificate): Promise<boolean> {
  if (issuer.key.type !== 'rsa') return false;
  const key = `${issuer.sha256}>${cert.sha256}`;
  if (signedBy.get(key)) return true;
  const ok = await verifyRsaPss(issuer.key.spki, cert.signature, cert.tbs);
  if (ok) signedBy.set(key, true);
  return ok;
}

/** Forget everything (benchmarks measure the cold path; tests isolate cases). */
export function clearSnpVerifyMemo(): void {
  parsed.clear();
  signedBy.clear();
}
