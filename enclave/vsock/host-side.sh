#!/bin/sh
# On the parent EC2 instance (see docs/deploy-nitro.md).
#
#   inbound   TCP :8080 (clients)  ->  vsock ENCLAVE_CID:8080  ->  the enclave's bridge
#   outbound  vsock :8001 (from the enclave)  ->  plc.directory:443, through AWS's vsock-proxy
#             whose allow-list (vsock-proxy.yaml) names that one host:port and nothing else
#   join      vsock :8002 (from a joining enclave)  ->  JOIN_TO (HOST:PORT of the instance handing over the
#             key, e.g. its parent's inbound port); only when BRIDGES names it (docs/deploy-nitro.md)
#
# The outbound bytes are the enclave's TLS session: this side relays ciphertext.
#
#   ENCLAVE_CID=16 host-side.sh
#   ENCLAVE_CID=$(nitro-cli describe-enclaves | jq -r '.[0].EnclaveCID') host-side.sh
#   ENCLAVE_CID=17 BRIDGES="inbound outbound join" JOIN_TO=10.0.0.5:8080 host-side.sh
#
# OUTBOUND=vsock-proxy (default) | socat (no allow-list; for tests) | none.
# Every address can be overridden (the tests replace the vsock ends with UNIX
# sockets); DRY_RUN=1 prints the relays instead of running them.
set -eu
. "$(dirname "$0")/lib.sh"

BRIDGES=${BRIDGES:-inbound outbound}
HTTP_PORT=${HTTP_PORT:-8080}
LISTEN_ADDR=${LISTEN_ADDR:-0.0.0.0}
ENCLAVE_HTTP_VSOCK_PORT=${ENCLAVE_HTTP_VSOCK_PORT:-8080}
PROXY_VSOCK_PORT=${PROXY_VSOCK_PORT:-8001}
JOIN_VSOCK_PORT=${JOIN_VSOCK_PORT:-8002}
DIRECTORY_HOST=${DIRECTORY_HOST:-plc.directory}
DIRECTORY_PORT=${DIRECTORY_PORT:-443}
OUTBOUND=${OUTBOUND:-vsock-proxy}
VSOCK_PROXY=${VSOCK_PROXY:-vsock-proxy}
VSOCK_PROXY_CONFIG=${VSOCK_PROXY_CONFIG:-$(cd "$(dirname "$0")" && pwd)/vsock-proxy.yaml}

FROM_CLIENTS=${FROM_CLIENTS:-TCP-LISTEN:$HTTP_PORT,bind=$LISTEN_ADDR,fork,reuseaddr}
if [ -z "${TO_ENCLAVE:-}" ]; then
  if wants inbound && [ -z "${ENCLAVE_CID:-}" ]; then log "set ENCLAVE_CID (nitro-cli describe-enclaves)"; exit 2; fi
  TO_ENCLAVE="VSOCK-CONNECT:${ENCLAVE_CID:-}:$ENCLAVE_HTTP_VSOCK_PORT"
fi
FROM_ENCLAVE=${FROM_ENCLAVE:-VSOCK-LISTEN:$PROXY_VSOCK_PORT,fork,reuseaddr}
TO_DIRECTORY=${TO_DIRECTORY:-TCP:$DIRECTORY_HOST:$DIRECTORY_PORT}
FROM_JOINER=${FROM_JOINER:-VSOCK-LISTEN:$JOIN_VSOCK_PORT,fork,reuseaddr}
if [ -z "${TO_SENDER:-}" ]; then
  if wants join && [ -z "${JOIN_TO:-}" ]; then log "set JOIN_TO (HOST:PORT of the instance handing over the key) for the join bridge"; exit 2; fi
  TO_SENDER="TCP:${JOIN_TO:-}"
fi

if wants inbound; then bridge inbound "$FROM_CLIENTS" "$TO_ENCLAVE"; fi
if wants outbound; then
  case "$OUTBOUND" in
    vsock-proxy)
      if [ "${DRY_RUN:-0}" = 1 ]; then
        echo "outbound: $VSOCK_PROXY $PROXY_VSOCK_PORT $DIRECTORY_HOST $DIRECTORY_PORT --config $VSOCK_PROXY_CONFIG"
      else
        "$VSOCK_PROXY" "$PROXY_VSOCK_PORT" "$DIRECTORY_HOST" "$DIRECTORY_PORT" --config "$VSOCK_PROXY_CONFIG" &
        BRIDGE_PIDS="$BRIDGE_PIDS $!"
        log "outbound: vsock-proxy :$PROXY_VSOCK_PORT -> $DIRECTORY_HOST:$DIRECTORY_PORT (allow-list $VSOCK_PROXY_CONFIG)"
      fi
      ;;
    socat) bridge outbound "$FROM_ENCLAVE" "$TO_DIRECTORY" ;;
    none) ;;
    *) log "OUTBOUND must be vsock-proxy, socat or none"; exit 2 ;;
  esac
fi
if wants join; then bridge join "$FROM_JOINER" "$TO_SENDER"; fi
run_then_wait "$@"
