# Shared by the capture scripts (make.sh, make-quic.sh, make-scans.sh): sourced, not run.

# pk_stop_pids PID...: TERM, up to 3 s for them to go, then KILL and reap.
pk_stop_pids() {
    local p i alive
    for p in "$@"; do kill -TERM "$p" 2>/dev/null; done
    for i in $(seq 1 30); do
        alive=0
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.1
    done
    for p in "$@"; do kill -KILL "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
}

# pk_remove_netns NS...: kill what still runs inside our own namespaces (we started it), then delete them.
pk_remove_netns() {
    local ns p
    for ns in "$@"; do
        if [ -e "/run/netns/$ns" ]; then
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        fi
    done
}

# pk_traps: run the script's cleanup() on exit, and turn signals into exits so that it runs for them too.
pk_traps() {
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# pk_untrap: first thing in cleanup(): no re-entry, and a closed stdout/stderr must not stop it half-way.
pk_untrap() {
    trap - EXIT INT TERM HUP
    trap '' PIPE
}

# pk_remove_tmp DIR KEEP VAR: remove the script's temp dir, unless KEEP is 1 (VAR names the variable that keeps it).
pk_remove_tmp() {
    [ -n "$1" ] || return 0
    if [ "$2" = 1 ]; then say "kept $1 ($3=1)"; else rm -rf "$1"; fi
}

# pk_report RC: the last line of a run.
pk_report() {
    if [ "$1" = 0 ]; then say "done in $(( $(date +%s) - START_TS ))s"; else say "FAILED (exit $1); cleaned up"; fi
}
