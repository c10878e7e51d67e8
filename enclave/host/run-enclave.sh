#!/bin/sh
# On the parent EC2 instance: start the reproducible EIF in a Nitro Enclave, check that it runs as built
# (not in debug mode, with the PCRs of build/out/manifest.json), then run the host side of the vsock
# bridges (enclave/vsock/host-side.sh) in the foreground. See docs/deploy-nitro.md.
#
#   enclave/host/run-enclave.sh                       # build/out/encumber.eif, 2 CPUs, 2048 MiB, CID 16
#   EIF=/path/encumber.eif MEMORY_MIB=4096 CPU_COUNT=4 ENCLAVE_CID=20 enclave/host/run-enclave.sh
#
#   EIF          the image (default build/out/encumber.eif, from `npm run build:image`)
#   MANIFEST     its manifest (default: manifest.json beside the EIF); its EIF PCRs are compared with
#                what nitro-cli reports, when jq is installed. EXPECT_PCRS=0 skips the comparison.
#   MEMORY_MIB   enclave memory, MiB (default 2048; at most what the allocator reserved)
#   CPU_COUNT    enclave vCPUs (default 2; whole cores)
#   ENCLAVE_CID  the enclave's vsock CID (default 16)
#   HOST_BRIDGES 1 (default): exec host-side.sh after the enclave is up; 0: only start the enclave
#   NITRO_CLI    nitro-cli to use (default nitro-cli); DRY_RUN=1 prints the commands instead
#
# There is no way to pass --debug-mode through this script, on purpose: a debug enclave attests all-zero
# PCRs and verifiers refuse it. Debug by hand with nitro-cli if you must, and never publish its output.
# Any further arguments go to host-side.sh (its environment variables apply too: OUTBOUND, HTTP_PORT, ...).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)

EIF=${EIF:-$repo/build/out/encumber.eif}
MANIFEST=${MANIFEST:-$(dirname "$EIF")/manifest.json}
MEMORY_MIB=${MEMORY_MIB:-2048}
CPU_COUNT=${CPU_COUNT:-2}
ENCLAVE_CID=${ENCLAVE_CID:-16}
HOST_BRIDGES=${HOST_BRIDGES:-1}
EXPECT_PCRS=${EXPECT_PCRS:-1}
NITRO_CLI=${NITRO_CLI:-nitro-cli}
HOST_SIDE=${HOST_SIDE:-$repo/enclave/vsock/host-side.sh}

log() { echo "run-enclave: $*" >&2; }
run() {
  if [ "${DRY_RUN:-0}" = 1 ]; then echo "$*"; else "$@"; fi
}

for a in "$@"; do
  case "$a" in --debug-mode|--debug*) log "refusing $a: a debug enclave attests zero PCRs (docs/deploy-nitro.md, step 4)"; exit 2 ;; esac
done
case "$MEMORY_MIB$CPU_COUNT$ENCLAVE_CID" in *[!0-9]*) log "MEMORY_MIB, CPU_COUNT and ENCLAVE_CID must be numbers"; exit 2 ;; esac
if [ "${DRY_RUN:-0}" != 1 ] && [ ! -f "$EIF" ]; then
  log "no $EIF: build it with npm run build:image"
  exit 2
fi

run "$NITRO_CLI" run-enclave --eif-path "$EIF" --memory "$MEMORY_MIB" --cpu-count "$CPU_COUNT" --enclave-cid "$ENCLAVE_CID"

if [ "${DRY_RUN:-0}" != 1 ] && command -v jq >/dev/null 2>&1; then
  desc=$("$NITRO_CLI" describe-enclaves)
  flags=$(echo "$desc" | jq -r --argjson cid "$ENCLAVE_CID" '.[] | select(.EnclaveCID == $cid) | .Flags')
  if [ "$flags" != NONE ]; then
    id=$(echo "$desc" | jq -r --argjson cid "$ENCLAVE_CID" '.[] | select(.EnclaveCID == $cid) | .EnclaveID')
    log "the enclave with CID $ENCLAVE_CID reports Flags=$flags (expected NONE); terminating $id"
    [ -n "$id" ] && "$NITRO_CLI" terminate-enclave --enclave-id "$id" >/dev/null 2>&1
    exit 1
  fi
  if [ "$EXPECT_PCRS" = 1 ] && [ -f "$MANIFEST" ]; then
    for i in 0 1 2; do
      want=$(jq -r ".eif.pcrs.PCR$i" "$MANIFEST")
      got=$(echo "$desc" | jq -r --argjson cid "$ENCLAVE_CID" ".[] | select(.EnclaveCID == \$cid) | .Measurements.PCR$i")
      if [ "$want" != "$got" ]; then
        log "PCR$i of the running enclave is $got, not $want from $MANIFEST"
        exit 1
      fi
    done
    log "PCR0/1/2 match $MANIFEST"
  fi
fi

[ "$HOST_BRIDGES" = 1 ] || exit 0
export ENCLAVE_CID
if [ "${DRY_RUN:-0}" = 1 ]; then
  DRY_RUN=1 exec "$HOST_SIDE" "$@"
fi
log "enclave CID $ENCLAVE_CID up; starting the host bridges ($HOST_SIDE)"
exec "$HOST_SIDE" "$@"
