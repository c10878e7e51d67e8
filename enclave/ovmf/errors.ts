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
  constructor(
    readonly code: OvmfErrorCode,
    message: string,
    readonly expected?: string,
    readonly actual?: string,
  ) {
    super(expected !== undefined || actual !== undefined ? `${message} (expected ${expected ?? '?'}, got ${actual ?? '?'})` : message);
    this.name = 'OvmfError';
  }
}
