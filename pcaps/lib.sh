# Shared by the capture scripts (make.sh, make-quic.sh, make-scans.sh, make-recon.sh, make-ssh.sh): sourced, not run.
#
# A script names its namespaces and calls pk_init first.  From then on it has say/die, every background process it
# starts through these helpers is in PIDS, and one EXIT trap (pk_cleanup) removes all it made: processes,
# namespaces, /etc/netns entries and the temp dir.  Globals set here: PIDS TMP OUT LOG START_TS and PK_*.

# ---------------------------------------------------------------- run, messages, cleanup

# pk_init NAME KEEP-VAR NS...: NAME is the script's file name (in messages, and in `sudo bash pcaps/NAME`), KEEP-VAR
# the variable that keeps the temp dir when it is 1, NS... the namespaces the script is going to make.
pk_init() {
    PK_NAME=$1
    PK_KEEP_VAR=$2
    shift 2
    PK_NETNS=("$@")
    PK_ETC_DIRS=()              # /etc/netns/<ns> directories made by pk_netns_etc
    PK_MADE_ETC_NETNS_PARENT=0  # 1: pk_netns_etc made /etc/netns itself
    PK_CAP_PID=""
    PK_CAP_ERR=""
    PK_CAP_TOOL=""
    PIDS=()                     # background processes started by the script
    TMP=""
    START_TS=$(date +%s)
    pk_traps
}

say() { printf '[%s +%ss] %s\n' "$PK_NAME" "$(( $(date +%s) - START_TS ))" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$PK_NAME" "$*" >&2; exit 1; }

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

# pk_cleanup: the EXIT trap.  Also runs after a failure half-way, so every step copes with what was never made.
pk_cleanup() {
    local rc=$? d
    set +e
    pk_untrap
    pk_stop_pids "${PIDS[@]}"
    pk_remove_netns "${PK_NETNS[@]}"
    for d in "${PK_ETC_DIRS[@]}"; do rm -rf "$d"; done
    [ "$PK_MADE_ETC_NETNS_PARENT" = 1 ] && rmdir /etc/netns 2>/dev/null
    pk_remove_tmp "$TMP" "${!PK_KEEP_VAR:-0}" "$PK_KEEP_VAR"
    pk_report "$rc"
    exit "$rc"
}

# pk_traps: run pk_cleanup on exit, and turn signals into exits so that it runs for them too.
pk_traps() {
    trap pk_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP
}

# pk_untrap: first thing in the cleanup: no re-entry, and a closed stdout/stderr must not stop it half-way.
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

# pk_wait_until TRIES CMD...: run CMD every 0.1 s until it succeeds, TRIES times at most, then once more; its status.
pk_wait_until() {
    local n=$1 i; shift
    for i in $(seq 1 "$n"); do
        "$@" && return 0
        sleep 0.1
    done
    "$@"
}

# ---------------------------------------------------------------- preflight, temp dir

# pk_preflight TOOL...: root, every TOOL on PATH, and a warning for each namespace named like ours (same prefix)
# whose run is gone.
pk_preflight() {
    local t ns re
    [ "$(id -u)" = 0 ] || die "must run as root (sudo bash pcaps/$PK_NAME)"
    for t in "$@"; do
        command -v "$t" >/dev/null || die "missing tool: $t (apt-get install the packages in the '# apt:' line)"
    done
    re=$(printf '%s|' "${PK_NETNS[@]%-*}")
    for ns in $(ip netns list | awk -v re="^(${re%|})-[0-9]+" '$1 ~ re {print $1}'); do
        kill -0 "${ns##*-}" 2>/dev/null || say "warning: stale namespace $ns from a dead run (remove with: ip netns del $ns)"
    done
}

# pk_make_tmp PREFIX [DIR...]: TMP = a new /tmp/PREFIX-PID.XXXXXX with OUT = TMP/out (the new captures) and DIR...
# below it; LOG = TMP/traffic.log, empty, for the tools' output.
pk_make_tmp() {
    local d
    TMP=$(mktemp -d "/tmp/$1-$$.XXXXXX")
    shift
    OUT="$TMP/out"
    LOG="$TMP/traffic.log"
    mkdir -p "$OUT"
    for d in "$@"; do mkdir -p "$TMP/$d"; done
    : >"$LOG"
}

# ---------------------------------------------------------------- namespaces

# pk_netns_up [--ipv4] NS...: make the namespaces with loopback up; --ipv4: IPv6 off in them (no link-local
# addresses, ND or MLD chatter in the captures).
pk_netns_up() {
    local v4=0 ns
    if [ "$1" = --ipv4 ]; then v4=1; shift; fi
    for ns in "$@"; do
        ip netns add "$ns"
        ip -n "$ns" link set lo up
        if [ "$v4" = 1 ]; then
            ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
        fi
    done
}

# pk_veth DEV NS-A MAC-A NS-B MAC-B: a veth pair named DEV at both ends, with fixed MACs and no IPv6 link-local
# address (addrgenmode none); left down.
pk_veth() {
    ip -n "$2" link add "$1" type veth peer name "$1" netns "$4"
    ip -n "$2" link set "$1" address "$3" addrgenmode none
    ip -n "$4" link set "$1" address "$5" addrgenmode none
}

# pk_no_offloads NS DEV: TSO, GSO and GRO off, so that frames are wire-sized (not one 64 KB super-frame); dies if
# any segmentation offload stays on.
pk_no_offloads() {
    local on
    ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null 2>&1 || true
    on=$(ip netns exec "$1" ethtool -k "$2" \
         | grep -E '^(tcp-segmentation|generic-segmentation|generic-receive|large-receive|udp-fragmentation)-offload: on' || true)
    [ -z "$on" ] || die "cannot turn off offloads on $1/$2: $on"
}

# pk_check_netns [--no-ipv6] ADDR-RE NS...: the safety check: no IPv4 default route, no IPv6 default route (with
# --no-ipv6: no IPv6 route at all), and every address (ip -o addr, "a.b.c.d/len") matches the extended regex ADDR-RE.
pk_check_netns() {
    local no6=0 re ns bad
    if [ "$1" = --no-ipv6 ]; then no6=1; shift; fi
    re=$1; shift
    for ns in "$@"; do
        [ -z "$(ip -n "$ns" route show default)" ] || die "unexpected IPv4 default route in $ns"
        if [ "$no6" = 1 ]; then
            [ -z "$(ip -n "$ns" -6 route show 2>/dev/null)" ] || die "unexpected IPv6 routes in $ns"
        else
            [ -z "$(ip -n "$ns" -6 route show default)" ] || die "unexpected IPv6 default route in $ns"
        fi
        bad=$(ip -n "$ns" -o addr show | awk '{print $4}' | grep -Ev "$re" || true)
        [ -z "$bad" ] || die "unexpected addresses in $ns: $bad"
    done
}

# pk_links NS: its link names, sorted, each followed by a space.  pk_routes NS: its IPv4 routes, sorted, each
# followed by ';'.
pk_links() { ip -n "$1" -o link show | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | tr '\n' ' '; }
pk_routes() { ip -n "$1" route show | sed 's/ *$//' | sort | tr '\n' ';'; }

# pk_netns_etc NS NAMESERVER HOSTS-LINE...: /etc/netns/NS/resolv.conf (NAMESERVER only) and hosts, which
# `ip netns exec NS` bind-mounts over /etc's; removed on exit, like /etc/netns itself if it was made here.
pk_netns_etc() {
    local d="/etc/netns/$1"
    [ -d /etc/netns ] || { mkdir /etc/netns; PK_MADE_ETC_NETNS_PARENT=1; }
    mkdir "$d"
    PK_ETC_DIRS+=("$d")
    printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$2" >"$d/resolv.conf"
    shift 2
    printf '%s\n' "$@" >"$d/hosts"
}

# ---------------------------------------------------------------- servers

# pk_spawn NS SECS LOG CMD...: start CMD in NS in the background under timeout SECS, output to LOG; $! is its pid.
pk_spawn() {
    local ns=$1 secs=$2 log=$3; shift 3
    timeout "$secs" ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
    PIDS+=("$!")
}

# pk_dnsmasq NS SECS ARG...: dnsmasq in NS with no upstream, no /etc/hosts and only what ARG... give it, bound to
# its listen addresses; queries logged to TMP/dnsmasq.log, its own output in TMP/dnsmasq.err.
pk_dnsmasq() {
    local ns=$1 secs=$2; shift 2
    pk_spawn "$ns" "$secs" "$TMP/dnsmasq.err" dnsmasq --keep-in-foreground --conf-file=/dev/null \
        --no-resolv --no-hosts --no-poll --user=root --group=root \
        --pid-file="$TMP/dnsmasq.pid" --bind-interfaces "$@" \
        --log-queries --log-facility="$TMP/dnsmasq.log"
}

# pk_cert DIR CN [OPENSSL-ARG...]: a throw-away self-signed P-256 certificate DIR/cert.pem and key DIR/key.pem.
pk_cert() {
    local dir=$1 cn=$2; shift 2
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
        -subj "/CN=$cn" "$@" -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
}

# pk_listens NS t|u PORT: something in NS listens on TCP/UDP PORT.
pk_listens() { [ -n "$(ip netns exec "$1" ss -Hln"$2" "sport = :$3")" ]; }

# pk_listening NS t|u: the sorted "addr:port" of NS's listening TCP/UDP sockets, each followed by a space.
pk_listening() { ip netns exec "$1" ss -Hln"$2" | awk '{print $4}' | sort | tr '\n' ' '; }

# pk_wait_listeners NS WANT-TCP WANT-UDP TRIES: wait (pk_wait_until) until NS listens on exactly these, as
# pk_listening prints them; fails if it still does not after TRIES tries.
pk_wait_listeners() { pk_wait_until "$4" pk_listeners_are "$1" "$2" "$3"; }
pk_listeners_are() { [ "$(pk_listening "$1" t)" = "$2" ] && [ "$(pk_listening "$1" u)" = "$3" ]; }

# ---------------------------------------------------------------- tools and captures

# pk_run NS SECS CMD...: run CMD in NS under timeout SECS, output appended to LOG; its exit status.  In the
# background + wait, so that INT/TERM run the cleanup at once (bash defers traps while a foreground command runs,
# e.g. during a minute-long slow scan).
pk_run() {
    local ns=$1 secs=$2 pid rc=0; shift 2
    timeout "$secs" ip netns exec "$ns" "$@" >>"$LOG" 2>&1 </dev/null &
    pid=$!
    PIDS+=("$pid")
    wait "$pid" || rc=$?
    return "$rc"
}

# pk_masscan NS SECS CMD...: start CMD (masscan ...) in NS in the background under timeout SECS, with TMP as its
# cwd (masscan writes paused.conf to its cwd if it is ever interrupted); stdout to LOG, stderr to TMP/masscan.err.
# PK_MASSCAN_PID is its pid.  pk_masscan_why: masscan's last message (without its rate lines), for a skip reason.
pk_masscan() {
    local ns=$1 secs=$2; shift 2
    ( cd "$TMP" && exec timeout "$secs" ip netns exec "$ns" "$@" ) >>"$LOG" 2>"$TMP/masscan.err" </dev/null &
    PK_MASSCAN_PID=$!
    PIDS+=("$PK_MASSCAN_PID")
}
pk_masscan_why() { tr '\r' '\n' <"$TMP/masscan.err" | grep -v '^rate:' | grep . | tail -1 || true; }

# pk_cap_start NS SECS OUT CMD...: start the capture command CMD (tcpdump or dumpcap, writing OUT) in NS under
# timeout SECS; returns once it says it is listening, plus 0.3 s.  Its messages go to PK_CAP_ERR.
pk_cap_start() {
    local ns=$1 secs=$2 out=$3; shift 3
    PK_CAP_ERR="$TMP/cap.$(basename "$out").err"
    PK_CAP_TOOL=$1
    rm -f "$out"
    timeout "$secs" ip netns exec "$ns" "$@" >"$PK_CAP_ERR" 2>&1 &
    PK_CAP_PID=$!
    PIDS+=("$PK_CAP_PID")
    pk_wait_until 100 grep -qsE 'listening on|Capturing on' "$PK_CAP_ERR" \
        || { cat "$PK_CAP_ERR" >&2; die "$1 for $out did not start"; }
    sleep 0.3
}

# pk_tcap NS SECS IFACE BUFFER OUT [ARG...]: tcpdump on IFACE in NS, kernel buffer BUFFER KiB, whole packets,
# written as they come (-U --immediate-mode) to OUT; ARG...: more tcpdump options and/or a capture filter.
pk_tcap() {
    local ns=$1 secs=$2 ifc=$3 buf=$4 out=$5; shift 5
    pk_cap_start "$ns" "$secs" "$out" tcpdump -Z root -U --immediate-mode -B "$buf" -s 0 -n -i "$ifc" -w "$out" "$@"
}

# pk_cap_halt: SIGINT the capture, up to 5 s for it to write its counters and go, and reap it; no checks (for a
# capture whose file is thrown away, and inside pk_cap_stop).
pk_cap_halt() {
    kill -INT "$PK_CAP_PID" 2>/dev/null || true
    pk_wait_until 50 pk_gone "$PK_CAP_PID" || true
    wait "$PK_CAP_PID" 2>/dev/null || true
    PK_CAP_PID=""
}
pk_gone() { ! kill -0 "$1" 2>/dev/null; }

# pk_cap_stop OUT: 1.5 s for late answers, stop the capture, then check its own counters: every packet the kernel
# passed it was written (captured == received) and none was dropped, and OUT is not empty.  PK_CAP_GOT: the count.
# tcpdump reports "N packets captured / received by filter / dropped by kernel"; dumpcap "Packets captured: N" and
# per interface "Packets received/dropped on interface 'IF': R/D" (summed here).
pk_cap_stop() {
    local out=$1 got rcvd drop
    sleep 1.5
    pk_cap_halt
    got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p; s/.*Packets captured: \([0-9]*\).*/\1/p' "$PK_CAP_ERR" | head -1)
    rcvd=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$PK_CAP_ERR" | head -1)
    drop=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$PK_CAP_ERR" | head -1)
    if [ -z "$rcvd" ] && [ -z "$drop" ]; then
        read -r rcvd drop < <(sed -n "s/^Packets received\/dropped on interface '.*': \([0-9]*\)\/\([0-9]*\) .*/\1 \2/p" "$PK_CAP_ERR" \
                              | awk '{ r += $1; d += $2; n++ } END { if (n) print r, d }') || true
    fi
    [ -n "$got" ] && [ "$got" = "$rcvd" ] && [ "$drop" = 0 ] \
        || { cat "$PK_CAP_ERR" >&2; die "$(basename "$out"): $PK_CAP_TOOL captured '$got', received '$rcvd', dropped '$drop'"; }
    [ -s "$out" ] || die "capture $out is empty"
    PK_CAP_GOT=$got
}

# ---------------------------------------------------------------- commands, skips, install, README

# pk_shq WORD...: the words as one line that a shell splits back into the same words (quotes only where needed).
pk_shq() {
    local a out=""
    for a in "$@"; do
        if [[ $a =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then out+="$a "; else out+="'${a//\'/\'\\\'\'}' "; fi
    done
    printf '%s' "${out% }"
}

# pk_note_cmd FILE TOOL COMMAND-LINE: one row of TMP/cmds.tsv (read into truth.json), the temp dir's path in
# COMMAND-LINE written as $TMP.
pk_note_cmd() { printf '%s\t%s\t%s\n' "$1" "$2" "${3//"$TMP"/\$TMP}" >>"$TMP/cmds.tsv"; }

# pk_skip WHAT REASON: record that WHAT (a file, or a part of one) was not made, in TMP/skipped.tsv.
pk_skip() { printf '%s\t%s\n' "$1" "$2" >>"$TMP/skipped.tsv"; say "SKIP $1: $2"; }

# pk_skipped_md NOTHING: README lines for what pk_skip recorded, or the line NOTHING when nothing was skipped.
pk_skipped_md() {
    local f why
    if [ -s "$TMP/skipped.tsv" ]; then
        while IFS=$'\t' read -r f why; do printf '* `%s` not made: %s\n' "$f" "$why"; done <"$TMP/skipped.tsv"
    else
        echo "$1"
    fi
}

# pk_install DEST FILE...: copy each FILE from OUT into DEST, or remove DEST's old copy when this run did not make
# it (skipped).
pk_install() {
    local dest=$1 f; shift
    mkdir -p "$dest"
    for f in "$@"; do
        if [ -e "$OUT/$f" ]; then cp "$OUT/$f" "$dest/$f"; else rm -f "$dest/$f"; fi
    done
    say "wrote $(ls "$OUT" | wc -l) files to $dest"
}

# pk_pkgver PACKAGE...: "name version" of each installed Debian package, for the README.
pk_pkgver() { dpkg-query -W -f='${Package} ${Version}\n' "$@" 2>/dev/null || true; }

# pk_versions_md PACKAGE...: the README's "Tool versions" section, after a blank line: each PACKAGE's Debian version,
# the tools' own versions (TMP/versions.tsv, "tool<TAB>version", as "tool: version") and the kernel's.
pk_versions_md() {
    cat <<VERSIONS

## Tool versions

\`\`\`
$(pk_pkgver "$@")
$(awk -F'\t' '{printf "%s: %s\n", $1, $2}' "$TMP/versions.tsv")
kernel $(uname -r)
\`\`\`
VERSIONS
}
