#!/usr/bin/env bash
# pcaps/make-halfopen.sh - build small, REAL captures of half-open TCP attempts (issue 13): SYN scans of ports
# that are OPEN (SYN, SYN-ACK, the scanner's RST, no data), a connect scan, nmap -6 sweeps, and a benign client
# whose Happy Eyeballs race leaves the same SYN, SYN-ACK, RST pattern behind.
#
#   sudo bash pcaps/make-halfopen.sh             (root is required; runnable from any cwd; about 40 s)
#   PKHO_DEST=/tmp/x bash pcaps/make-halfopen.sh  (write the captures + truth.json there instead; no README then)
#   PKHO_KEEP_TMP=1 ...                           (keep the temp dir: tool output, server log)
#   PKHO_HE_FILL=N ...                            (filler datagrams ahead of each IPv6 SYN-ACK in 6.; default 5)
#
# apt: zmap nmap curl dnsmasq python3 tcpdump tshark iproute2 ethtool coreutils
#
# Two network namespaces made here, joined by one veth pair; no default route, so nothing can leave them:
#   pks-hotg-PID  target   veth0 02:98:00:00:00:01  10.98.0.64 ... 10.98.0.127 (the /26 10.98.0.64/26, each /24),
#                          198.19.98.1/24 (its "router" address), fd98::1 ... fd98::20 (32 addresses, /64)
#   pks-hosc-PID  scanner  veth0 02:98:00:00:00:66  198.19.98.66/24, route 10.98.0.0/24 via 198.19.98.1; fd98::66/64
#                 (also the benign client of happy-eyeballs-benign.pcap)
# The IPv4 scanner is outside RFC 1918 (198.18.0.0/15, the benchmarking range), the targets inside, so for picket's
# default home network every IPv4 scan here is INBOUND; over IPv6 both ends are ULA (fc00::/7): INTERNAL. Both are
# directions picket's scan policy watches.
# One listener in the target namespace: a dual-stack HTTP server on [::]:8443 (listen backlog 1024), so TCP 8443
# is open on every one of the 64 IPv4 and 32 IPv6 addresses; every other port is closed (RST).  dnsmasq on
# 10.98.0.64:53 answers A 10.98.0.64 and AAAA fd98::1 for web.halfopen.test (the benign client's name).
#
# Output (in $PKHO_DEST, default pcaps/halfopen/; overwritten): zmap-open, nmap-open, nmap-connect, nmap6-open,
# nmap6-closed, happy-eyeballs-benign (.pcap, Ethernet, tcpdump in the target namespace), truth.json (commands and
# tshark's counts per file), README.md (only for the default destination).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKHO_DEST:-$HERE/halfopen}
NSC="pks-hosc-$$"       # scanner / benign client namespace (prefix pks: test/make-pcaps.test.ts's leftover check)
NST="pks-hotg-$$"       # target namespace
pk_init make-halfopen.sh PKHO_KEEP_TMP "$NSC" "$NST"

SCANNER=198.19.98.66
ROUTER=198.19.98.1
SCANNER6=fd98::66
TGT_MAC=02:98:00:00:00:01
SC_MAC=02:98:00:00:00:66
PORT=8443
CLOSED_PORT=8444
NAME=web.halfopen.test
HE_RUNS=5               # curl runs in happy-eyeballs-benign.pcap
HE_GAP=2                # seconds between them
HE_RATE=64kbit          # the target's IPv6 egress (see 6.)
HE_FILL=${PKHO_HE_FILL:-5}  # 1000-byte filler datagrams queued ahead of each IPv6 SYN-ACK (~0.4 s at 64 kbit/s)

pk_preflight ip tc ethtool tcpdump tshark nmap zmap curl dnsmasq python3 ss timeout sysctl
pk_make_tmp pkho www
: >"$TMP/cmds.tsv"      # file <TAB> tool <TAB> command, for truth.json
: >"$TMP/skipped.tsv"
: >"$TMP/versions.tsv"

# ---------------------------------------------------------------- namespaces
say "namespaces $NSC (scanner $SCANNER, $SCANNER6) / $NST (targets 10.98.0.64/26, fd98::1-20)"
pk_netns_up "$NSC" "$NST"
pk_veth veth0 "$NSC" "$SC_MAC" "$NST" "$TGT_MAC"
for i in $(seq 64 127); do ip -n "$NST" addr add "10.98.0.$i/24" dev veth0; done
ip -n "$NST" addr add "$ROUTER/24" dev veth0
TARGETS6=()
for i in $(seq 1 32); do
    a=$(printf 'fd98::%x' "$i")
    TARGETS6+=("$a")
    ip -n "$NST" addr add "$a/64" dev veth0 nodad
done
ip -n "$NSC" addr add "$SCANNER/24" dev veth0
ip -n "$NSC" addr add "$SCANNER6/64" dev veth0 nodad
for ns in "$NSC" "$NST"; do
    pk_no_offloads "$ns" veth0
    # no router solicitations or MLD reports from the link coming up, in the captures
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.router_solicitations=0 net.ipv6.conf.all.force_mld_version=2 \
        net.ipv6.conf.veth0.mldv2_unsolicited_report_interval=3600000
done
ip -n "$NSC" link set veth0 up
ip -n "$NST" link set veth0 up
ip -n "$NSC" route add 10.98.0.0/24 via "$ROUTER" dev veth0
# Fixed neighbours both ways (no ARP or ND in the captures, and none queued behind the shaped IPv6 class in 6.).
ip -n "$NSC" neigh replace "$ROUTER" lladdr "$TGT_MAC" dev veth0 nud permanent
ip -n "$NST" neigh replace "$SCANNER" lladdr "$SC_MAC" dev veth0 nud permanent
ip -n "$NST" neigh replace "$SCANNER6" lladdr "$SC_MAC" dev veth0 nud permanent
for a in "${TARGETS6[@]}"; do ip -n "$NSC" neigh replace "$a" lladdr "$TGT_MAC" dev veth0 nud permanent; done

OK_ADDR_SC='^(127\.0\.0\.1/8|::1/128|198\.19\.98\.66/24|fd98::66/64)$'
OK_ADDR_TG='^(127\.0\.0\.1/8|::1/128|10\.98\.0\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])/24|198\.19\.98\.1/24|fd98::([1-9a-f]|1[0-9a-f]|20)/64)$'
pk_check_netns "$OK_ADDR_SC" "$NSC"
pk_check_netns "$OK_ADDR_TG" "$NST"
for ns in "$NSC" "$NST"; do
    [ "$(pk_links "$ns")" = "lo veth0 " ] || die "unexpected links in $ns: $(pk_links "$ns")"
done

# Client resolver for the benign client: glibc in the scanner namespace asks the target's dnsmasq.
pk_netns_etc "$NSC" 10.98.0.64 '127.0.0.1 localhost' '::1 localhost'

# ---------------------------------------------------------------- services (target namespace)
say "starting the dual-stack HTTP server on [::]:$PORT and dnsmasq on 10.98.0.64:53 in $NST"
printf '<html><body>picket half-open test server</body></html>\n' >"$TMP/www/index.html"
cat >"$TMP/srv.py" <<'PY'
# A dual-stack HTTP server on [::]:PORT (IPv4 too, as ::ffff:a.b.c.d), serving DIR, backlog 1024 (a connect scan
# of 64 hosts completes its handshakes faster than a small accept queue is drained). Exits after SECS seconds.
import functools, http.server, socket, sys, threading
port, root, secs = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
class Server(http.server.ThreadingHTTPServer):
    address_family = socket.AF_INET6
    request_queue_size = 1024
    daemon_threads = True
    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()
    def handle_error(self, request, client_address):
        pass   # scanners reset their connections: not an error here
class Handler(http.server.SimpleHTTPRequestHandler):
    timeout = 5
srv = Server(("::", port), functools.partial(Handler, directory=root))
threading.Timer(secs, srv.shutdown).start()
srv.serve_forever()
PY
pk_spawn "$NST" 150 "$TMP/http.log" python3 "$TMP/srv.py" "$PORT" "$TMP/www" 140
pk_dnsmasq "$NST" 150 --listen-address=10.98.0.64 --address="/$NAME/10.98.0.64" --address="/$NAME/fd98::1" --local-ttl=60
WANT_TCP="*:$PORT 10.98.0.64:53 "
WANT_UDP="10.98.0.64:53 "
pk_wait_listeners "$NST" "$WANT_TCP" "$WANT_UDP" 100 \
    || { cat "$TMP"/*.err "$TMP"/*.log >&2; die "listeners are '$(pk_listening "$NST" t)' / '$(pk_listening "$NST" u)', want '$WANT_TCP' / '$WANT_UDP'"; }
# the routes work: one HTTP GET over each family from the scanner (before any capture)
for u in "http://10.98.0.127:$PORT/" "http://[fd98::20]:$PORT/"; do
    timeout 5 ip netns exec "$NSC" curl -sS -o /dev/null --max-time 3 "$u" || die "scanner cannot fetch $u"
done

# ---------------------------------------------------------------- capture helpers
tcap() { pk_tcap "$NST" 60 veth0 65536 "$@"; }   # out-file [filter]: tcpdump on the target's veth0
cap_stop() { pk_cap_stop "$1"; say "  $PK_CAP_GOT packets, 0 dropped -> $(basename "$1")"; }
scan() {  # file seconds cmd... : run a scan command in the scanner namespace, bounded, must exit 0
    local f=$1 secs=$2; shift 2
    pk_note_cmd "$f" "$1" "$(pk_shq "$@")"
    echo "== [$f] $*" >>"$LOG"
    pk_run "$NSC" "$secs" "$@" || { tail -20 "$LOG" >&2; die "$f: '$*' failed"; }
}
printf '%s\n' "${TARGETS6[@]}" >"$TMP/targets6.txt"

# ---------------------------------------------------------------- 1. zmap-open.pcap
# zmap writes raw frames to the veth (-G: the target namespace's MAC as gateway); its own blacklist.conf excludes
# 10/8, so: an empty config and blacklist and an allow-list of exactly the target /26 (zmap 2.1.1 asserts on an
# allow-list of 64 single /32 lines).
say "capture zmap-open.pcap (zmap -p $PORT over 10.98.0.64/26, all open)"
: >"$TMP/zmap.conf"
: >"$TMP/zmap-blacklist.conf"
echo 10.98.0.64/26 >"$TMP/zmap-allow.conf"
tcap "$OUT/zmap-open.pcap"
scan zmap-open.pcap 40 zmap -C "$TMP/zmap.conf" -b "$TMP/zmap-blacklist.conf" -w "$TMP/zmap-allow.conf" \
    -p "$PORT" -i veth0 -S "$SCANNER" -G "$TGT_MAC" -n 64 -r 200 -c 2 -T 1 --disable-syslog -q -o "$TMP/zmap.csv"
cap_stop "$OUT/zmap-open.pcap"

# ---------------------------------------------------------------- 2. nmap-open.pcap
say "capture nmap-open.pcap (nmap -sS -p $PORT over 10.98.0.64-127, all open)"
tcap "$OUT/nmap-open.pcap"
scan nmap-open.pcap 60 nmap -sS -n -Pn -e veth0 -p "$PORT" 10.98.0.64-127
cap_stop "$OUT/nmap-open.pcap"

# ---------------------------------------------------------------- 3. nmap-connect.pcap
say "capture nmap-connect.pcap (nmap -sT -p $PORT over 10.98.0.64-127, all open)"
tcap "$OUT/nmap-connect.pcap"
scan nmap-connect.pcap 60 nmap -sT -n -Pn -p "$PORT" 10.98.0.64-127
cap_stop "$OUT/nmap-connect.pcap"

# ---------------------------------------------------------------- 4./5. nmap6-open.pcap, nmap6-closed.pcap
say "capture nmap6-open.pcap (nmap -6 -sS -p $PORT over fd98::1-20, all open)"
tcap "$OUT/nmap6-open.pcap"
scan nmap6-open.pcap 60 nmap -6 -sS -n -Pn -e veth0 -p "$PORT" -iL "$TMP/targets6.txt"
cap_stop "$OUT/nmap6-open.pcap"
say "capture nmap6-closed.pcap (nmap -6 -sS -p $CLOSED_PORT over fd98::1-20, all closed)"
tcap "$OUT/nmap6-closed.pcap"
scan nmap6-closed.pcap 60 nmap -6 -sS -n -Pn -e veth0 -p "$CLOSED_PORT" -iL "$TMP/targets6.txt"
cap_stop "$OUT/nmap6-closed.pcap"

# ---------------------------------------------------------------- 6. happy-eyeballs-benign.pcap
# curl resolves $NAME (A and AAAA from dnsmasq), tries IPv6 first and IPv4 after --happy-eyeballs-timeout-ms.
# The IPv6 path is slow: the kernel here has neither netem nor prio (tc says "Specified qdisc kind is unknown"),
# so the delay is a standing queue instead: htb shapes the target's IPv6 egress to $HE_RATE (a u32 filter on
# protocol ipv6; IPv4 is not shaped) and, right before each curl, $HE_FILL filler datagrams (UDP to the client's
# port 9, not captured) are queued on it, so the SYN-ACK to curl's IPv6 SYN leaves about 0.4 s late.  By then the
# IPv4 connection has won and curl has closed its IPv6 socket: the client's kernel answers the late SYN-ACK with
# a RST.  The capture filter keeps only TCP $PORT and DNS.
say "capture happy-eyeballs-benign.pcap ($HE_RUNS x curl --happy-eyeballs-timeout-ms 50 http://$NAME:$PORT/, IPv6 egress delayed)"
T() { ip netns exec "$NST" tc "$@"; }
T qdisc add dev veth0 root handle 1: htb default 10
T class add dev veth0 parent 1: classid 1:10 htb rate 1gbit
T class add dev veth0 parent 1: classid 1:20 htb rate "$HE_RATE" ceil "$HE_RATE"
T qdisc add dev veth0 parent 1:20 handle 20: pfifo limit 1000
T filter add dev veth0 parent 1: protocol ipv6 prio 1 u32 match u32 0 0 flowid 1:20
cat >"$TMP/fill.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[2])):
    s.sendto(b"\0" * 1000, (sys.argv[1], 9))
PY
tcap "$OUT/happy-eyeballs-benign.pcap" "tcp port $PORT or port 53"
HE_CMD=(curl -sS -o /dev/null -w '%{http_code} %{remote_ip}\n' --max-time 5 --happy-eyeballs-timeout-ms 50 "http://$NAME:$PORT/")
pk_note_cmd happy-eyeballs-benign.pcap curl "$HE_RUNS x ($(pk_shq "${HE_CMD[@]}"); sleep $HE_GAP), each after $HE_FILL filler datagrams queued on the target's IPv6 egress (htb $HE_RATE)"
for i in $(seq 1 "$HE_RUNS"); do
    ip netns exec "$NST" python3 "$TMP/fill.py" "$SCANNER6" "$HE_FILL"
    echo "== [happy-eyeballs-benign.pcap] run $i: ${HE_CMD[*]}" >>"$LOG"
    got=$(timeout 8 ip netns exec "$NSC" "${HE_CMD[@]}" 2>>"$LOG") || die "happy-eyeballs-benign.pcap: curl run $i failed"
    echo "$got" >>"$LOG"
    [ "$got" = "200 10.98.0.64" ] || die "happy-eyeballs-benign.pcap: run $i got '$got', want '200 10.98.0.64' (IPv4 winning)"
    sleep "$HE_GAP"
done
cap_stop "$OUT/happy-eyeballs-benign.pcap"
T qdisc del dev veth0 root

# ---------------------------------------------------------------- checks (tshark is the reference), truth.json
tool_version() { printf '%s\t%s\n' "$1" "$2" >>"$TMP/versions.tsv"; }
tool_version nmap "$(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')"
tool_version zmap "$(zmap --version 2>&1 | head -1)"
tool_version curl "$(curl --version | head -1 | cut -d' ' -f2)"
cp "$HERE/truthlib.py" "$TMP/truthlib.py"
cat >"$TMP/pkho.py" <<'PY'
"""truth.json for make-halfopen.sh: tshark's count of each capture's TCP attempts by outcome, and the checks."""
import sys
from truthlib import Checks, capture_entry, main, read_tmp, tshark, truthy, write_truth

SPEC = {
    "zmap-open.pcap": dict(tool="zmap", kind="SYN sweep of 64 hosts, port 8443 open on all", expect="scan.sweep: zmap"),
    "nmap-open.pcap": dict(tool="nmap", kind="nmap -sS sweep of 64 hosts, port 8443 open on all", expect="scan.sweep: nmap"),
    "nmap-connect.pcap": dict(tool="nmap", kind="nmap -sT (connect) sweep of 64 hosts, port 8443 open on all",
                              expect="scan.sweep"),
    "nmap6-open.pcap": dict(tool="nmap", kind="nmap -6 -sS sweep of 32 IPv6 hosts, port 8443 open on all",
                            expect="scan.sweep (nmap once the fingerprints handle IPv6)"),
    "nmap6-closed.pcap": dict(tool="nmap", kind="nmap -6 -sS sweep of 32 IPv6 hosts, port 8444 closed on all",
                              expect="scan.sweep (nmap once the fingerprints handle IPv6)"),
    "happy-eyeballs-benign.pcap": dict(tool="curl", kind="5 curl fetches racing IPv6 (delayed) and IPv4: IPv4 wins, "
                                       "the late IPv6 SYN-ACKs are reset by the client's kernel", expect=""),
}
FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.flags.syn", "tcp.flags.ack",
          "tcp.flags.reset", "tcp.flags.fin", "tcp.len"]


def outcomes(pcap):
    """Per TCP connection (tshark's tcp.stream, from its SYN): what the target answered and what the prober did."""
    conns = {}
    for r in tshark(pcap, "tcp", FIELDS):
        src, dst = r["ip.src"] or r["ipv6.src"], r["ip.dst"] or r["ipv6.dst"]
        c = conns.get(r["tcp.stream"])
        if c is None:
            if not truthy(r["tcp.flags.syn"]) or truthy(r["tcp.flags.ack"]):
                continue
            c = conns[r["tcp.stream"]] = dict(prober=src, target=dst, port=r["tcp.dstport"], synack=False, rst_t=False,
                                              rst_p=False, data=False, fin=False, ack3=False)
        fromp = src == c["prober"]
        if int(r["tcp.len"] or 0) > 0:
            c["data"] = True
        if truthy(r["tcp.flags.fin"]):
            c["fin"] = True
        if not fromp and truthy(r["tcp.flags.syn"]) and truthy(r["tcp.flags.ack"]):
            c["synack"] = True
        if not fromp and truthy(r["tcp.flags.reset"]) and not c["synack"]:
            c["rst_t"] = True
        if fromp and truthy(r["tcp.flags.reset"]) and c["synack"] and not c["data"]:
            c["rst_p"] = True
        if fromp and c["synack"] and truthy(r["tcp.flags.ack"]) and not truthy(r["tcp.flags.reset"]) and not truthy(r["tcp.flags.syn"]):
            c["ack3"] = True
    out = dict(attempts=len(conns), closed=0, half_open=0, half_open_after_handshake=0, established=0, other=0)
    for c in conns.values():
        if c["rst_t"]:
            out["closed"] += 1
        elif c["rst_p"] and not c["data"]:
            out["half_open"] += 1
            if c["ack3"]:
                out["half_open_after_handshake"] += 1
        elif c["synack"] and (c["data"] or c["fin"] or c["ack3"]):
            out["established"] += 1
        else:
            out["other"] += 1
    out["hosts"] = len({c["target"] for c in conns.values()})
    out["half_open_by_prober"] = dict(sorted(collections_count(c["prober"] for c in conns.values()
                                                                if c["rst_p"] and not c["rst_t"] and not c["data"])))
    return out


def collections_count(xs):
    d = {}
    for x in xs:
        d[x] = d.get(x, 0) + 1
    return d.items()


def build(out, tmp, truth_path):
    versions, cmds, skipped = read_tmp(tmp)
    doc = {"generator": "pcaps/make-halfopen.sh", "versions": versions, "files": {}}
    for name, spec in SPEC.items():
        e = dict(spec)
        capture_entry(e, f"{out}/{name}", cmds[name])
        e["tcp"] = outcomes(f"{out}/{name}")
        doc["files"][name] = e
    write_truth(doc, truth_path)


def check(truth_path):
    import json
    t = json.load(open(truth_path))["files"]
    ck = Checks()
    for name in ("zmap-open.pcap", "nmap-open.pcap", "nmap-connect.pcap"):
        o = t[name]["tcp"]
        ck.ok(o["hosts"] == 64, f"{name}: {o['hosts']} hosts probed, want 64")
        ck.ok(o["half_open"] >= 60, f"{name}: {o['half_open']} half-open attempts, want nearly 64")
        ck.ok(o["closed"] == 0, f"{name}: {o['closed']} closed, want 0 (every address has 8443 open)")
    ck.ok(t["nmap-connect.pcap"]["tcp"]["half_open_after_handshake"] >= 60,
          "nmap-connect.pcap: the connect scan's resets should follow completed handshakes")
    o = t["nmap6-open.pcap"]["tcp"]
    ck.ok(o["hosts"] == 32 and o["half_open"] >= 30, f"nmap6-open.pcap: {o}")
    o = t["nmap6-closed.pcap"]["tcp"]
    ck.ok(o["hosts"] == 32 and o["closed"] >= 30, f"nmap6-closed.pcap: {o}")
    o = t["happy-eyeballs-benign.pcap"]["tcp"]
    ck.ok(o["half_open"] == 5, f"happy-eyeballs-benign.pcap: want one client reset after a late IPv6 SYN-ACK per fetch "
                               f"(5), tshark has {o}: the IPv6 delay did not make every race leave a late SYN-ACK")
    ck.ok(o["established"] >= 5, f"happy-eyeballs-benign.pcap: {o['established']} fetches, want 5")
    ck.done(len(t))


def tables(truth_path):
    import json
    t = json.load(open(truth_path))
    heads = ["file", "packets", "tool", "what", "hosts", "attempts", "half-open", "(after handshake)", "closed",
             "established", "expect"]
    print("| " + " | ".join(heads) + " |")
    print("|" + " --- |" * len(heads))
    for n, e in t["files"].items():
        o = e["tcp"]
        print(f"| `{n}` | {e['packets']} | {e['tool']} | {e['kind']} | {o['hosts']} | {o['attempts']} | {o['half_open']} | "
              f"{o['half_open_after_handshake']} | {o['closed']} | {o['established']} | {e['expect'] or 'no alert (benign)'} |")


main({"build": (build, 3), "check": (check, 1), "tables": (tables, 1)})
PY
python3 "$TMP/pkho.py" build "$OUT" "$TMP" "$OUT/truth.json" || die "building truth.json failed"
python3 "$TMP/pkho.py" check "$OUT/truth.json" || die "verification failed"

FILES=(zmap-open.pcap nmap-open.pcap nmap-connect.pcap nmap6-open.pcap nmap6-closed.pcap happy-eyeballs-benign.pcap truth.json)
chmod 0644 "$OUT"/*
pk_install "$DEST" "${FILES[@]}"
if [ "$DEST" != "$HERE/halfopen" ]; then say "done (README.md not rewritten for PKHO_DEST)"; exit 0; fi

# ---------------------------------------------------------------- README.md
say "writing README.md"
TABLE=$(python3 "$TMP/pkho.py" tables "$DEST/truth.json")
{
cat <<EOF
# Half-open TCP captures (issue 13)

Made by [\`make-halfopen.sh\`](../make-halfopen.sh) (\`sudo bash pcaps/make-halfopen.sh\`, also run by
\`pcaps/make.sh\`; overwrites the captures here, [\`truth.json\`](truth.json) and this README). Real tools in two
network namespaces the script makes and removes: the scanner/client \`$SCANNER\` and \`$SCANNER6\`, the targets
\`10.98.0.64-127\` and \`fd98::1-20\` (32 addresses), all with TCP $PORT open (one dual-stack listener on
\`[::]:$PORT\`); TCP $CLOSED_PORT is closed everywhere. tcpdump on the target's veth; tshark checks every file before
it is installed.

A *half-open* attempt: SYN, the target's SYN-ACK, then the prober's RST before any payload either way (Zeek's
scan policy counts it as failed). SYN scanners leave their kernel to reset the SYN-ACK of a probe it never sent;
nmap's connect scan completes the handshake and then resets. The benign case: curl's Happy Eyeballs race. curl
tries IPv6 first and IPv4 ${HE_RUNS:+after 50 ms}; the IPv6 path is delayed, IPv4 wins, curl closes its IPv6 socket
and the late IPv6 SYN-ACK is reset by the client's kernel: the same packets as a SYN scan, once per page load.

The kernel here has neither \`netem\` nor \`prio\`, so the IPv6 delay is a standing queue: htb shapes the
target's IPv6 egress to $HE_RATE (u32 filter on protocol ipv6) and $HE_FILL filler datagrams of 1000 bytes (UDP to
the client's port 9, left out by the capture filter \`tcp port $PORT or port 53\`) are queued right before each
curl, so the IPv6 SYN-ACK leaves about 0.4 s late. Tried while making this: with no filler, or one datagram (within
htb's burst), the IPv6 SYN-ACK came at once, IPv6 won and nothing was reset (\`PKHO_HE_FILL=0\` or \`1\`: the script
stops, since each curl must report the IPv4 address). The script also checks with tshark that the capture has a
client reset after a SYN-ACK for every fetch.

Counts by tshark (per TCP connection from its SYN; "after handshake": the prober acknowledged the SYN-ACK before
resetting):

$TABLE

Commands: see \`truth.json\` (\`files.*.commands\`).
EOF
pk_versions_md nmap zmap curl dnsmasq tcpdump tshark
} >"$DEST/README.md"
say "wrote $DEST/README.md"
