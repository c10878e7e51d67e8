/**
 * The AWS Nitro Enclaves Root-G1 certificate, pinned by the SHA-256 of its DER.
 * Published by AWS (CN=aws.nitro-enclaves, OU=AWS, O=Amazon, C=US; P-384;
 * valid 2019-10-28T13:28:05Z .. 2049-10-28T14:28:05Z). A test checks it is
 * byte-identical to ../shared/fixtures/nitro/aws-nitro-root-g1.pem and that
 * its fingerprint is the pin below. Verifiers take trust roots as an argument;
 * this constant is what the CLI and page pass by default for `nitro`.
 */
import { pemCertificates, fingerprint } from '../bytes.ts';

export const AWS_NITRO_ROOT_G1_SHA256 = '641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b';

export const AWS_NITRO_ROOT_G1_PEM = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;

/** The root's DER, checked against the pin once at load (a corrupted constant must not verify anything). */
export const AWS_NITRO_ROOT_G1_DER: Uint8Array = (() => {
  const [der] = pemCertificates(AWS_NITRO_ROOT_G1_PEM);
  if (!der || fingerprint(der) !== AWS_NITRO_ROOT_G1_SHA256) throw new Error('AWS Nitro root G1 constant does not match its pin');
  return der;
})();
