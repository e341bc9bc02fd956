#!/usr/bin/env bash
# pcaps/make-http.sh - build a small, REAL capture of HTTP/1.x request heads as real servers accept them (issue 18):
# bare-LF line ends, extension and custom methods, the asterisk form of OPTIONS, and a head split over three TCP
# segments, for test/http.test.ts.
#
#   sudo bash pcaps/make-http.sh             (root is required; runnable from any cwd; a few seconds)
#   PKH_DEST=/tmp/x bash pcaps/make-http.sh   (write the capture there instead)
#   PKH_KEEP_TMP=1 ...                         (keep the temp dir: tool output, server log)
#
# apt: curl netcat-openbsd python3 tcpdump tshark iproute2 ethtool coreutils
#
# Two network namespaces made here, joined by one veth pair; IPv4 only, no default route, so nothing can leave them:
#   pkh-s-PID  server  veth0 02:94:00:00:00:01  10.94.0.1/24   python3 -m http.server 80 (its request parser,
#              http.server's parse_request, accepts lines ending in a bare LF, as nginx and Apache do)
#   pkh-c-PID  client  veth0 02:94:00:00:00:02  10.94.0.2/24
# No name is resolved: curl gets its addresses from --resolve and the others connect to 10.94.0.1; the Host headers
# carry the names (intel ones: api.shodan.io, search.censys.io, ipinfo.io; benign: www.example.org, example.net).
#
# Output: $PKH_DEST/heads.pcap (default pcaps/http/), overwritten.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKH_DEST:-$HERE/http}
NC="pkh-c-$$"
NS="pkh-s-$$"
SERVER=10.94.0.1
pk_init make-http.sh PKH_KEEP_TMP "$NC" "$NS"

pk_preflight ip ethtool tcpdump tshark curl nc python3 ss timeout
pk_make_tmp pkh www

say "namespaces $NC (client) / $NS (server $SERVER)"
pk_netns_up --ipv4 "$NC" "$NS"
pk_veth veth0 "$NC" 02:94:00:00:00:02 "$NS" 02:94:00:00:00:01
ip netns exec "$NC" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip netns exec "$NS" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip -n "$NS" addr add "$SERVER/24" dev veth0
ip -n "$NC" addr add 10.94.0.2/24 dev veth0
ip -n "$NC" link set veth0 up
ip -n "$NS" link set veth0 up
# Wire-sized frames: the split head's three writes stay three segments (and nothing is merged by GRO).
pk_no_offloads "$NC" veth0
pk_no_offloads "$NS" veth0
pk_check_netns --no-ipv6 '^(127\.0\.0\.1/8|10\.94\.0\.[12]/24)$' "$NC" "$NS"

printf '<html><body>picket http test server</body></html>\n' >"$TMP/www/index.html"
pk_spawn "$NS" 120 "$TMP/http.log" python3 -m http.server 80 --bind "$SERVER" --directory "$TMP/www"
pk_wait_until 100 pk_listens "$NS" t 80 || { cat "$TMP/http.log" >&2; die "http.server did not start"; }

# A head written in three sends with TCP_NODELAY and pauses, so the kernel sends three segments; the first holds
# the method and its space (what a first-bytes probe needs), the others the rest of the head.
cat >"$TMP/split.py" <<'PY'
import socket, sys, time
host, parts = sys.argv[1], [p.encode().decode('unicode_escape').encode('latin-1') for p in sys.argv[2:]]
s = socket.create_connection((host, 80), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
for i, p in enumerate(parts):
    if i:
        time.sleep(0.3)
    s.sendall(p)
s.shutdown(socket.SHUT_WR)
while s.recv(4096):
    pass
s.close()
PY

C() { echo "== $*" >>"$LOG"; pk_run "$NC" 10 "$@" || say "warning: $* failed"; }
RES=(--resolve "www.example.org:80:$SERVER" --resolve "api.shodan.io:80:$SERVER" --resolve "ipinfo.io:80:$SERVER"
     --resolve "example.net:80:$SERVER")
mkdir -p "$DEST"
OUTF="$OUT/heads.pcap"
say "capture heads.pcap"
pk_tcap "$NS" 120 veth0 4096 "$OUTF" tcp port 80
C curl -sS -o /dev/null --max-time 3 "${RES[@]}" http://www.example.org/
C curl -sS -o /dev/null --max-time 3 "${RES[@]}" -X OPTIONS --request-target '*' http://example.net/
C curl -sS -o /dev/null --max-time 3 "${RES[@]}" -X MKCOL http://www.example.org/dav/new/
C curl -sS -o /dev/null --max-time 3 "${RES[@]}" -X PICKET-PROBE_1 http://ipinfo.io/custom
C sh -c "printf 'GET /lf HTTP/1.1\nHost: api.shodan.io\nUser-Agent: printf-nc\n\n' | nc -N -w 3 $SERVER 80"
C sh -c "printf 'GET /lf-benign HTTP/1.0\nHost: www.example.org\n\n' | nc -N -w 3 $SERVER 80"
C python3 "$TMP/split.py" "$SERVER" 'GET /split HTTP/1.1\r\nHo' 'st: search.censys.io\r\nUser-Agent: pysplit/1\r\n' 'Accept: */*\r\n\r\n'
C python3 "$TMP/split.py" "$SERVER" 'PROPFIND /dav/ HTTP/1.1\n' 'Host: example.net\nDepth: 1\n' 'Content-Length: 0\n\n'
pk_cap_stop "$OUTF"
say "  $PK_CAP_GOT packets"

# ---------------------------------------------------------------- verification (tshark is the reference)
methods=$(tshark -n -r "$OUTF" -Y 'http.request' -T fields -e http.request.method -e http.host 2>/dev/null | tr '\t' ' ')
for want in 'GET www.example.org' 'OPTIONS example.net' 'MKCOL www.example.org' 'GET api.shodan.io' 'GET www.example.org' \
            'GET search.censys.io' 'PROPFIND example.net'; do
    grep -qxF "$want" <<<"$methods" || die "heads.pcap: tshark shows no request '$want' (has: $(tr '\n' ';' <<<"$methods"))"
done
# The custom method: tshark knows a fixed list of methods and does not decode it; its bytes must be on the wire.
tshark -n -r "$OUTF" -Y 'tcp.payload contains "PICKET-PROBE_1 /custom HTTP/1.1"' 2>/dev/null | grep -q . \
    || die "heads.pcap: the PICKET-PROBE_1 request is missing"
# The bare-LF head really has no CR; the split heads really took three segments.
tshark -n -r "$OUTF" -Y 'tcp.payload contains "/lf HTTP/1.1\x0aHost: api.shodan.io\x0a"' 2>/dev/null | grep -q . \
    || die "heads.pcap: no bare-LF head for api.shodan.io"
segs=$(tshark -n -r "$OUTF" -Y 'http.request' -T fields -e tcp.segment.count 2>/dev/null | grep -c '^3$' || true)
[ "$segs" = 2 ] || die "heads.pcap: want 2 requests in 3 segments each, got $segs"
# Every request was answered: http.server logged each one (501 for methods it does not implement).
[ "$(grep -c '" [0-9][0-9][0-9] ' "$TMP/http.log")" = 8 ] || { cat "$TMP/http.log" >&2; die "http.server did not answer 8 requests"; }

chmod 0644 "$OUTF"
pk_install "$DEST" heads.pcap
