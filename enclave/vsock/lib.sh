# Shared by host-side.sh and enclave-side.sh (POSIX sh: the enclave has busybox).
#
# bridge NAME FROM TO — one socat relay, FROM (a listening address) to TO,
# restarted if it ever exits. socat copies bytes and nothing else: TLS
# passes through it as ciphertext. With DRY_RUN=1 it only prints the command.

SOCAT=${SOCAT:-socat}
SOCAT_OPTS=${SOCAT_OPTS:-}
BRIDGE_PIDS=""

log() { echo "encumber-vsock: $*" >&2; }

bridge() {
  _name=$1 _from=$2 _to=$3
  if [ "${DRY_RUN:-0}" = 1 ]; then
    echo "$_name: $SOCAT${SOCAT_OPTS:+ $SOCAT_OPTS} $_from $_to"
    return 0
  fi
  (
    set +e
    _child=""
    trap '[ -n "$_child" ] && kill "$_child" 2>/dev/null; exit 0' TERM INT HUP
    while :; do
      # shellcheck disable=SC2086 # SOCAT_OPTS holds several flags
      $SOCAT $SOCAT_OPTS "$_from" "$_to" &
      _child=$!
      wait "$_child"
      log "$_name: socat exited with $?, restarting in 1 s"
      sleep 1
    done
  ) &
  BRIDGE_PIDS="$BRIDGE_PIDS $!"
  log "$_name: $_from -> $_to"
}

stop_bridges() {
  for _p in $BRIDGE_PIDS; do kill "$_p" 2>/dev/null || true; done
}

# wants NAME — is NAME in $BRIDGES (a space- or comma-separated list)?
wants() {
  case " $(echo "$BRIDGES" | tr ',' ' ') " in *" $1 "*) return 0 ;; *) return 1 ;; esac
}

# run_then_wait [PROGRAM ARGS...] — run the program (if any) and stop the
# bridges when it exits, with its status; otherwise serve until signalled.
run_then_wait() {
  trap 'stop_bridges; exit 143' TERM INT HUP
  [ "${DRY_RUN:-0}" = 1 ] && { [ $# -gt 0 ] && echo "program: $*"; return 0; }
  if [ $# -gt 0 ]; then
    "$@" &
    _prog=$!
    set +e
    wait "$_prog"
    _status=$?
    log "program exited with $_status"
    stop_bridges
    exit "$_status"
  fi
  wait
}
