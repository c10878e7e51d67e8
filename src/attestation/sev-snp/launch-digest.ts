/**
 * The SNP launch digest as the AMD secure processor extends it on each
 * SNP_LAUNCH_UPDATE (SEV-SNP ABI spec, PAGE_INFO structure):
 *
 *   PAGE_INFO = digest_cur(48) ‖ contents(48) ‖ length u16 = 0x70 ‖ page_type u8 ‖ imi_page u8
 *               ‖ vmpl3_perms u8 ‖ vmpl2_perms u8 ‖ vmpl1_perms u8 ‖ reserved u8 ‖ gpa u64
 *   digest_new = SHA-384(PAGE_INFO)
 *
 * contents is SHA-384 of the page for NORMAL and VMSA pages and 48 zero bytes
 * for the others. All integers little-endian; the digest starts at 48 zeros.
 */
import { sha384 } from '@noble/hashes/sha2.js';
import { PAGE_SIZE } from './ovmf.ts';
import { SnpMeasureError } from './measure-errors.ts';

export const LAUNCH_DIGEST_BYTES = 48;
export const PAGE_INFO_BYTES = 0x70;

export const PAGE_TYPE = {
  NORMAL: 0x01,
  VMSA: 0x02,
  ZERO: 0x03,
  UNMEASURED: 0x04,
  SECRETS: 0x05,
  CPUID: 0x06,
} as const;
export type PageType = (typeof PAGE_TYPE)[keyof typeof PAGE_TYPE];

/** The GPA a VMSA page is measured at: (u64)-1, page-aligned, bits above 51 cleared. */
export const VMSA_GPA = 0xffff_ffff_f000;

const ZEROS = new Uint8Array(LAUNCH_DIGEST_BYTES);

export class LaunchDigest {
  /** One PAGE_INFO buffer, rewritten per page: no allocation per update but the hash. */
  private readonly info = new Uint8Array(PAGE_INFO_BYTES);
  private readonly view = new DataView(this.info.buffer);

  constructor(seed: Uint8Array = ZEROS) {
    if (seed.length !== LAUNCH_DIGEST_BYTES) throw new SnpMeasureError('InvalidMeasureInput', `a launch digest is ${LAUNCH_DIGEST_BYTES} bytes, got ${seed.length}`, LAUNCH_DIGEST_BYTES, seed.length);
    this.info.set(seed, 0);
    this.view.setUint16(96, PAGE_INFO_BYTES, true);
  }

  /** The current digest (a copy). */
  digest(): Uint8Array {
    return this.info.slice(0, LAUNCH_DIGEST_BYTES);
  }

  /** One SNP_LAUNCH_UPDATE of one page. */
  update(type: PageType, gpa: number, contents: Uint8Array): void {
    if (!Number.isSafeInteger(gpa) || gpa < 0 || gpa % PAGE_SIZE !== 0) throw new SnpMeasureError('InvalidMeasureInput', `GPA ${gpa} is not a page address`);
    this.info.set(contents, 48);
    this.info[98] = type;
    this.info[99] = 0; // imi_page
    this.view.setUint32(100, 0, true); // vmpl3, vmpl2, vmpl1 permissions, reserved
    this.view.setUint32(104, gpa % 0x1_0000_0000, true);
    this.view.setUint32(108, Math.floor(gpa / 0x1_0000_0000), true);
    this.info.set(sha384(this.info), 0);
  }

  /** NORMAL pages: data (whole pages) loaded at gpa, each page hashed in place (no copies). */
  normalPages(gpa: number, data: Uint8Array): void {
    if (data.length % PAGE_SIZE !== 0) throw new SnpMeasureError('InvalidMeasureInput', `${data.length} bytes are not whole pages`);
    for (let off = 0; off < data.length; off += PAGE_SIZE) this.update(PAGE_TYPE.NORMAL, gpa + off, sha384(data.subarray(off, off + PAGE_SIZE)));
  }

  zeroPages(gpa: number, length: number): void {
    if (length % PAGE_SIZE !== 0) throw new SnpMeasureError('InvalidMeasureInput', `${length} bytes are not whole pages`);
    for (let off = 0; off < length; off += PAGE_SIZE) this.update(PAGE_TYPE.ZERO, gpa + off, ZEROS);
  }

  secretsPage(gpa: number): void {
    this.update(PAGE_TYPE.SECRETS, gpa, ZEROS);
  }

  cpuidPage(gpa: number): void {
    this.update(PAGE_TYPE.CPUID, gpa, ZEROS);
  }

  vmsaPage(page: Uint8Array): void {
    if (page.length !== PAGE_SIZE) throw new SnpMeasureError('InvalidMeasureInput', `a VMSA page is ${PAGE_SIZE} bytes, got ${page.length}`);
    this.update(PAGE_TYPE.VMSA, VMSA_GPA, sha384(page));
  }
}
