#!/bin/sh
# SEV-SNP launch example: direct boot of the reproducible image (build/out/bzImage + initramfs.cpio.gz)
# as a confidential guest under QEMU/KVM, with the kernel, initrd and command line hashed into the launch
# measurement (kernel-hashes=on) and `encumber.platform=sev-snp` on the command line. docs/deploy-sev-snp.md
# has the deployment; this is the command line, written down so that what is measured is explicit.
#
# NOT RUN HERE: it needs an AMD EPYC host (Milan or later) with SEV-SNP enabled in firmware and in the host
# kernel (kvm_amd sev_snp=1), QEMU >= 9.1 (upstream sev-snp-guest), and an OVMF built for it. CI only checks
# its syntax and prints it (DRY_RUN=1).
#
#   OVMF=/usr/share/ovmf/AMDSEV.fd enclave/snp/launch.sh
#
#   OVMF        firmware built from edk2's OvmfPkg/AmdSev/AmdSevX64.dsc: stateless (no NVRAM, which would not
#               be measured) and it checks the kernel, initrd and cmdline against the hashes QEMU put in the
#               measured hash table. Required; the launch digest depends on its exact bytes.
#   OUT         build output (default build/out)
#   CMDLINE     default: build/out/cmdline.txt + " encumber.platform=sev-snp" (measured: change it, change the digest)
#   VCPUS       default 2; MEMORY_MIB default 2048 (the vCPU count and CPU model enter the digest through the VMSAs)
#   CPU_MODEL   default EPYC-v4
#   CBITPOS     C-bit position, 51 on Milan/Genoa (cpuid 0x8000001f[ebx] & 0x3f)
#   POLICY      SNP guest policy, default 0x30000: SMT allowed, reserved bit 17 set, debug NOT allowed
#   HOST_PORT   host port forwarded to the guest's 8080 (default 8080; user-mode networking on 127.0.0.1)
#   QEMU        default qemu-system-x86_64; DRY_RUN=1 prints the command instead
#
# The expected launch digest (what the SNP report's MEASUREMENT must equal) is a function of OVMF, the
# kernel/initrd/cmdline hashes, VCPUS, CPU_MODEL and POLICY; e.g. with virtee's sev-snp-measure:
#   sev-snp-measure --mode snp --vcpus 2 --vcpu-type EPYC-v4 --ovmf "$OVMF" \
#     --kernel build/out/bzImage --initrd build/out/initramfs.cpio.gz --append "$CMDLINE"
#
# The guest kernel must have the SNP guest driver and configfs-tsm (Linux >= 6.7: CONFIG_SEV_GUEST,
# CONFIG_TSM_REPORTS): Debian bookworm's 6.1 test kernel, which build:image pins for QEMU tests, has no
# configfs-tsm, so a real SNP image needs a newer pinned kernel (docs/deploy-sev-snp.md, prerequisites).
# The NIC is e1000 because that is the driver the image loads; its DMA goes through the guest's bounce
# buffers (SWIOTLB), unencrypted: the API traffic is public data and co-signed requests, and the PLC
# directory traffic is TLS that ends inside the guest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

OUT=${OUT:-$repo/build/out}
QEMU=${QEMU:-qemu-system-x86_64}
VCPUS=${VCPUS:-2}
MEMORY_MIB=${MEMORY_MIB:-2048}
CPU_MODEL=${CPU_MODEL:-EPYC-v4}
CBITPOS=${CBITPOS:-51}
POLICY=${POLICY:-0x30000}
HOST_PORT=${HOST_PORT:-8080}
if [ -z "${CMDLINE:-}" ]; then
  if [ -f "$OUT/cmdline.txt" ]; then CMDLINE="$(cat "$OUT/cmdline.txt") encumber.platform=sev-snp"
  else CMDLINE="console=ttyS0 panic=-1 loglevel=4 encumber.platform=sev-snp"; fi
fi
if [ -z "${OVMF:-}" ]; then
  echo "launch.sh: set OVMF to an AmdSev OVMF build (edk2 OvmfPkg/AmdSev/AmdSevX64.dsc)" >&2
  [ "${DRY_RUN:-0}" = 1 ] || exit 2
  OVMF='$OVMF'
fi
case "$CMDLINE" in *encumber.platform=sev-snp*) ;; *) echo "launch.sh: CMDLINE must select encumber.platform=sev-snp" >&2; exit 2 ;; esac

set -- "$QEMU" \
  -enable-kvm \
  -cpu "$CPU_MODEL" \
  -smp "$VCPUS" \
  -m "${MEMORY_MIB}M" \
  -machine q35,confidential-guest-support=sev0,memory-backend=ram0,vmport=off \
  -object "memory-backend-memfd,id=ram0,size=${MEMORY_MIB}M,share=true,prealloc=false" \
  -object "sev-snp-guest,id=sev0,policy=$POLICY,cbitpos=$CBITPOS,reduced-phys-bits=1,kernel-hashes=on" \
  -bios "$OVMF" \
  -kernel "$OUT/bzImage" \
  -initrd "$OUT/initramfs.cpio.gz" \
  -append "$CMDLINE" \
  -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$HOST_PORT-:8080" \
  -device e1000,netdev=net0 \
  -nographic -no-reboot

if [ "${DRY_RUN:-0}" = 1 ]; then
  for a in "$@"; do printf '%s\n' "$a"; done
  exit 0
fi
for f in "$OUT/bzImage" "$OUT/initramfs.cpio.gz" "$OVMF"; do
  [ -f "$f" ] || { echo "launch.sh: missing $f (npm run build:image; OVMF)" >&2; exit 2; }
done
exec "$@"
