#!/usr/bin/env bash
# pcaps/make-scans.sh - build the small, REAL captures of network scans used by picket's scan detectors.
#
#   sudo bash pcaps/make-scans.sh            (root is required; runnable from any cwd; about 2.5 minutes)
#   PKS_DEST=/tmp/x bash pcaps/make-scans.sh  (write the captures + truth.json there instead; no README then)
#
# apt: nmap hping3 masscan zmap tcpdump tshark iproute2 ethtool dnsmasq bind9-dnsutils curl openssl python3 coreutils
#   (tshark pulls in wireshark-common: capinfos; masscan and zmap are optional: when one is missing or cannot
#    run, its capture is skipped and the README/truth.json say why)
#
# Two network namespaces made here, joined by one veth pair; no default route, so nothing can leave them:
#   pks-tg-PID  target   veth0 02:90:00:00:00:01  10.90.0.1 ... 10.90.0.64 (/24) and 198.18.0.1/24
#   pks-sc-PID  scanner  veth0 02:90:00:00:00:66  198.18.0.66/24, route 10.90.0.0/24 via 198.18.0.1; later also
#                                                 198.18.0.67-69 (nmap-decoy's decoys) and 198.18.0.100-123
#                                                 (distributed's 24 sources), added after the other captures
# The scanner sits on a different subnet (RFC 2544 benchmarking range) than the targets (RFC 1918), so for a
# sensor whose home network is RFC 1918 every scan here is INBOUND.  198.18.0.1 is the target namespace's
# "router" address on the same veth: packets to 10.90.0.x go to its MAC and are delivered locally (TTL intact).
# Services in the target namespace (the only open ports; checked with ss before the scans):
#   TCP 22 (python banner), 53 (dnsmasq), 80 + 8080 (python3 -m http.server), 443 (openssl s_server -www)
#   on 10.90.0.1; TCP 80 (http.server) on 10.90.0.5; UDP 53 (dnsmasq) and UDP 161 (python echo) on 10.90.0.1.
# Every other 10.90.0.1-64 address/port answers RST (TCP) or ICMP port unreachable (UDP).
#
# Output (in $PKS_DEST, default pcaps/scans/; overwritten): nmap-sweep, nmap-vertical, nmap-ping, nmap-udp,
# nmap-slow, hping3-scan, masscan, zmap, benign-busy, nmap-decoy, distributed (.pcap, Ethernet, tcpdump in the
# target namespace), truth.json (what each file probes and what is open), README.md (only for the default
# destination).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKS_DEST:-$HERE/scans}
NSC="pks-sc-$$"         # scanner namespace
NST="pks-tg-$$"         # target namespace
pk_init make-scans.sh PKS_KEEP_TMP "$NSC" "$NST"

SCANNER=198.18.0.66
ROUTER=198.18.0.1
TGT_MAC=02:90:00:00:00:01
SC_MAC=02:90:00:00:00:66

# ---------------------------------------------------------------- preflight
pk_preflight ip tc ethtool tcpdump tshark capinfos nmap hping3 dnsmasq dig curl openssl python3 ss timeout sysctl
pk_make_tmp pks www tls
: >"$TMP/cmds.tsv"      # file <TAB> command, for truth.json
: >"$TMP/skipped.tsv"   # file <TAB> reason

# ---------------------------------------------------------------- namespaces
say "namespaces $NSC (scanner $SCANNER) / $NST (targets 10.90.0.1-64, router $ROUTER)"
pk_netns_up --ipv4 "$NSC" "$NST"    # IPv4 only: no IPv6 link-local, ND or MLD chatter in the captures
pk_veth veth0 "$NSC" "$SC_MAC" "$NST" "$TGT_MAC"
for ns in "$NSC" "$NST"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1; done
for i in $(seq 1 64); do ip -n "$NST" addr add "10.90.0.$i/24" dev veth0; done
ip -n "$NST" addr add "$ROUTER/24" dev veth0
ip -n "$NSC" addr add "$SCANNER/24" dev veth0
# No segmentation offloads: frames on the veth are wire-sized, and libpcap sizes its ring slots by the MTU
# (with offloads on it uses the full 256 KB snapshot length per slot, and -B 65536 then holds only ~256
# frames: nmap's 2000-packet bursts overflowed it).
for ns in "$NSC" "$NST"; do pk_no_offloads "$ns" veth0; done
ip -n "$NSC" link set veth0 up
ip -n "$NST" link set veth0 up
ip -n "$NSC" route add 10.90.0.0/24 via "$ROUTER" dev veth0

# Safety: no default route, only lo + veth0, only our own addresses and routes, in either namespace.  Run
# again after the decoy and distributed source addresses are added to the scanner (secondary addresses in
# 198.18.0.0/24: they add no route).  Allowed in the scanner namespace: 198.18.0.66 (the scanner), .67-.69
# (nmap-decoy's decoys), .100-.123 (distributed's sources); in the target namespace: 10.90.0.1-64, 198.18.0.1.
OK_ADDR_SC='^(127\.0\.0\.1/8|198\.18\.0\.(6[6-9]|1[01][0-9]|12[0-3])/24)$'
OK_ADDR_TG='^(127\.0\.0\.1/8|10\.90\.0\.([1-9]|[1-5][0-9]|6[0-4])/24|198\.18\.0\.1/24)$'
safety_checks() {
    local ns
    pk_check_netns --no-ipv6 "$OK_ADDR_SC" "$NSC"
    pk_check_netns --no-ipv6 "$OK_ADDR_TG" "$NST"
    for ns in "$NSC" "$NST"; do
        [ "$(pk_links "$ns")" = "lo veth0 " ] || die "unexpected links in $ns: $(pk_links "$ns")"
    done
    [ "$(pk_routes "$NSC")" = "10.90.0.0/24 via $ROUTER dev veth0;198.18.0.0/24 dev veth0 proto kernel scope link src $SCANNER;" ] \
        || die "unexpected scanner routes: $(pk_routes "$NSC")"
}
safety_checks

# ---------------------------------------------------------------- services (target namespace)
say "starting services in $NST: tcp 22 53 80 443 8080 on 10.90.0.1, tcp 80 on 10.90.0.5, udp 53 161 on 10.90.0.1"
cat >"$TMP/svc.py" <<'PY'
# TCP 22: accept, send an SSH banner, close.  UDP 161: echo each datagram back.  Exits after argv[2] seconds.
import selectors, socket, sys, time
addr, end = sys.argv[1], time.time() + float(sys.argv[2])
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind((addr, 22)); t.listen(64); t.setblocking(False)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((addr, 161)); u.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(t, selectors.EVENT_READ); sel.register(u, selectors.EVENT_READ)
while time.time() < end:
    for key, _ in sel.select(timeout=0.5):
        try:
            if key.fileobj is t:
                c, _ = t.accept()
                c.settimeout(1)
                try:
                    c.sendall(b"SSH-2.0-OpenSSH_9.2p1 picket-test\r\n")
                finally:
                    c.close()
            else:
                data, peer = u.recvfrom(4096)
                u.sendto(data, peer)
        except OSError:
            pass
PY
pk_spawn "$NST" 300 "$TMP/svc.log" python3 "$TMP/svc.py" 10.90.0.1 290
pk_dnsmasq "$NST" 300 --listen-address=10.90.0.1 --address=/#/10.90.0.1 --local-ttl=60
printf '<html><body>picket scan-test server</body></html>\n' >"$TMP/www/index.html"
for ap in 10.90.0.1:80 10.90.0.5:80 10.90.0.1:8080; do
    pk_spawn "$NST" 300 "$TMP/http-$ap.log" python3 -m http.server "${ap##*:}" --bind "${ap%:*}" --directory "$TMP/www"
done
pk_cert "$TMP/tls" picket-scan-test.invalid
pk_spawn "$NST" 300 "$TMP/s_server.log" openssl s_server -accept 10.90.0.1:443 -www -quiet \
    -cert "$TMP/tls/cert.pem" -key "$TMP/tls/key.pem"

WANT_TCP="10.90.0.1:22 10.90.0.1:443 10.90.0.1:53 10.90.0.1:80 10.90.0.1:8080 10.90.0.5:80 "
WANT_UDP="10.90.0.1:161 10.90.0.1:53 "
if ! pk_wait_listeners "$NST" "$WANT_TCP" "$WANT_UDP" 100; then
    cat "$TMP"/*.err "$TMP"/*.log >&2
    [ "$(pk_listening "$NST" t)" = "$WANT_TCP" ] || die "TCP listeners are '$(pk_listening "$NST" t)', want '$WANT_TCP'"
    die "UDP listeners are '$(pk_listening "$NST" u)', want '$WANT_UDP'"
fi
# the route works: one TCP connection from the scanner (before any capture)
timeout 5 ip netns exec "$NSC" bash -c 'exec 3<>/dev/tcp/10.90.0.1/22 && head -c 7 <&3' | grep -q '^SSH-2.0' \
    || die "scanner cannot reach 10.90.0.1:22"

# ---------------------------------------------------------------- capture helpers
tcap() { pk_tcap "$NST" 150 veth0 65536 "$1"; }   # out-file: tcpdump on the target's veth0, everything on the link
cap_stop() { pk_cap_stop "$1"; say "  $PK_CAP_GOT packets, 0 dropped -> $(basename "$1")"; }   # out-file
note_cmd() { printf '%s\t%s\n' "$1" "${2//"$TMP"/\$TMP}" >>"$TMP/cmds.tsv"; }   # file command (TMP path as $TMP)
scan() {  # file seconds cmd... : run a scan command in the scanner namespace, bounded, must exit 0
    local f=$1 secs=$2; shift 2
    note_cmd "$f" "$*"
    echo "== [$f] $*" >>"$LOG"
    pk_run "$NSC" "$secs" "$@" || { tail -20 "$LOG" >&2; die "$f: '$*' failed"; }
}

# ---------------------------------------------------------------- 1. nmap-sweep.pcap
say "capture nmap-sweep.pcap (nmap SYN sweep of 10.90.0.1-64, ports 80,443)"
tcap "$OUT/nmap-sweep.pcap"
scan nmap-sweep.pcap 60 nmap -sS -n -Pn -e veth0 -p 80,443 10.90.0.1-64
cap_stop "$OUT/nmap-sweep.pcap"

# ---------------------------------------------------------------- 2. nmap-vertical.pcap
say "capture nmap-vertical.pcap (nmap SYN scan of 10.90.0.1, ports 1-1024,8080)"
tcap "$OUT/nmap-vertical.pcap"
scan nmap-vertical.pcap 60 nmap -sS -n -Pn -e veth0 -p 1-1024,8080 10.90.0.1
cap_stop "$OUT/nmap-vertical.pcap"

# ---------------------------------------------------------------- 3. nmap-ping.pcap
# nmap -sn sends its probe types (ICMP echo, TCP SYN 443, TCP ACK 80, ICMP timestamp) in passes over the
# hosts and stops probing a host once it has answered.  On a bare veth an echo reply is back within
# microseconds, so nearly every host would see only the echo request.  A token bucket on the target's egress
# (64 kbit/s, ~7.5 ms per reply) spreads the replies out as a routed path would, so nmap gets to send its
# other probe types to part of the hosts.  (netem is not available on this kernel; tbf is.)
say "capture nmap-ping.pcap (nmap -sn host discovery of 10.90.0.1-64; replies shaped to 64 kbit/s)"
ip netns exec "$NST" tc qdisc add dev veth0 root tbf rate 64kbit burst 200 latency 10s
tcap "$OUT/nmap-ping.pcap"
scan nmap-ping.pcap 60 nmap -sn -n -e veth0 10.90.0.1-64
cap_stop "$OUT/nmap-ping.pcap"
ip netns exec "$NST" tc qdisc del dev veth0 root

# ---------------------------------------------------------------- 4. nmap-udp.pcap
say "capture nmap-udp.pcap (nmap UDP scan of 10.90.0.1, ports 53,161,123,500,1900)"
tcap "$OUT/nmap-udp.pcap"
scan nmap-udp.pcap 60 nmap -sU -n -Pn -e veth0 -p 53,161,123,500,1900 10.90.0.1
cap_stop "$OUT/nmap-udp.pcap"

# ---------------------------------------------------------------- 5. nmap-slow.pcap
say "capture nmap-slow.pcap (nmap SYN scan, one probe every 3 s, ports 20-40; about 65 s)"
tcap "$OUT/nmap-slow.pcap"
scan nmap-slow.pcap 100 nmap -sS -n -Pn -e veth0 --scan-delay 3s --max-retries 0 -p 20-40 10.90.0.1
cap_stop "$OUT/nmap-slow.pcap"

# ---------------------------------------------------------------- 6. hping3-scan.pcap
say "capture hping3-scan.pcap (hping3 --scan 20-120 -S 10.90.0.1, then 20 SYNs to 10.90.0.5:80)"
tcap "$OUT/hping3-scan.pcap"
scan hping3-scan.pcap 40 hping3 -I veth0 --scan 20-120 -S 10.90.0.1
scan hping3-scan.pcap 40 hping3 -I veth0 -S -p 80 -c 20 10.90.0.5
cap_stop "$OUT/hping3-scan.pcap"

# ---------------------------------------------------------------- 7. masscan.pcap (raw frames on the veth)
if ! command -v masscan >/dev/null; then
    pk_skip masscan.pcap "masscan is not installed (Debian package masscan)"
else
    # masscan 1.3.2's receive thread (libpcap, TPACKET_V3) sleeps until a frame arrives, so on a quiet veth
    # it never notices its --wait window has ended.  So: wait for that window to pass, stop the capture,
    # then send one UDP datagram from the scanner to 10.90.0.1:9 (not captured) to wake it up.
    say "capture masscan.pcap (masscan 10.90.0.0/26 -p80,443 at 500 pps)"
    tcap "$OUT/masscan.pcap"
    MASSCAN=(masscan 10.90.0.0/26 -p80,443 --rate 500 --wait 2 --adapter veth0 --adapter-ip "$SCANNER"
             --router-mac "$TGT_MAC" -oL "$TMP/masscan.lst")
    echo "== [masscan.pcap] ${MASSCAN[*]}" >>"$LOG"
    pk_masscan "$NSC" 40 "${MASSCAN[@]}"
    MPID=$PK_MASSCAN_PID
    for i in $(seq 1 150); do   # at most 15 s: 128 probes at 500 pps + 2 s wait
        kill -0 "$MPID" 2>/dev/null || break
        tr '\r' '\n' <"$TMP/masscan.err" | grep -q 'waiting -1-secs' && break
        sleep 0.1
    done
    if [ -n "$(tshark -n -r "$OUT/masscan.pcap" -Y "ip.src == $SCANNER && tcp.flags.syn == 1" -c 1 2>/dev/null)" ]; then
        cap_stop "$OUT/masscan.pcap"
        for i in $(seq 1 10); do
            kill -0 "$MPID" 2>/dev/null || break
            timeout 3 ip netns exec "$NSC" bash -c 'echo wake >/dev/udp/10.90.0.1/9' 2>/dev/null || true
            sleep 0.5
        done
        mrc=0; wait "$MPID" || mrc=$?
        if [ "$mrc" = 0 ]; then
            note_cmd masscan.pcap "${MASSCAN[*]}"
            say "  masscan found: $(awk '/^open/{printf "%s:%s ", $4, $3}' "$TMP/masscan.lst")"
        else
            rm -f "$OUT/masscan.pcap"
            pk_skip masscan.pcap "masscan exited with status $mrc: $(pk_masscan_why)"
        fi
    else
        pk_cap_halt
        rm -f "$OUT/masscan.pcap"
        pk_skip masscan.pcap "masscan sent no SYN on the veth here: $(pk_masscan_why)"
    fi
fi

# ---------------------------------------------------------------- 8. zmap.pcap (raw frames on the veth)
if ! command -v zmap >/dev/null; then
    pk_skip zmap.pcap "zmap is not installed (Debian package zmap)"
else
    say "capture zmap.pcap (zmap -p 80 over 10.90.0.0/26 at 200 pps)"
    # zmap's own /etc/zmap/blacklist.conf excludes 10/8 and 198.18/15: use an empty config and blacklist
    # and an allow-list of exactly the target /26, so zmap probes nothing else.
    : >"$TMP/zmap.conf"
    : >"$TMP/zmap-blacklist.conf"
    echo 10.90.0.0/26 >"$TMP/zmap-allow.conf"
    tcap "$OUT/zmap.pcap"
    ZMAP=(zmap -C "$TMP/zmap.conf" -b "$TMP/zmap-blacklist.conf" -w "$TMP/zmap-allow.conf"
          -p 80 -i veth0 -S "$SCANNER" -G "$TGT_MAC" -n 64 -r 200 -c 2 -T 1 --disable-syslog -q
          -o "$TMP/zmap.csv")
    echo "== [zmap.pcap] ${ZMAP[*]}" >>"$LOG"
    if timeout 40 ip netns exec "$NSC" "${ZMAP[@]}" >>"$LOG" 2>&1 \
       && [ -n "$(tshark -n -r "$OUT/zmap.pcap" -Y "ip.src == $SCANNER && tcp.flags.syn == 1" -c 1 2>/dev/null)" ]; then
        note_cmd zmap.pcap "${ZMAP[*]}"
        cap_stop "$OUT/zmap.pcap"
    else
        tail -5 "$LOG" >&2
        pk_cap_halt
        rm -f "$OUT/zmap.pcap"
        pk_skip zmap.pcap "zmap did not run or sent no SYN on the veth here: $(tail -1 "$LOG")"
    fi
fi

# ---------------------------------------------------------------- 9. benign-busy.pcap
# A busy but ordinary client: 31 HTTP fetches to three open (host, port)s, 4 TLS sessions, 40 DNS queries.
# Every one must succeed.
B=benign-busy.pcap
bcurl() {
    echo "== [$B] curl $1" >>"$LOG"
    code=$(timeout 8 ip netns exec "$NSC" curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$1" 2>>"$LOG") \
        || die "$B: curl $1 failed"
    [ "$code" = 200 ] || die "$B: curl $1 answered $code"
}
btls() {
    echo "== [$B] openssl s_client -connect 10.90.0.1:443 (GET /)" >>"$LOG"
    printf 'GET / HTTP/1.0\r\n\r\n' | timeout 8 ip netns exec "$NSC" openssl s_client -connect 10.90.0.1:443 \
        -servername www.example.org -ign_eof -quiet >"$TMP/s_client.out" 2>>"$LOG" || die "$B: s_client failed"
    grep -q '^HTTP/1.0 200' "$TMP/s_client.out" || die "$B: s_client got no HTTP 200 over TLS"
}
bdig() {
    echo "== [$B] dig $*" >>"$LOG"
    ans=$(timeout 8 ip netns exec "$NSC" dig +tries=1 +time=2 @10.90.0.1 "$@" 2>>"$LOG") || die "$B: dig $* failed"
    grep -q 'status: NOERROR' <<<"$ans" || die "$B: dig $* did not get NOERROR"
}
# 40 A queries for 40 names (dnsmasq without upstream answers only A locally; AAAA would be REFUSED)
DNS_NAMES=()
for h in www mail api cdn static images login docs wiki git; do
    for d in example.org example.net example.com debian.org; do DNS_NAMES+=("$h.$d"); done
done
say "capture $B (31 HTTP fetches, 4 TLS sessions, 40 DNS queries; all succeed)"
tcap "$OUT/$B"
note_cmd "$B" "curl http://10.90.0.1/ + 10 x (curl http://10.90.0.5/, curl http://10.90.0.1:8080/, curl http://10.90.0.1/index.html) + 4 x openssl s_client -connect 10.90.0.1:443 (GET /) + 40 x dig @10.90.0.1 NAME A (40 names)"
bcurl http://10.90.0.1/
for i in $(seq 1 10); do
    bdig "${DNS_NAMES[$(( 4 * i - 4 ))]}" A
    bdig "${DNS_NAMES[$(( 4 * i - 3 ))]}" A
    bcurl http://10.90.0.5/
    bdig "${DNS_NAMES[$(( 4 * i - 2 ))]}" A
    bdig "${DNS_NAMES[$(( 4 * i - 1 ))]}" A
    bcurl http://10.90.0.1:8080/
    bcurl http://10.90.0.1/index.html
    case $i in 2|5|8|10) btls ;; esac
done
cap_stop "$OUT/$B"

# ---------------------------------------------------------------- 10. nmap-decoy.pcap
# nmap -D sends every probe once from each decoy address as well as from the real scanner (ME): the target
# sees the same scan from four sources.  nmap spoofs the decoys' source addresses; they are added to the
# scanner's veth0 (only now, so the captures above never saw them) so that the target's ARP for them is
# answered and its SYN-ACKs / RSTs come back on the link (the scanner's kernel RSTs the SYN-ACKs).
DECOYS=(198.18.0.67 198.18.0.68 198.18.0.69)
for a in "${DECOYS[@]}"; do ip -n "$NSC" addr add "$a/24" dev veth0; done
safety_checks
say "capture nmap-decoy.pcap (nmap SYN scan of 10.90.0.1 ports 20-60,80,443 with decoys ${DECOYS[*]})"
tcap "$OUT/nmap-decoy.pcap"
scan nmap-decoy.pcap 60 nmap -sS -n -Pn -e veth0 -D "${DECOYS[0]},${DECOYS[1]},ME,${DECOYS[2]}" \
    -p 20-60,80,443 10.90.0.1
cap_stop "$OUT/nmap-decoy.pcap"

# ---------------------------------------------------------------- 11. distributed.pcap
# A distributed vertical scan: 24 sources (198.18.0.100-123, added to the scanner's veth0 so the answers come
# back), each its own nmap run over a disjoint slice of 10 ports of 10.90.0.1 (source 100+k: ports 10k+1 ..
# 10k+10, so ports 1-240 in all; 22, 53 and 80 fall to .102, .105 and .107).  The target is scanned 240
# ports deep, but no source alone probes more than 10 ports: below picket's per-source port threshold.
DIST_N=24
DIST_PAR=8     # nmap runs at a time (2 cores; each run takes well under a second here)
for k in $(seq 0 $(( DIST_N - 1 ))); do ip -n "$NSC" addr add "198.18.0.$(( 100 + k ))/24" dev veth0; done
safety_checks
say "capture distributed.pcap ($DIST_N nmap runs, -S 198.18.0.100-123, 10 ports of 10.90.0.1 each, $DIST_PAR at a time)"
tcap "$OUT/distributed.pcap"
dist_wait() {  # wait for the running wave; every run must exit 0
    local k
    for k in "${!DIST_PIDS[@]}"; do
        wait "${DIST_PIDS[$k]}" || { cat "$TMP/dist.$k.log" >&2; die "distributed.pcap: nmap run $k failed"; }
    done
    DIST_PIDS=()
}
DIST_PIDS=()
for k in $(seq 0 $(( DIST_N - 1 ))); do
    cmd=(nmap -sS -n -Pn -e veth0 -S "198.18.0.$(( 100 + k ))" -p "$(( 10 * k + 1 ))-$(( 10 * k + 10 ))" 10.90.0.1)
    note_cmd distributed.pcap "${cmd[*]}"    # in slice order: truth.json pairs run k with command k
    timeout 30 ip netns exec "$NSC" "${cmd[@]}" >"$TMP/dist.$k.log" 2>&1 &
    DIST_PIDS[$k]=$!
    PIDS+=("$!")
    [ "${#DIST_PIDS[@]}" -lt "$DIST_PAR" ] || dist_wait
done
dist_wait
for k in $(seq 0 $(( DIST_N - 1 ))); do
    { echo "== [distributed.pcap] run $k"; cat "$TMP/dist.$k.log"; } >>"$LOG"
done
cap_stop "$OUT/distributed.pcap"

# ---------------------------------------------------------------- truth.json
cat >"$TMP/pks.py" <<'PY'
"""truth.json for make-scans.sh, queries on it, and the probe-trait summary (all stdlib)."""
import json, os, re, subprocess, sys
from collections import Counter

SCANNER = "198.18.0.66"
ASSIGNED = [f"10.90.0.{i}" for i in range(1, 65)]
# What the script started in the target namespace (checked with ss before the captures):
SERVICES = {"tcp": [("10.90.0.1", 22), ("10.90.0.1", 53), ("10.90.0.1", 80), ("10.90.0.5", 80),
                    ("10.90.0.1", 443), ("10.90.0.1", 8080)],
            "udp": [("10.90.0.1", 53), ("10.90.0.1", 161)]}

DECOYS = ["198.18.0.67", "198.18.0.68", "198.18.0.69"]        # nmap-decoy.pcap: -D .67,.68,ME,.69
DIST_SOURCES = [f"198.18.0.{100 + k}" for k in range(24)]    # distributed.pcap: source k scans ports 10k+1..10k+10

def hosts(a, b):
    return [f"10.90.0.{i}" for i in range(a, b + 1)]

def run(targets, syn=(), ack=(), udp=(), icmp=(), count=None, sources=None):
    r = {"targets": list(targets), "tcp_syn_ports": list(syn), "tcp_ack_ports": list(ack),
         "udp_ports": list(udp), "icmp": list(icmp)}
    if count:
        r["probes_per_port"] = count
    if sources:
        r["sources"] = list(sources)   # source addresses of this run's probes (default: the scanner)
    return r

def run_sources(r, scanner):
    return r.get("sources", [scanner])

def per_type(r, kind):
    """Targets that got this probe type: all of the run's targets unless the run lists them (nmap-ping)."""
    return r.get(kind + "_targets", r["targets"])

def run_pairs(runs, key):
    kind = {"tcp_syn_ports": "tcp_syn", "tcp_ack_ports": "tcp_ack", "udp_ports": "udp"}[key]
    return {(t, p) for r in runs for t in per_type(r, kind) for p in r[key]}

SPEC = {
    "nmap-sweep.pcap": dict(tool="nmap", kind="horizontal TCP SYN sweep (64 hosts x 2 ports)",
                            runs=[run(hosts(1, 64), syn=[80, 443])]),
    "nmap-vertical.pcap": dict(tool="nmap", kind="vertical TCP SYN port scan (1 host x 1025 ports)",
                               runs=[run(["10.90.0.1"], syn=list(range(1, 1025)) + [8080])]),
    "nmap-ping.pcap": dict(tool="nmap", kind="ping sweep / host discovery (ICMP echo, TCP SYN 443, TCP ACK 80, ICMP timestamp)",
                           runs=[run(hosts(1, 64), syn=[443], ack=[80], icmp=["echo-request", "timestamp-request"])]),
    "nmap-udp.pcap": dict(tool="nmap", kind="UDP port scan (1 host x 5 ports)",
                          runs=[run(["10.90.0.1"], udp=[53, 161, 123, 500, 1900])]),
    "nmap-slow.pcap": dict(tool="nmap", kind="slow vertical TCP SYN scan (one probe every 3 s, 21 ports)",
                           runs=[run(["10.90.0.1"], syn=range(20, 41))], probe_interval_s=3),
    "hping3-scan.pcap": dict(tool="hping3", kind="vertical TCP SYN scan (--scan 20-120) then 20 SYNs to one port",
                             runs=[run(["10.90.0.1"], syn=range(20, 121)),
                                   run(["10.90.0.5"], syn=[80], count=20)]),
    "masscan.pcap": dict(tool="masscan", kind="horizontal TCP SYN sweep of a /26 (64 addresses x 2 ports), 500 pps",
                         runs=[run(hosts(0, 63), syn=[80, 443])]),
    "zmap.pcap": dict(tool="zmap", kind="horizontal TCP SYN sweep of a /26 (64 addresses x port 80), 200 pps",
                      runs=[run(hosts(0, 63), syn=[80])]),
    "nmap-decoy.pcap": dict(tool="nmap", kind="decoy scan: vertical TCP SYN scan of 1 host x 43 ports, every probe "
                                              "sent from the real scanner and from 3 spoofed decoy addresses",
                            decoys=DECOYS,
                            runs=[run(["10.90.0.1"], syn=list(range(20, 61)) + [80, 443],
                                      sources=sorted(DECOYS + [SCANNER], key=lambda a: tuple(map(int, a.split(".")))))]),
    "distributed.pcap": dict(tool="nmap", kind="distributed vertical TCP SYN scan: 24 sources x 10 disjoint ports "
                                               "(1-240) of 1 host, one nmap run per source",
                             scanner=None,
                             runs=[run(["10.90.0.1"], syn=range(10 * k + 1, 10 * k + 11), sources=[src])
                                   for k, src in enumerate(DIST_SOURCES)]),
}

def pairs(p):
    return [{"host": h, "port": n} for h, n in sorted(p, key=lambda x: (tuple(map(int, x[0].split("."))), x[1]))]

def ipkey(h):
    return tuple(map(int, h.split(".")))

def observe_ping(pcap, run):
    """nmap -sn stops probing a host once it answered: which hosts got which probe type is read from the
    capture (the shell checks these are subsets of the targets and that the echo went to all of them)."""
    def dsts(flt):
        return sorted({r[0] for r in tshark(pcap, f"ip.src == {SCANNER} && !icmp.type == 3 && ({flt})", ["ip.dst"])}, key=ipkey)
    run["icmp_echo_targets"] = dsts("icmp.type == 8")
    run["icmp_timestamp_targets"] = dsts("icmp.type == 13")
    run["tcp_syn_targets"] = dsts("tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.dstport == 443")
    run["tcp_ack_targets"] = dsts("tcp.flags == 0x010 && tcp.dstport == 80")
    run["note"] = ("nmap sends the probe types in passes over the hosts and stops probing a host once it has "
                   "answered; the *_targets lists say which hosts got each probe type in this capture")

def build(cmds_tsv, skipped_tsv, out, ping_pcap):
    cmds, skipped = {}, {}
    for line in open(cmds_tsv):
        f, c = line.rstrip("\n").split("\t", 1)
        cmds.setdefault(f, []).append(c)
    for line in open(skipped_tsv):
        f, why = line.rstrip("\n").split("\t", 1)
        skipped[f] = why
    files = {}
    for name, s in SPEC.items():
        if name in skipped:
            files[name] = {"scan": True, "tool": s["tool"], "skipped": skipped[name]}
            continue
        runs = s["runs"]
        for r, c in zip(runs, cmds[name]):
            r["command"] = c
        if name == "nmap-ping.pcap":
            observe_ping(ping_pcap, runs[0])
        tgt = sorted({t for r in runs for t in r["targets"]}, key=ipkey)
        scanner = s.get("scanner", SCANNER)     # None: no single scanner (distributed.pcap)
        syn = run_pairs(runs, "tcp_syn_ports")
        ack = run_pairs(runs, "tcp_ack_ports")
        udp = run_pairs(runs, "udp_ports")
        icmp = {t for r in runs for t in per_type(r, "icmp_echo") if r["icmp"]}
        open_tcp = syn & set(SERVICES["tcp"])
        open_udp = udp & set(SERVICES["udp"])
        e = {"scan": True, "tool": s["tool"], "kind": s["kind"], "scanner": scanner,
             "sources": sorted({a for r in runs for a in run_sources(r, scanner)}, key=ipkey),
             "targets": tgt,
             "tcp_ports": sorted({p for _, p in syn | ack}),
             "udp_ports": sorted({p for _, p in udp}),
             "icmp_targets": sorted(icmp, key=ipkey),
             "runs": runs,
             "open": [dict(proto="tcp", **x) for x in pairs(open_tcp)] + [dict(proto="udp", **x) for x in pairs(open_udp)],
             "closed_udp": pairs(udp - open_udp),
             "hosts_up": sorted(set(tgt) & set(ASSIGNED), key=ipkey)}
        if "probe_interval_s" in s:
            e["probe_interval_s"] = s["probe_interval_s"]
        if "decoys" in s:
            e["decoys"] = s["decoys"]
        if scanner is None:
            e["per_source_ports"] = {a: sorted({p for r in runs if a in run_sources(r, scanner) for p in r["tcp_syn_ports"]})
                                     for a in e["sources"]}
        files[name] = e
    files["benign-busy.pcap"] = {
        "scan": False, "tool": None, "client": SCANNER,
        "kind": "benign: busy client, every connection and query succeeds (no RST, no ICMP errors)",
        "targets": ["10.90.0.1", "10.90.0.5"], "commands": cmds["benign-busy.pcap"],
        "http_fetches": 31, "tls_sessions": 4, "dns_queries": 40,
        "open": [{"proto": "tcp", "host": "10.90.0.1", "port": 80}, {"proto": "tcp", "host": "10.90.0.1", "port": 443},
                 {"proto": "tcp", "host": "10.90.0.1", "port": 8080}, {"proto": "tcp", "host": "10.90.0.5", "port": 80},
                 {"proto": "udp", "host": "10.90.0.1", "port": 53}]}
    doc = {
        "description": "Ground truth for pcaps/scans/*.pcap, written by pcaps/make-scans.sh. 'open' = (proto, host, port) "
                       "pairs the scanner probed that had a listening service (what it could learn); 'hosts_up' = probed "
                       "addresses that exist (they answer RST / ICMP / SYN-ACK). nmap-ping.pcap: which hosts got which "
                       "probe type is read from the capture (runs[0].*_targets), and 'open' follows from its SYN 443 "
                       "probes. 'sources' = the source addresses of the probes: the scanner alone, except in "
                       "nmap-decoy.pcap (the scanner and its 'decoys', same probes from each) and distributed.pcap "
                       "('scanner' null; each source scans its own ports, 'per_source_ports').",
        "network": {"scanner": SCANNER, "scanner_mac": "02:90:00:00:00:66", "router": "198.18.0.1",
                    "target_mac": "02:90:00:00:00:01", "targets_assigned": "10.90.0.1-10.90.0.64",
                    "services": {k: pairs(v) for k, v in SERVICES.items()}},
        "files": files}
    text = json.dumps(doc, indent=2)
    # lists of plain numbers/strings on one line (the 1025-port list would take 1025 lines otherwise)
    text = re.sub(r'\[\s+([^\[\]{}]*?)\s+\]', lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    text = re.sub(r'\{\s+([^\[\]{}]*?)\s+\}', lambda m: "{" + " ".join(m.group(1).split()) + "}", text)
    assert json.loads(text) == doc, "compacting truth.json changed its content"
    with open(out, "w") as fh:
        fh.write(text + "\n")

QUERY_KEYS = ["syn", "ack", "udp", "icmp_timestamp_targets", "open_tcp", "open_udp", "closed_udp", "hosts_up",
              "icmp_targets", "targets", "src_syn", "src_open_tcp", "sources"]

def query(truth, outdir):
    """Write outdir/<file>/<key>: sorted 'host port' (or 'host', 'source host port') lines of each key for each
    file, read by the shell checks (one python run instead of one per check).  A key the file lacks (benign:
    no 'closed_udp') is not written, and reading it fails the check."""
    for name, e in json.load(open(truth))["files"].items():
        os.makedirs(os.path.join(outdir, name), exist_ok=True)
        for key in QUERY_KEYS:
            try:
                lines = sorted(query_set(e, key))
            except KeyError:
                continue
            with open(os.path.join(outdir, name, key), "w") as fh:
                fh.write("".join(line + "\n" for line in lines))

def query_set(e, key):
    runs = e.get("runs", [])
    if key == "src_syn":        # 'source target port' of every SYN probe
        s = {f"{a} {t} {p}" for r in runs for a in run_sources(r, e["scanner"]) for t, p in run_pairs([r], "tcp_syn_ports")}
    elif key == "src_open_tcp":  # 'source host port': the SYN-ACKs each source should get
        svc = {(x["host"], x["port"]) for x in e["open"] if x["proto"] == "tcp"}
        s = {f"{a} {t} {p}" for r in runs for a in run_sources(r, e["scanner"]) for t, p in run_pairs([r], "tcp_syn_ports") & svc}
    elif key == "sources":
        s = set(e["sources"])
    elif key in ("syn", "ack", "udp"):
        k = {"syn": "tcp_syn_ports", "ack": "tcp_ack_ports", "udp": "udp_ports"}[key]
        s = {f"{t} {p}" for t, p in run_pairs(runs, k)}
    elif key == "icmp_timestamp_targets":
        s = {t for r in runs for t in r.get(key, [])}
    elif key in ("open_tcp", "open_udp"):
        s = {f"{x['host']} {x['port']}" for x in e["open"] if x["proto"] == key[5:]}
    elif key == "closed_udp":
        s = {f"{x['host']} {x['port']}" for x in e["closed_udp"]}
    elif key in ("hosts_up", "icmp_targets", "targets"):
        s = set(e[key])
    else:
        raise SystemExit(f"unknown key {key}")
    return s

def tshark(pcap, flt, fields, occurrence="f"):
    cmd = ["tshark", "-n", "-r", pcap, "-Y", flt, "-T", "fields", "-E", "occurrence=" + occurrence,
           "-E", "aggregator=,", "-E", "separator=\t"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines() if l]

def num(v):
    return int(v, 16) if v.startswith("0x") else int(v)

def seq_pattern(xs, what):
    """Describe a sequence of numbers (IP IDs, source ports, ICMP ids) in probe order."""
    if not xs:
        return "-"
    c = Counter(xs)
    lo, hi = min(xs), max(xs)
    if len(c) == 1:
        return f"fixed {xs[0]}"
    if len(c) <= 3:
        return "few: " + ", ".join(f"{v} x{n}" for v, n in sorted(c.items()))
    d = [(b - a) % 65536 for a, b in zip(xs, xs[1:])]
    if all(x == 1 for x in d):
        return f"+1 per probe ({xs[0]}..{xs[-1]})"
    if sum(1 for x in d if x == 1) >= 0.8 * len(d):
        return f"mostly +1 per probe ({lo}-{hi})"
    if sum(1 for x in d if 0 < x < 256) >= 0.9 * len(d):
        return f"increasing in small steps ({xs[0]}..{xs[-1]})"
    return f"random-looking ({len(c)} distinct in {len(xs)}, {lo}-{hi})"

def vals(xs, rng=False):
    """Values with counts; a numeric field with many values is shown as a range."""
    xs = [x for x in xs if x != ""]
    if not xs:
        return "-"
    c = Counter(xs)
    if len(c) == 1:
        return xs[0]
    if rng and len(c) > 4:
        n = sorted(num(x) for x in c)
        return f"varies {n[0]}-{n[-1]} ({len(c)} values)"
    return ", ".join(f"{v} x{k}" for v, k in c.most_common(4)) + (" ..." if len(c) > 4 else "")

KIND = {"0": "EOL", "1": "NOP", "2": "MSS", "3": "WS", "4": "SACK_PERM", "8": "TS"}

def traits(pcap, label, flt):
    """One markdown row describing the probes matched by flt (in capture order)."""
    f = ["ip.ttl", "ip.flags.df", "ip.id", "ip.len", "tcp.window_size_value", "tcp.option_kind",
         "tcp.options.mss_val", "tcp.srcport", "udp.srcport", "icmp.ident", "icmp.seq", "tcp"]
    rows = tshark(pcap, flt, f, occurrence="a")
    if not rows:
        return
    first = lambda r, i: r[i].split(",")[0]
    col = lambda i: [first(r, i) for r in rows]
    is_tcp = rows[0][11] != ""
    opts = Counter(",".join(KIND.get(k, k) for k in r[5].split(",")) if r[5] else "none" for r in rows)
    ostr = "; ".join(o + ("" if len(opts) == 1 else f" x{n}") for o, n in opts.most_common(3))
    sp = [num(x) for x in (col(7) if is_tcp else col(8)) if x]
    ident = [num(x) for x in col(9) if x]
    src = seq_pattern(sp, "port") if sp else f"ICMP id: {seq_pattern(ident, 'id')}, seq {vals(col(10))}"
    print(f"| {label} | {len(rows)} | {vals(col(0), rng=True)} | {vals(col(1))} | "
          f"{seq_pattern([num(x) for x in col(2)], 'id')} | {vals(col(3))} | "
          f"{vals(col(4)) if is_tcp else '-'} | {ostr if is_tcp else '-'} | {vals(col(6)) if is_tcp else '-'} | {src} |")

if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "build":
        build(*sys.argv[2:6])
    elif cmd == "query":
        query(*sys.argv[2:4])
    elif cmd == "traits":
        traits(*sys.argv[2:5])
    elif cmd == "masscan_ipid":
        # masscan sets the IP ID of a SYN to (destination address ^ destination port ^ TCP sequence) & 0xffff
        rows = tshark(sys.argv[2], "eth.src == 02:90:00:00:00:66 && tcp.flags.syn == 1 && tcp.flags.ack == 0",
                      ["ip.dst", "tcp.dstport", "tcp.seq_raw", "ip.id"])
        a2i = lambda a: int.from_bytes(bytes(int(x) for x in a.split(".")), "big")
        ok = sum(1 for d, p, q, i in rows if (a2i(d) ^ int(p) ^ int(q)) & 0xFFFF == num(i))
        print(f"{ok}/{len(rows)}")
    else:
        raise SystemExit(f"unknown command {cmd}")
PY
python3 "$TMP/pks.py" build "$TMP/cmds.tsv" "$TMP/skipped.tsv" "$OUT/truth.json" "$OUT/nmap-ping.pcap"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$OUT/truth.json" || die "truth.json is not valid JSON"

# ---------------------------------------------------------------- verification (tshark)
say "verifying every capture with tshark against truth.json"
# One tshark pass per file into a TSV; direction is taken from the Ethernet source (the scanner's or the
# target's MAC), so headers quoted inside ICMP errors are never mistaken for the outer ones.
#  1 frame.number  2 time  3 eth.src  4 ip.src  5 ip.dst  6 tcp.srcport  7 tcp.dstport  8 syn  9 ack  10 rst
# 11 tcp.flags  12 udp.srcport  13 udp.dstport  14 icmp.type  15 icmp.code  16 arp.opcode  17 ipv6.src
# 18 http.response.code  19 tls.handshake.type  20 dns.flags.response  21 dns.flags.rcode
# (occurrence=f: outer IP header; for an ICMP error the UDP/TCP fields are those of the quoted packet)
dump() {
    tshark -n -r "$OUT/$1" -T fields -E occurrence=f -E separator=/t -e frame.number -e frame.time_relative \
        -e eth.src -e ip.src -e ip.dst -e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
        -e tcp.flags.reset -e tcp.flags -e udp.srcport -e udp.dstport -e icmp.type -e icmp.code -e arp.opcode \
        -e ipv6.src -e http.response.code -e tls.handshake.type -e dns.flags.response -e dns.flags.rcode \
        >"$TMP/$1.tsv" 2>"$TMP/$1.tshark.err" || { cat "$TMP/$1.tshark.err" >&2; die "tshark cannot read $1"; }
    [ -s "$TMP/$1.tsv" ] || die "$1: tshark read no packets"
}
sel() {  # file awk-condition awk-expression: print expression for matching packets
    awk -F'\t' -v SC="$SC_MAC" -v TG="$TGT_MAC" \
        'function b(x) { return x == "1" || x == "True" } '"$2"' { print '"$3"' }' "$TMP/$1.tsv"
}
cnt() { sel "$1" "$2" 1 | wc -l; }
set_of() { sel "$@" | sort -u; }
python3 "$TMP/pks.py" query "$OUT/truth.json" "$TMP/q" || die "cannot read truth.json back"
tq() {  # file key: the lines truth.json gives for key (written by pks.py query above)
    # (called inside $(...): a die here would only end the subshell, so a missing key prints a line that
    # no capture can match, and the comparison fails)
    [ -e "$TMP/q/$1/$2" ] || { echo "truth.json has no '$2' for $1" >&2; echo "<no $2 in truth.json>"; return 1; }
    sort -u "$TMP/q/$1/$2"
}
same() {  # what file got want
    if [ "$3" != "$4" ]; then
        diff <(printf '%s\n' "$4") <(printf '%s\n' "$3") | head -20 >&2 || true
        die "$2: $1 differs from truth.json (diff: < truth, > capture)"
    fi
}
FROM_SC='$3 == SC'
FROM_TG='$3 == TG'
NOICMP='$14 == ""'
SYN='b($8) && !b($9)'
SYNACK='b($8) && b($9)'
RST='b($10)'
PUREACK='$11 == "0x0010"'
UDP='$12 != "" && $14 == ""'
UNREACH='$14 == "3" && $15 == "3"'
SUMMARY="$TMP/summary.tsv"
printf 'file\tpackets\tbytes\tSYN\tSYN-ACK\tRST to scanner\tRST from scanner\tICMP port unreach\tUDP\tICMP echo req\n' >"$SUMMARY"

# Addresses a file may contain: the targets, the router, the scanner, and the extra sources of its own capture
OK_PCAP_ADDR='10\.90\.0\.([0-9]|[1-5][0-9]|6[0-4])|198\.18\.0\.(1|66)'
extra_addrs() {
    case $1 in
        nmap-decoy.pcap) echo '|198\.18\.0\.(67|68|69)' ;;
        distributed.pcap) echo '|198\.18\.0\.(1[01][0-9]|12[0-3])' ;;
    esac
}
common_checks() {  # file: link type, size, only our MACs and addresses, IPv4/ARP only; adds a summary line
    local f=$1 p=$OUT/$1 addrs bad enc size
    dump "$f"
    enc=$(capinfos -E "$p" | sed -n 's/^File encapsulation: *//p')
    [ "$enc" = "Ethernet" ] || die "$f: encapsulation is '$enc'"
    size=$(stat -c %s "$p")
    [ "$size" -lt 300000 ] || die "$f: larger than 300 KB ($size bytes)"
    [ "$(cnt "$f" '$17 != ""')" = 0 ] || die "$f: has IPv6 packets"
    [ "$(cnt "$f" '$4 == "" && $16 == ""')" = 0 ] || die "$f: has packets that are neither IPv4 nor ARP"
    [ "$(cnt "$f" "!($FROM_SC) && !($FROM_TG)")" = 0 ] || die "$f: has frames from a MAC that is not ours"
    # every address in every header (incl. ICMP-quoted headers and ARP) is one the script assigned
    addrs=$(tshark -n -r "$p" -T fields -E occurrence=a -E aggregator=' ' -e ip.src -e ip.dst \
            -e arp.src.proto_ipv4 -e arp.dst.proto_ipv4 2>/dev/null | tr '\t ' '\n\n' | sed '/^$/d' | sort -u)
    bad=$(grep -Ev "^($OK_PCAP_ADDR$(extra_addrs "$f"))\$" <<<"$addrs" || true)
    [ -z "$bad" ] || die "$f: foreign addresses: $(tr '\n' ' ' <<<"$bad")"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$f" "$(wc -l <"$TMP/$f.tsv")" "$size" \
        "$(cnt "$f" "$NOICMP && $SYN")" "$(cnt "$f" "$NOICMP && $SYNACK")" \
        "$(cnt "$f" "$FROM_TG && $NOICMP && $RST")" "$(cnt "$f" "$FROM_SC && $NOICMP && $RST")" \
        "$(cnt "$f" "$UNREACH")" "$(cnt "$f" "$UDP")" "$(cnt "$f" '$14 == "8"')" >>"$SUMMARY"
}
scan_checks() {  # file: probe sets, answers and open pairs equal truth.json
    local f=$1
    common_checks "$f"
    same "SYN probe set (ip.dst, tcp.dstport)" "$f" "$(set_of "$f" "$FROM_SC && $NOICMP && $SYN" '$5" "$7')" "$(tq "$f" syn)"
    same "ACK probe set (ip.dst, tcp.dstport)" "$f" "$(set_of "$f" "$FROM_SC && $NOICMP && $PUREACK" '$5" "$7')" "$(tq "$f" ack)"
    same "UDP probe set (ip.dst, udp.dstport)" "$f" "$(set_of "$f" "$FROM_SC && $UDP" '$5" "$13')" "$(tq "$f" udp)"
    same "ICMP echo targets" "$f" "$(set_of "$f" "$FROM_SC && \$14 == \"8\"" '$5')" "$(tq "$f" icmp_targets)"
    same "SYN-ACK (ip.src, tcp.srcport) = open TCP" "$f" "$(set_of "$f" "$FROM_TG && $NOICMP && $SYNACK" '$4" "$6')" "$(tq "$f" open_tcp)"
    same "UDP answers (ip.src, udp.srcport) = open UDP" "$f" "$(set_of "$f" "$FROM_TG && $UDP" '$4" "$12')" "$(tq "$f" open_udp)"
    same "ICMP port unreachable (ip.src, quoted udp.dstport) = closed UDP" "$f" \
        "$(set_of "$f" "$FROM_TG && $UNREACH" '$4" "$13')" "$(tq "$f" closed_udp)"
    same "hosts that answered the scanner" "$f" "$(set_of "$f" "$FROM_TG && \$4 != \"\"" '$4')" "$(tq "$f" hosts_up)"
    # per source address (the scanner alone, or nmap-decoy's four, or distributed's 24)
    same "IPv4 sources in the scanner namespace" "$f" "$(set_of "$f" "$FROM_SC && \$4 != \"\"" '$4')" "$(tq "$f" sources)"
    same "SYN probe set (ip.src, ip.dst, tcp.dstport)" "$f" "$(set_of "$f" "$FROM_SC && $NOICMP && $SYN" '$4" "$5" "$7')" "$(tq "$f" src_syn)"
    same "SYN-ACK (ip.dst, ip.src, tcp.srcport) = open TCP per source" "$f" \
        "$(set_of "$f" "$FROM_TG && $NOICMP && $SYNACK" '$5" "$4" "$6')" "$(tq "$f" src_open_tcp)"
}
for f in nmap-sweep.pcap nmap-vertical.pcap nmap-ping.pcap nmap-udp.pcap nmap-slow.pcap hping3-scan.pcap masscan.pcap zmap.pcap \
         nmap-decoy.pcap distributed.pcap; do
    if [ -e "$OUT/$f" ]; then
        scan_checks "$f"
    else
        grep -q "^$f"$'\t' "$TMP/skipped.tsv" || die "$f missing but not skipped"
    fi
done

# per-file specifics
[ "$(cnt nmap-sweep.pcap "$FROM_TG && $RST")" -ge 125 ] || die "nmap-sweep.pcap: want >= 125 RSTs from closed ports"
[ "$(cnt nmap-vertical.pcap "$FROM_TG && $NOICMP && $RST")" -ge 1020 ] || die "nmap-vertical.pcap: want >= 1020 RSTs from closed ports"
# nmap-ping: the echo request went to every target and every host answered it; the other probe types
# (read into truth.json from the capture) reached a subset, each at least one host
f=nmap-ping.pcap
ALL64=$(for i in $(seq 1 64); do echo "10.90.0.$i"; done | sort)
same "ICMP echo targets" $f "$(set_of $f "$FROM_SC && \$14 == \"8\"" '$5')" "$ALL64"
same "ICMP echo repliers" $f "$(set_of $f "$FROM_TG && \$14 == \"0\"" '$4')" "$ALL64"
same "ICMP timestamp targets" $f "$(set_of $f "$FROM_SC && \$14 == \"13\"" '$5')" "$(tq $f icmp_timestamp_targets)"
for t in '$14 == "13"' "$NOICMP && $SYN && \$7 == \"443\"" "$NOICMP && $PUREACK && \$7 == \"80\""; do
    [ "$(cnt $f "$FROM_SC && $t")" -ge 1 ] || die "$f: no probe matching '$t'"
    [ -z "$(set_of $f "$FROM_SC && $t" '$5' | grep -vxF "$ALL64" || true)" ] || die "$f: '$t' probe to a non-target"
done
[ "$(cnt $f "$FROM_SC && \$4 != \"\" && !(\$14 == \"8\" || \$14 == \"13\" || ($NOICMP && $SYN && \$7 == \"443\") || ($NOICMP && $PUREACK && \$7 == \"80\") || ($NOICMP && $RST))")" = 0 ] \
    || die "$f: the scanner sent something other than echo / timestamp / SYN 443 / ACK 80 (or kernel RSTs)"
[ "$(cnt nmap-udp.pcap "$FROM_TG && $UNREACH")" -ge 3 ] || die "nmap-udp.pcap: want >= 3 ICMP port unreachables"
f=nmap-slow.pcap
# 21 port probes, plus nmap's timing pings: re-probes of a port already found closed (another source port)
nslow=$(cnt $f "$FROM_SC && $NOICMP && $SYN")
[ "$nslow" -ge 21 ] && [ "$nslow" -le 26 ] || die "$f: want 21 SYN probes (+ up to 5 timing pings), got $nslow"
read -r mingap span < <(sel $f "$FROM_SC && $NOICMP && $SYN" '$2' \
    | awk 'NR > 1 { g = $1 - p; if (min == "" || g < min) min = g } NR == 1 { f = $1 } { p = $1 } END { printf "%.2f %.1f\n", min, p - f }')
awk -v m="$mingap" -v s="$span" 'BEGIN { exit !(m >= 2.5 && s >= 55) }' || die "$f: probes not slow (min gap ${mingap}s, span ${span}s)"
say "  nmap-slow.pcap: $nslow SYNs over ${span}s, at least ${mingap}s apart"
f=hping3-scan.pcap
[ "$(cnt $f "$FROM_SC && $NOICMP && $SYN && \$5 == \"10.90.0.5\" && \$7 == \"80\"")" = 20 ] || die "$f: want 20 SYNs to 10.90.0.5:80"
[ "$(cnt $f "$FROM_TG && $NOICMP && $SYNACK && \$4 == \"10.90.0.5\"")" = 20 ] || die "$f: want 20 SYN-ACKs from 10.90.0.5:80"
# nmap-decoy: (the sets above: the same 43 ports from each of the four sources, 4 open ports answered to each)
# every source sent at least one SYN per port, and the 39 closed ports were refused to every source
f=nmap-decoy.pcap
DECOY_SYN=""
for a in $(tq $f sources); do
    n=$(cnt $f "$FROM_SC && $NOICMP && $SYN && \$4 == \"$a\"")
    [ "$n" -ge 43 ] || die "$f: want >= 43 SYNs from $a, got $n"
    DECOY_SYN+="${DECOY_SYN:+, }$n from $a"
done
[ "$(cnt $f "$FROM_TG && $NOICMP && $RST")" -ge 156 ] || die "$f: want >= 156 RSTs (39 closed ports x 4 sources)"
# distributed: no source probed more than 10 ports (the point of the capture), and 237 closed ports refused
f=distributed.pcap
DIST_MAXP=$(set_of $f "$FROM_SC && $NOICMP && $SYN" '$4" "$7' | awk '{ n[$1]++ } END { for (a in n) if (n[a] > m) m = n[a]; print m + 0 }')
[ "$DIST_MAXP" = 10 ] || die "$f: want at most (and exactly) 10 ports per source, got $DIST_MAXP"
[ "$(cnt $f "$FROM_TG && $NOICMP && $RST")" -ge 237 ] || die "$f: want >= 237 RSTs from closed ports"
DIST_SYN=$(cnt $f "$FROM_SC && $NOICMP && $SYN")
DIST_SPAN=$(sel $f "$FROM_SC && $NOICMP && $SYN" '$2' | awk 'NR == 1 { f = $1 } { l = $1 } END { printf "%.1f\n", l - f }')
# nmap-decoy, for the README: probes whose four copies (one per source) share source port, IP ID and sequence
DECOY_SAME=$(tshark -n -r "$OUT/nmap-decoy.pcap" -Y "eth.src == $SC_MAC && tcp.flags.syn == 1 && tcp.flags.ack == 0" \
    -T fields -e ip.src -e tcp.dstport -e tcp.srcport -e ip.id -e tcp.seq_raw 2>/dev/null \
    | awk '!seen[$0]++ { k = $2 " " $3 " " $4 " " $5; n[k]++ } END { for (k in n) if (n[k] == 4) c++; print c + 0 }')
say "  nmap-decoy.pcap: SYNs $DECOY_SYN; distributed.pcap: $DIST_SYN SYNs from 24 sources over ${DIST_SPAN}s"

# benign: everything succeeds
f=$B
common_checks "$f"
[ "$(cnt $f "$NOICMP && $RST")" = 0 ] || die "$f: has TCP RSTs"
[ "$(cnt $f '$14 != ""')" = 0 ] || die "$f: has ICMP"
nsyn=$(cnt $f "$FROM_SC && $SYN"); nsynack=$(cnt $f "$FROM_TG && $SYNACK")
[ "$nsyn" = 35 ] && [ "$nsynack" = 35 ] || die "$f: want 35 SYN and 35 SYN-ACK, got $nsyn / $nsynack"
same "server (ip.src, tcp.srcport) pairs" $f "$(set_of $f "$FROM_TG && $SYNACK" '$4" "$6')" "$(tq $f open_tcp)"
same "DNS server (ip.src, udp.srcport) pairs" $f "$(set_of $f "$FROM_TG && $UDP" '$4" "$12')" "$(tq $f open_udp)"
[ "$(cnt $f '$18 == "200"')" = 31 ] || die "$f: want 31 HTTP 200 responses"
[ "$(cnt $f '$18 != "" && $18 != "200"')" = 0 ] || die "$f: has non-200 HTTP responses"
[ "$(cnt $f "$FROM_SC && \$19 == \"1\"")" = 4 ] || die "$f: want 4 TLS ClientHellos"
[ "$(cnt $f '$20 != "" && !b($20)')" = 40 ] || die "$f: want 40 DNS queries"
[ "$(cnt $f 'b($20) && $21 == "0"')" = 40 ] || die "$f: want 40 NOERROR DNS answers"

# facts for the README
PING_SYN=$(cnt nmap-ping.pcap "$FROM_SC && $NOICMP && $SYN")
PING_ACK=$(cnt nmap-ping.pcap "$FROM_SC && $NOICMP && $PUREACK")
PING_TS=$(cnt nmap-ping.pcap "$FROM_SC && \$14 == \"13\"")
PING_ALL4=$(sel nmap-ping.pcap "$FROM_SC && \$4 != \"\" && !($NOICMP && $RST)" '$5' | sort | uniq -c | awk '$1 >= 4' | wc -l)
UDP_PROBES=$(cnt nmap-udp.pcap "$FROM_SC && $UDP")
HPING_SCAN_SYN=$(cnt hping3-scan.pcap "$FROM_SC && $NOICMP && $SYN && \$5 == \"10.90.0.1\"")
MASSCAN_IPID=""
if [ -e "$OUT/masscan.pcap" ]; then MASSCAN_IPID=$(python3 "$TMP/pks.py" masscan_ipid "$OUT/masscan.pcap"); fi

# ---------------------------------------------------------------- summary
say "summary (counts by tshark):"
column -t -s $'\t' "$SUMMARY" >&2 2>/dev/null || cat "$SUMMARY" >&2
while IFS=$'\t' read -r f why; do say "skipped $f: $why"; done <"$TMP/skipped.tsv"

TRAITS="$TMP/traits.md"
D_SC="eth.src == $SC_MAC && !icmp.type == 3"        # sent by the scanner namespace (not ICMP errors)
D_SYN="$D_SC && tcp.flags.syn == 1 && tcp.flags.ack == 0"
D_RST="$D_SC && tcp.flags.reset == 1"
trow() {  # file label display-filter
    [ -e "$OUT/$1" ] || return 0
    python3 "$TMP/pks.py" traits "$OUT/$1" "$2" "$3" || die "traits of $1 failed"
}
{
echo '| file: probes | n | IP TTL | DF | IP ID (in send order) | IP len | TCP window | TCP options | MSS | source port (in send order) |'
echo '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'
trow nmap-sweep.pcap '`nmap-sweep`: SYN' "$D_SYN"
trow nmap-vertical.pcap '`nmap-vertical`: SYN' "$D_SYN"
trow nmap-slow.pcap '`nmap-slow`: SYN' "$D_SYN"
trow nmap-ping.pcap '`nmap-ping`: ICMP echo' "$D_SC && icmp.type == 8"
trow nmap-ping.pcap '`nmap-ping`: ICMP timestamp' "$D_SC && icmp.type == 13"
trow nmap-ping.pcap '`nmap-ping`: SYN 443' "$D_SYN"
trow nmap-ping.pcap '`nmap-ping`: ACK 80' "$D_SC && tcp.flags == 0x010"
trow nmap-udp.pcap '`nmap-udp`: UDP' "$D_SC && udp"
trow hping3-scan.pcap '`hping3-scan`: SYN, `--scan` to 10.90.0.1' "$D_SYN && ip.dst == 10.90.0.1"
trow hping3-scan.pcap '`hping3-scan`: SYN, `-c 20` to 10.90.0.5:80' "$D_SYN && ip.dst == 10.90.0.5"
trow masscan.pcap '`masscan`: SYN' "$D_SYN"
trow masscan.pcap '`masscan`: RST sent by masscan' "$D_RST && ip.ttl == 255"
trow zmap.pcap '`zmap`: SYN' "$D_SYN"
trow nmap-sweep.pcap '`nmap-sweep`: RST from the scanner kernel (to a SYN-ACK)' "$D_RST"
trow benign-busy.pcap '`benign-busy`: SYN (Linux kernel: curl, openssl)' "$D_SYN"
trow nmap-decoy.pcap '`nmap-decoy`: SYN from the scanner (198.18.0.66)' "$D_SYN && ip.src == $SCANNER"
trow nmap-decoy.pcap '`nmap-decoy`: SYN from the decoys' "$D_SYN && ip.src != $SCANNER"
trow distributed.pcap '`distributed`: SYN (24 nmap runs)' "$D_SYN"
trow benign-busy.pcap '`benign-busy`: DNS query (dig)' "$D_SC && udp"
} >"$TRAITS"
cat "$TRAITS" >&2

# ---------------------------------------------------------------- install + README
pk_install "$DEST" nmap-sweep.pcap nmap-vertical.pcap nmap-ping.pcap nmap-udp.pcap nmap-slow.pcap hping3-scan.pcap \
    masscan.pcap zmap.pcap benign-busy.pcap nmap-decoy.pcap distributed.pcap truth.json
if [ "$DEST" != "$HERE/scans" ]; then exit 0; fi

rawtraits() {  # the one-liner from the README, on one file
    tshark -r "$1" -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e ip.ttl -e tcp.window_size_value \
        -e tcp.options -e ip.id -e tcp.srcport 2>/dev/null | sort | uniq -c | head -5
}
cmds_of() { awk -F'\t' -v f="$1" '$1 == f {printf "%s`%s`", (n++ ? ", then " : ""), $2} END {print ""}' "$TMP/cmds.tsv"; }
{
cat <<EOF
# Scan test captures

Made by [\`../make-scans.sh\`](../make-scans.sh) (\`sudo bash pcaps/make-scans.sh\`, root, about 2.5 minutes;
overwrites the files here and this README). Ground truth for each file is in [\`truth.json\`](truth.json).

## Setup

Two network namespaces joined by one veth pair, no default route anywhere, so nothing can leave them:

| namespace | veth MAC | addresses | routes |
| --- | --- | --- | --- |
| \`pks-tg-PID\` (targets) | 02:90:00:00:00:01 | 10.90.0.1 ... 10.90.0.64 /24, 198.18.0.1/24 | connected only |
| \`pks-sc-PID\` (scanner) | 02:90:00:00:00:66 | 198.18.0.66/24; from nmap-decoy on also .67-.69 and .100-.123 /24 | 10.90.0.0/24 via 198.18.0.1 |

The scanner (198.18.0.66, RFC 2544 benchmarking range) is outside RFC 1918 and the targets are inside it, so
for a sensor whose home network is RFC 1918 every scan here is **inbound**. Frames to 10.90.0.x go to the
target namespace's MAC (its "router" address 198.18.0.1 is on the same veth) and are delivered there
directly, so TTLs arrive as the tool set them. The scanner namespace gets its extra addresses (nmap-decoy's
decoys 198.18.0.67-69, distributed's sources 198.18.0.100-123) only after the other captures are made; they
are there so that the target's ARP for them is answered and its replies come back on the link.

Services in the target namespace (the script checks with \`ss\` that exactly these listen):
TCP 22 (python: sends an SSH banner and closes), 53 (dnsmasq), 80 and 8080 (\`python3 -m http.server\`) and
443 (\`openssl s_server -www\`, throw-away P-256 certificate) on 10.90.0.1; TCP 80 (\`http.server\`) on
10.90.0.5; UDP 53 (dnsmasq \`--no-resolv --no-hosts --address=/#/10.90.0.1\`) and UDP 161 (python: echoes
each datagram) on 10.90.0.1. Every other port of 10.90.0.1-64 answers RST (TCP) or ICMP port unreachable
(UDP). 10.90.0.0, in masscan's and zmap's /26, is not assigned and never answers.

Captures: \`tcpdump -U --immediate-mode -B 65536 -s 0 -i veth0\` in the target namespace, no filter (ARP
is included), stopped with SIGINT 1.5 s after the tool exits; the script fails if tcpdump reports a kernel
drop. Ethernet link type, IPv4 only (IPv6 is disabled on both ends). Segmentation offloads (TSO/GSO/GRO)
are off on both veth ends (\`ethtool -K\`): frames are wire-sized, and libpcap then sizes its ring slots by
the MTU; with offloads on it gives every slot the full snapshot length, \`-B 65536\` holds only ~256
frames and nmap's 2000-packet vertical scan overflowed it.

## Files

Counts by tshark; direction by Ethernet source (SYN counts include the benign client's SYNs).

| file | packets | bytes | SYN | SYN-ACK | RST to scanner | RST from scanner | ICMP port unreach | UDP | ICMP echo req |
| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |
$(tail -n +2 "$SUMMARY" | awk -F'\t' '{printf "| `%s` |", $1; for (i = 2; i <= NF; i++) printf " %s |", $i; print ""}')

Commands (all in the scanner namespace, each under \`timeout\`; \$TMP is the script's temporary directory):

EOF
for f in nmap-sweep.pcap nmap-vertical.pcap nmap-ping.pcap nmap-udp.pcap nmap-slow.pcap hping3-scan.pcap \
         masscan.pcap zmap.pcap benign-busy.pcap nmap-decoy.pcap; do
    if [ -e "$OUT/$f" ]; then printf '* `%s`: %s\n' "$f" "$(cmds_of "$f")"; fi
done
dist_cmd() { awk -F'\t' -v n="$1" '$1 == "distributed.pcap" && ++i == n { print $2 }' "$TMP/cmds.tsv"; }
printf '* `distributed.pcap`: %s runs (%s at a time) of `nmap -sS -n -Pn -e veth0 -S 198.18.0.<100+k> -p <10k+1>-<10k+10> 10.90.0.1`, k = 0 ... %s: `%s`, `%s`, ..., `%s` (each in truth.json)\n' \
    "$DIST_N" "$DIST_PAR" "$(( DIST_N - 1 ))" "$(dist_cmd 1)" "$(dist_cmd 2)" "$(dist_cmd "$DIST_N")"
cat <<EOF

What each contains:

* \`nmap-sweep.pcap\`: horizontal SYN sweep, 64 hosts x ports 80, 443. Open: 10.90.0.1:80, 10.90.0.1:443,
  10.90.0.5:80 (SYN-ACK; the scanner's kernel answers RST); every other probe gets RST/ACK (all 64 addresses exist).
* \`nmap-vertical.pcap\`: vertical SYN scan of 10.90.0.1, 1025 ports. Open: 22, 53, 80, 443, 8080.
* \`nmap-ping.pcap\`: \`-sn\` host discovery as root of a routed (not on-link, so no ARP ping) range. nmap
  sends its probe types in passes over the hosts (ICMP echo to all 64, then TCP SYN 443, TCP ACK 80, ICMP
  timestamp) and stops probing a host once it has answered. On a bare veth every echo reply is back within
  microseconds and almost only echo requests would be sent, so for this capture the target's egress is
  shaped with \`tc qdisc add dev veth0 root tbf rate 64kbit burst 200 latency 10s\` (about 7.5 ms per reply,
  as over a slow routed path; netem is not available on this kernel). Here: 64 echo requests, $PING_SYN SYN 443,
  $PING_ACK ACK 80, $PING_TS timestamp requests; $PING_ALL4 hosts got all four. All 64 hosts answer the echo;
  truth.json lists which hosts got each probe type (read from the capture).
* \`nmap-udp.pcap\`: UDP scan with nmap's protocol payloads ($UDP_PROBES probes: two payloads each for 123 and 500).
  53 (dnsmasq) and 161 (echo) answer; 123, 500, 1900 get ICMP port unreachable. The answers reach the scanner
  after nmap has closed its socket, so the scanner's kernel answers them with ICMP port unreachable too.
* \`nmap-slow.pcap\`: \`--scan-delay 3s --max-retries 0\`: $nslow SYNs over ${span} s, at least ${mingap} s apart
  (the script checks >= 2.5 s and a span >= 55 s): the 21 ports plus nmap's timing pings (re-probes of a port
  already found closed, from another source port). Open: 22.
* \`hping3-scan.pcap\`: \`hping3 --scan 20-120 -S\` to 10.90.0.1 ($HPING_SCAN_SYN SYNs for 101 ports: hping3 sends each
  port up to 3 times within ~0.1 s, the count varies from run to run; open: 22, 53, 80), then 20 SYNs at 1/s to 10.90.0.5:80, each answered by SYN-ACK
  (the scanner's kernel sends the RSTs).
* \`masscan.pcap\`: stateless raw-frame sweep of 10.90.0.0/26, ports 80 and 443 at 500 pps. Open: 10.90.0.1:80,
  10.90.0.1:443, 10.90.0.5:80. masscan itself answers every RST/ACK with a RST of its own (TTL 255, window
  1200), and the scanner's kernel RSTs the SYN-ACKs.
* \`zmap.pcap\`: stateless raw-frame sweep of 10.90.0.0/26, port 80 at 200 pps. Open: 10.90.0.1:80, 10.90.0.5:80.
* \`benign-busy.pcap\`: one client (198.18.0.66) doing 31 HTTP fetches (10.90.0.1:80, 10.90.0.5:80,
  10.90.0.1:8080), 4 TLS sessions to 10.90.0.1:443 (GET / over TLS) and 40 DNS A queries (40 names) to
  10.90.0.1. Every connection completes (35 SYN, 35 SYN-ACK, no RST, no ICMP) and every query is answered
  NOERROR: many connections and source ports, but only two destination hosts and only open ports.
* \`nmap-decoy.pcap\`: \`-D 198.18.0.67,198.18.0.68,ME,198.18.0.69\`: a vertical SYN scan of 10.90.0.1,
  ports 20-60, 80, 443 (43 ports), in which every probe is sent four times, from the three decoys (source
  address spoofed by nmap) and from the real scanner 198.18.0.66, back to back. SYNs here (retries
  included): $DECOY_SYN. Open: 22, 53, 80, 443, each answered with a SYN-ACK to all four sources (the scanner's
  kernel RSTs them, for the decoys too: their addresses are on its veth); the 39 closed ports are refused to
  all four. Nothing in the packets marks the real one: truth.json has \`scanner\` and \`decoys\`.
* \`distributed.pcap\`: a distributed vertical scan of one host: 24 sources 198.18.0.100-123, each its own
  nmap run over a disjoint slice of 10 ports (source 100+k: ports 10k+1 ... 10k+10; ports 1-240 in all),
  ${DIST_PAR} runs at a time: $DIST_SYN SYNs over ${DIST_SPAN} s. Open: 22 (found by .102), 53 (.105), 80 (.107).
  10.90.0.1 is probed on 240 ports, but no source probes more than $DIST_MAXP, below picket's per-source port
  threshold (15 at medium). truth.json: \`scanner\` null, \`sources\`, \`per_source_ports\`.

## truth.json

\`files.<name>\`: \`scan\`, \`tool\`, \`kind\`, \`scanner\` (null for distributed.pcap), \`sources\` (the
source addresses of the probes: \`[scanner]\`, except nmap-decoy: the scanner and its \`decoys\`, and
distributed: 24 addresses, with \`per_source_ports\`), \`targets\`, \`tcp_ports\`, \`udp_ports\`,
\`icmp_targets\`, \`runs\` (each with the exact \`command\`, its targets and SYN / ACK / UDP ports, and
\`sources\` when not the scanner alone; for nmap-ping also \`icmp_echo_targets\`, \`icmp_timestamp_targets\`,
\`tcp_syn_targets\`, \`tcp_ack_targets\`),
\`open\` (the (proto, host, port) pairs probed that had a service: what the scanner could learn),
\`closed_udp\`, \`hosts_up\` (probed addresses that exist and answered). A skipped file has \`skipped\` (the
reason). \`benign-busy.pcap\` has \`scan: false\` and the services it used. \`network\` describes the setup.

The script checks every file with tshark against truth.json: the sets of (ip.dst, tcp.dstport) of the
scanner's SYNs, of its pure ACKs and of its UDP probes; the (ip.src, ip.dst, tcp.dstport) of the SYNs and the
IPv4 sources sent from the scanner namespace = \`sources\`; the ICMP echo targets; SYN-ACK (ip.src,
tcp.srcport) = the open TCP pairs, and (ip.dst, ip.src, tcp.srcport) = each source's open pairs; UDP answers
(ip.src, udp.srcport) = the open UDP pairs; ICMP port unreachables (quoted udp.dstport) = the closed UDP pairs; the hosts that answered the scanner = \`hosts_up\`. Also: only the
script's MACs and addresses appear (inside ICMP and ARP too), no IPv6, Ethernet link type, each file
< 300 KB, and the per-file points above (slow-scan spacing, hping3's 20 SYN/SYN-ACK, benign: no RST, no
ICMP, 31 HTTP 200, 4 ClientHellos, 40 NOERROR answers; decoy: >= 43 SYNs from each source; distributed:
at most 10 ports per source).

## Probe traits (as read by tshark)

Packets sent by the scanner namespace (\`eth.src == 02:90:00:00:00:66\`); SYN = \`tcp.flags.syn == 1 &&
tcp.flags.ack == 0\`. Options are \`tcp.option_kind\` in order; "xN" = number of packets with that value;
sequences (IP ID, source port, ICMP id) are described in send order.

$(cat "$TRAITS")

In short:

* **nmap** (raw packets): TTL random per probe (37-59 here), no DF, random IP ID, window 1024, only the MSS
  1460 option (44-byte SYN), one source port for the whole scan (timing pings and retries use another), ICMP
  echo with no payload (IP length 28), random ICMP id, seq 0; the ping ACK probe has window 1024 and no options.
* **hping3**: TTL 64, no DF, random IP ID, window 512, no options (40-byte SYN); \`--scan\` keeps one source
  port, plain mode increments the source port by one per probe, 1 probe/s by default.
* **masscan**: TTL 255, no DF, window 1024, no options, one source port; IP ID = (ip.dst ^ tcp.dstport ^ tcp.seq)
  & 0xffff (holds for ${MASSCAN_IPID:-n/a} SYNs here); RSTs of its own with window 1200.
* **zmap**: TTL 255, no DF, IP ID always 54321, window 65535, no options, a different random source port
  per target.
* **nmap -D** (decoys): every probe is sent once per source, in the \`-D\` order, back to back; the copies
  share source port, IP ID and TCP sequence number (here $DECOY_SAME of the 43 ports were probed by four such
  copies), and only the TTL (random per packet) and the source address differ.
* **Linux kernel** (benign client, and the RSTs the scanner's kernel sends to SYN-ACKs of raw scans): TTL 64,
  DF; SYN window 64240 with MSS, SACK_PERM, TS, NOP, WS (60-byte SYN); kernel RSTs have IP ID 0 and window 0.

Raw view of the SYNs (the one-liner below, first 5 lines per file: count, TTL, window, options in hex, IP ID,
source port):

    tshark -r FILE -Y 'tcp.flags.syn==1 && tcp.flags.ack==0' -T fields -e ip.ttl -e tcp.window_size_value \\
        -e tcp.options -e ip.id -e tcp.srcport | sort | uniq -c | head

EOF
for f in nmap-sweep nmap-vertical nmap-ping nmap-slow hping3-scan masscan zmap benign-busy nmap-decoy distributed; do
    [ -e "$OUT/$f.pcap" ] || continue
    printf '`%s.pcap`:\n\n```\n%s\n```\n\n' "$f" "$(rawtraits "$OUT/$f.pcap")"
done
echo "## Skipped / workarounds"
echo
pk_skipped_md "* Nothing was skipped: Debian 12 packages zmap, and masscan and zmap both run on a veth."
cat <<'EOF'
* masscan needs `--adapter veth0 --adapter-ip 198.18.0.66 --router-mac 02:90:00:00:00:01` (it sends raw
  frames and cannot find a router without a default route). masscan 1.3.2's receive thread (libpcap,
  TPACKET_V3) sleeps until a frame arrives, so on a quiet veth it never notices that its `--wait` window has
  ended and hangs ("waiting -N-secs"). The script waits for that window to pass, stops the capture, then
  sends one UDP datagram from the scanner to 10.90.0.1:9 (not in the capture) to wake it; masscan then
  exits 0.
* zmap needs `-i veth0 -S 198.18.0.66 -G 02:90:00:00:00:01`, an empty config (`-C`) and blacklist (`-b`) and
  an allow-list (`-w`) of exactly 10.90.0.0/26: Debian's /etc/zmap/blacklist.conf excludes 10/8 and 198.18/15.
* nmap-ping.pcap is made with the target's replies shaped by tbf (see above).
EOF
cat <<EOF

## Tool versions

\`\`\`
$(pk_pkgver nmap hping3 masscan zmap tcpdump tshark dnsmasq bind9-dnsutils curl openssl iproute2 ethtool)
$(nmap --version 2>&1 | head -1)
$(hping3 --version 2>&1 | head -1)
$(if command -v masscan >/dev/null; then masscan --version 2>&1 | grep -i 'version' | head -1; else echo 'masscan: not installed'; fi)
$(if command -v zmap >/dev/null; then zmap --version 2>&1 | head -1; else echo 'zmap: not installed'; fi)
$(tshark --version 2>/dev/null | head -1)
$(tcpdump --version 2>&1 | head -2)
$(python3 --version 2>&1)
kernel $(uname -r)
\`\`\`
EOF
} >"$DEST/README.md"
say "wrote $DEST/README.md"
