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
