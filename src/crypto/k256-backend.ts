/**
 * The seam between the pure verification rules and a native K-256 engine.
 *
 * verify.ts applies the form rules (64 bytes, 1 ≤ r,s < n, low-S) itself and
 * hands only the ECDSA equation to a backend. None is installed by default, so
 * this module and everything that imports it stay pure and browser-safe (the
 * page uses noble). A Node edge (the composition root, the CLI) installs the
 * libsecp256k1 backend explicitly (./k256-libsecp256k1.ts), as one would
 * register a provider: the choice is visible where the process is put together.
 */
export interface K256Backend {
  /** Shown in errors and diagnostics, e.g. "libsecp256k1". */
  readonly name: string;
  /**
   * The ECDSA equation over SHA-256(`message`), for a compact r‖s that already
   * passed the form rules and a 33-byte compressed point. False for a key the
   * engine cannot parse; never throws on bad input.
   */
  verify(sig: Uint8Array, message: Uint8Array, compressedKey: Uint8Array): boolean;
  /** The same over a given 32-byte digest. */
  verifyDigest(sig: Uint8Array, digest: Uint8Array, compressedKey: Uint8Array): boolean;
}

let installed: K256Backend | undefined;

/** Install (or, with undefined, remove) the engine k256 verification uses. Returns the previous one. */
export function installK256Backend(backend: K256Backend | undefined): K256Backend | undefined {
  const previous = installed;
  installed = backend;
  return previous;
}

/** The installed engine, if any. */
export function k256Backend(): K256Backend | undefined {
  return installed;
}
