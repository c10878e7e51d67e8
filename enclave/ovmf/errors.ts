/** Errors of the OVMF build: the image's structure (a wrong build) kept apart from the build failing to run or to repeat. */
export type OvmfErrorCode =
  // the image is not an SNP direct-boot OVMF
  | 'NoFooterTable'
  | 'BadFooterTable'
  | 'NoSevMetadata'
  | 'BadSevMetadata'
  | 'NoKernelHashes'
  | 'WrongSize'
  // the build
  | 'BuildFailed'
  | 'PathLeak'
  | 'NotReproducible';

export class OvmfError extends Error {
  readonly code: OvmfErrorCode;
  readonly expected?: string;
  readonly actual?: string;
  constructor(code: OvmfErrorCode, message: string, expected?: string, actual?: string) {
    super(expected !== undefined || actual !== undefined ? `${message} (expected ${expected ?? '?'}, got ${actual ?? '?'})` : message);
    this.code = code;
    if (expected !== undefined) this.expected = expected;
    if (actual !== undefined) this.actual = actual;
    this.name = 'OvmfError';
  }
}
