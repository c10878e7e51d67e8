#!/bin/sh
# SEV-SNP launch: direct boot of the reproducible image's SEV-SNP set (build/out: OVMF.fd, bzImage,
# initramfs.cpio.gz, cmdline-sev-snp.txt) as a confidential guest under QEMU/KVM, with the kernel, initrd and
# command line hashed into the launch measurement (kernel-hashes=on). The parameters here are exactly the ones
# the published measurements assume (attestation/measurements.json "sev-snp": one entry per vCPU count, vCPU
# model and guest features), so the guest's report MEASUREMENT equals one of them; docs/deploy-sev-snp.md has
# the deployment and how a verifier reproduces the number.
#
# NOT RUN HERE: it needs an AMD EPYC host (Milan or later) with SEV-SNP enabled in firmware and in the host
# kernel (kvm_amd sev_snp=1) and QEMU >= 9.1 (upstream sev-snp-guest). CI checks the command it builds (DRY_RUN=1).
#
#   OUT          build output (default build/out; npm run build:image)
#   VCPUS        1, 2 (default) or 4 — published configurations; the count enters the digest (one VMSA per vCPU)
#   CPU_MODEL    EPYC-v4 (default), EPYC-Milan, EPYC-Genoa or EPYC-Turin — its CPUID signature enters the digest
#   MEMORY_MIB   default 2048 (not measured)
#   CBITPOS      C-bit position, 51 on Milan/Genoa/Turin (cpuid 0x8000001f[ebx] & 0x3f); not measured
#   POLICY       SNP guest policy, default 0x30000: SMT allowed, reserved bit 17 set, debug NOT allowed (reported, not
#                part of the digest; verifiers refuse debug)
#   HOST_PORT    host port forwarded to the guest's 8080 (default 8080; user-mode networking on 127.0.0.1)
#   POLICY_PORT  host port forwarded to the guest's 9001, where /init takes the organisation's policy (default 9001)
#   BOOT_DOCUMENT  a boot document file (JSON, e.g. {"join":"http://10.0.2.2:8080"}; docs/key-handoff.md "Booted
#                images"): the DHCP lease announces it (boot file name encumber-boot:10.0.2.100:9002) and QEMU serves
#                it there; not measured. Unset: no boot document, the boot is as before
#   QEMU         default qemu-system-x86_64; DRY_RUN=1 prints the command instead
#   OVMF, CMDLINE  override the firmware / command line (the measurement then differs from the published one)
#
# Guest features: QEMU's default for sev-snp-guest (SEV_FEATURES = 0x1, SNPActive), the published value.
# The NIC is e1000, built into the guest kernel; its DMA goes through the guest's bounce buffers (SWIOTLB),
# unencrypted: the API traffic is public data and co-signed requests, and the PLC directory traffic is TLS that
# ends inside the guest.
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
POLICY_PORT=${POLICY_PORT:-9001}
OVMF=${OVMF:-$OUT/OVMF.fd}
if [ -z "${CMDLINE:-}" ]; then
  [ -f "$OUT/cmdline-sev-snp.txt" ] || { echo "launch.sh: no $OUT/cmdline-sev-snp.txt (npm run build:image)" >&2; exit 2; }
  CMDLINE=$(cat "$OUT/cmdline-sev-snp.txt")
fi
case "$CMDLINE" in *encumber.platform=sev-snp*) ;; *) echo "launch.sh: CMDLINE must select encumber.platform=sev-snp" >&2; exit 2 ;; esac
case "$VCPUS" in 1|2|4) ;; *) echo "launch.sh: VCPUS=$VCPUS is not a published configuration (1, 2 or 4): no published measurement will match" >&2; exit 2 ;; esac
case "$CPU_MODEL" in EPYC-v4|EPYC-Milan|EPYC-Genoa|EPYC-Turin) ;; *) echo "launch.sh: CPU_MODEL=$CPU_MODEL is not a published configuration (EPYC-v4, EPYC-Milan, EPYC-Genoa, EPYC-Turin)" >&2; exit 2 ;; esac
NETDEV="user,id=net0,hostfwd=tcp:127.0.0.1:$HOST_PORT-:8080,hostfwd=tcp:127.0.0.1:$POLICY_PORT-:9001"
if [ -n "${BOOT_DOCUMENT:-}" ]; then
  # The path goes into QEMU's option string: no commas (its separator) and no white space.
  case "$BOOT_DOCUMENT" in *,*|*' '*|*'	'*) echo "launch.sh: BOOT_DOCUMENT must be a path without commas or white space" >&2; exit 2 ;; esac
  [ -f "$BOOT_DOCUMENT" ] || { echo "launch.sh: BOOT_DOCUMENT $BOOT_DOCUMENT is not a file" >&2; exit 2; }
  NETDEV="$NETDEV,bootfile=encumber-boot:10.0.2.100:9002,guestfwd=tcp:10.0.2.100:9002-cmd:cat $BOOT_DOCUMENT"
fi

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
  -netdev "$NETDEV" \
  -device e1000,netdev=net0 \
  -nographic -no-reboot

if [ "${DRY_RUN:-0}" = 1 ]; then
  for a in "$@"; do printf '%s\n' "$a"; done
  exit 0
fi
for f in "$OUT/bzImage" "$OUT/initramfs.cpio.gz" "$OVMF"; do
  [ -f "$f" ] || { echo "launch.sh: missing $f (npm run build:image)" >&2; exit 2; }
done
exec "$@"
