/**
 * The Nitro platform's I/O edge: the NSM device (an ioctl through koffi) and
 * the attestor on top of the NsmTransport seam. Wiring, in the composition root:
 *
 *   nitroAttestor(openNsmDevice({ path: '/dev/nsm' }))
 */
export { nitroAttestor, nsmAttest, type NsmAttestationInput } from './attestor.ts';
export { openNsmDevice, NSM_DEVICE, type NsmDevice, type NsmDeviceOptions } from './device.ts';
export { nsmCall, type NsmTransport } from './transport.ts';
export { NSM_IOCTL_REQUEST, NSM_MESSAGE_BYTES, encodeNsmMessage, decodeNsmMessage, ioc, iowr, type NsmMessage } from './ioctl.ts';
export { loadLibc, type Libc, type IoctlResult } from './libc.ts';
