/**
 * The AMD Root Keys (ARK) a verifier pins by default: SHA-256 of each ARK's
 * DER, one per product line. They match attestation/trust-roots.json ("sev-snp")
 * and ../shared/fixtures/sev-snp/roots/<product>/ark.der; a test keeps the three
 * in agreement. The certificates themselves travel with the evidence (the
 * SNP certificate table, or AMD KDS `cert_chain`), so only the pins live here.
 *
 * The ASK and ASVK fingerprints are listed for reference (logs, docs); they
 * are not pinned: an intermediate is trusted because the pinned ARK signed it.
 */
import type { SnpProduct } from './products.ts';

export interface SnpRootPin {
  product: SnpProduct;
  /** The ARK's subject CN: 'ARK-<product>'. */
  subjectCn: string;
  /** SHA-256 of the ARK certificate DER, lowercase hex: the pin. */
  arkSha256: string;
  askSha256: string;
  asvkSha256: string;
  /** ARK validity, ISO 8601. */
  validity: readonly [string, string];
}

export const SNP_ROOT_PINS: readonly SnpRootPin[] = [
  {
    product: 'Milan',
    subjectCn: 'ARK-Milan',
    arkSha256: '69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd',
    askSha256: '67d303bd3905fd38db8b20e0793699870e7fa612eaad5dec358293fd8c0bac1b',
    asvkSha256: 'c5e081f59b7efab1fe2f8b505e159704e72f29cab7ef7cf628a05a42439082f5',
    validity: ['2020-10-22T17:23:05Z', '2045-10-22T17:23:05Z'],
  },
  {
    product: 'Genoa',
    subjectCn: 'ARK-Genoa',
    arkSha256: '4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1',
    askSha256: '5464738c1546aed5f2cecf1dc98c5c960a92e8913238a61711bc90ec6e828521',
    asvkSha256: '197e610743a917d6b9bb982a5a9226ccc0a15b611be0619e626aca9151457372',
    validity: ['2022-01-26T15:34:37Z', '2047-01-26T15:34:37Z'],
  },
  {
    product: 'Turin',
    subjectCn: 'ARK-Turin',
    arkSha256: '1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a',
    askSha256: '5b77ef5fe7a7a004fd9032668fba9d0fda22f88c4442069a479636a6ae3b3185',
    asvkSha256: '104e10a8bd060a3c20a434261a57d0588fd65a88915b4f65b08bdecaf8df1a3c',
    validity: ['2023-05-15T20:03:12Z', '2048-05-15T20:03:12Z'],
  },
];

/** The default `trustedArks`: the three pinned ARK fingerprints. */
export const SNP_ARK_SHA256: readonly string[] = SNP_ROOT_PINS.map((p) => p.arkSha256);
