#!/bin/sh
# Inside the enclave, which has no network but vsock (see docs/deploy-nitro.md).
#
#   inbound   vsock :8080 (from the host bridge)  ->  127.0.0.1:8080, where `encumber serve` listens
#   outbound  127.0.0.1:443 (plc.directory, via /etc/hosts)  ->  vsock 3:8001  ->  the host's vsock-proxy
#   join      127.0.0.1:8002  ->  vsock 3:8002  ->  the host's join relay  ->  the instance handing over the key
#             (only when BRIDGES names it: /init adds it when the host's boot document asks for a join, whose
#             URL is then http://127.0.0.1:8002; the hand-off is attested both ways, so the relay carries
#             nothing the host could use)
#
# The program's HTTPS client connects to https://plc.directory as usual; /etc/hosts
# sends it to 127.0.0.1:443, and from there the TLS bytes travel to the host
# unopened. TLS ends inside the enclave, against Node's built-in CA store: the
# host can delay or drop the connection, never read or alter it.
#
#   enclave-side.sh [-- PROGRAM ARGS...]     e.g.  enclave-side.sh node /app/encumber-enclave.mjs serve --platform nitro
#
# Every address can be overridden (the tests replace the vsock ends with UNIX
# sockets and keep the rest); DRY_RUN=1 prints the relays instead of running them.
set -eu
. "$(dirname "$0")/lib.sh"

BRIDGES=${BRIDGES:-inbound outbound}
HTTP_VSOCK_PORT=${HTTP_VSOCK_PORT:-8080}
SERVE_PORT=${SERVE_PORT:-8080}
PARENT_CID=${PARENT_CID:-3}
PROXY_VSOCK_PORT=${PROXY_VSOCK_PORT:-8001}
DIRECTORY_HOST=${DIRECTORY_HOST:-plc.directory}
DIRECTORY_LOCAL_PORT=${DIRECTORY_LOCAL_PORT:-443}
NET_SETUP=${NET_SETUP:-1}
JOIN_LOCAL_PORT=${JOIN_LOCAL_PORT:-8002}
JOIN_VSOCK_PORT=${JOIN_VSOCK_PORT:-8002}

FROM_HOST=${FROM_HOST:-VSOCK-LISTEN:$HTTP_VSOCK_PORT,fork,reuseaddr}
TO_SERVER=${TO_SERVER:-TCP:127.0.0.1:$SERVE_PORT}
FROM_PROGRAM=${FROM_PROGRAM:-TCP-LISTEN:$DIRECTORY_LOCAL_PORT,bind=127.0.0.1,fork,reuseaddr}
TO_HOST=${TO_HOST:-VSOCK-CONNECT:$PARENT_CID:$PROXY_VSOCK_PORT}
FROM_JOINER=${FROM_JOINER:-TCP-LISTEN:$JOIN_LOCAL_PORT,bind=127.0.0.1,fork,reuseaddr}
TO_JOIN_RELAY=${TO_JOIN_RELAY:-VSOCK-CONNECT:$PARENT_CID:$JOIN_VSOCK_PORT}

[ "${1:-}" = "--" ] && shift

if [ "$NET_SETUP" = 1 ] && [ "${DRY_RUN:-0}" != 1 ]; then
  # An enclave boots with loopback down.
  ip addr add 127.0.0.1/8 dev lo 2>/dev/null || true
  ip link set dev lo up
  # The directory's name resolves to the local end of the outbound bridge.
  grep -qE "^127\.0\.0\.1[[:space:]]+$DIRECTORY_HOST\$" /etc/hosts 2>/dev/null || echo "127.0.0.1 $DIRECTORY_HOST" >>/etc/hosts
fi

if wants inbound; then bridge inbound "$FROM_HOST" "$TO_SERVER"; fi
if wants outbound; then bridge outbound "$FROM_PROGRAM" "$TO_HOST"; fi
if wants join; then bridge join "$FROM_JOINER" "$TO_JOIN_RELAY"; fi
run_then_wait "$@"
