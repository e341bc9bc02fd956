#!/usr/bin/env bash
# pcaps/make-quic.sh - build the small, REAL QUIC captures used by test/quic.test.ts.
#
#   sudo bash pcaps/make-quic.sh          (root is required; runnable from any cwd; a few seconds)
#   PKQ_DEST=/tmp/x bash pcaps/make-quic.sh   (write the captures there instead; no README then)
#
# apt: ngtcp2-client ngtcp2-server tcpdump tshark iproute2 openssl coreutils util-linux
#   (ngtcp2-client/-server are ngtcp2's example programs gtlsclient/gtlsserver, GnuTLS backend)
#
# Two network namespaces made here (pkq-c-PID = client 10.81.0.2 / fd81::2,
# pkq-s-PID = server 10.81.0.1 / fd81::1) joined by a veth pair; no default
# route, so nothing can leave them.  gtlsserver answers HTTP/3 on UDP 443 with a
# throw-away self-signed certificate; gtlsclient makes three connections, each
# under `timeout`:
#   1. IPv4, SNI api.shodan.io                  (ClientHello in one Initial)
#   2. IPv6, SNI www.example.org, key shares for FFDHE8192 + X25519
#                                               (a ClientHello of ~1.3 KB: two Initials)
#   3. IPv4, SNI api.shodan.io resumed from 1's session ticket with 0-RTT
#                                               (Initial and 0-RTT coalesced in one datagram)
# gtlsclient sends SNI only for a host NAME (for an address it sends "localhost"),
# so each client runs with a private /etc/hosts bind-mounted in its own mount
# namespace (ip netns exec makes one); the real /etc is never written.
#
# Output: pcaps/quic/quic-v1.pcap and pcaps/quic/README.md (overwritten).
# No quic-v2.pcap: Debian 12's ngtcp2 (0.12.1) speaks QUIC v1 and draft v2
# (0x709a50c4) only, not RFC 9369 v2 (0x6b3343cf); v2 is covered by the RFC 9369
# test vector in test/quic.test.ts.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKQ_DEST:-$HERE/quic}
START_TS=$(date +%s)
NC="pkq-c-$$"          # client namespace
NS="pkq-s-$$"          # server namespace
PIDS=()                # background processes started by this script
CAP_PID=""
TMP=""

say() { printf '[make-quic.sh +%ss] %s\n' "$(( $(date +%s) - START_TS ))" "$*" >&2; }
die() { printf '[make-quic.sh] ERROR: %s\n' "$*" >&2; exit 1; }

cleanup() {
    local rc=$?
    set +e
    pk_untrap
    pk_stop_pids "${PIDS[@]}"
    pk_remove_netns "$NC" "$NS"
    pk_remove_tmp "$TMP" "${PKQ_KEEP_TMP:-0}" PKQ_KEEP_TMP
    pk_report "$rc"
    exit "$rc"
}
pk_traps

# ---------------------------------------------------------------- preflight
[ "$(id -u)" = 0 ] || die "must run as root (sudo bash pcaps/make-quic.sh)"
for t in ip tcpdump tshark gtlsclient gtlsserver openssl ss timeout mount; do
    command -v "$t" >/dev/null || die "missing tool: $t (apt-get install the packages in the '# apt:' line)"
done

TMP=$(mktemp -d /tmp/pkq-$$.XXXXXX)
OUT="$TMP/out"
mkdir -p "$OUT" "$TMP/www" "$TMP/tls"

# ---------------------------------------------------------------- namespaces
say "namespaces $NC (client) / $NS (server)"
ip netns add "$NC"
ip netns add "$NS"
for ns in "$NC" "$NS"; do ip -n "$ns" link set lo up; done
ip -n "$NC" link add veth0 type veth peer name veth0 netns "$NS"
# fixed MACs; no link-local IPv6 address, so no router/neighbour chatter beyond what the traffic needs
ip -n "$NC" link set veth0 address 02:81:00:00:00:02 addrgenmode none
ip -n "$NS" link set veth0 address 02:81:00:00:00:01 addrgenmode none
ip -n "$NC" addr add 10.81.0.2/24 dev veth0
ip -n "$NC" addr add fd81::2/64 dev veth0 nodad
ip -n "$NS" addr add 10.81.0.1/24 dev veth0
ip -n "$NS" addr add fd81::1/64 dev veth0 nodad
ip -n "$NC" link set veth0 up
ip -n "$NS" link set veth0 up

# Safety: no default route, only our own addresses, in either namespace.
for ns in "$NC" "$NS"; do
    [ -z "$(ip -n "$ns" route show default)" ] || die "unexpected IPv4 default route in $ns"
    [ -z "$(ip -n "$ns" -6 route show default)" ] || die "unexpected IPv6 default route in $ns"
    bad=$(ip -n "$ns" -o addr show | awk '{print $4}' | grep -Ev '^(127\.0\.0\.1/8|::1/128|10\.81\.0\.[12]/24|fd81::[12]/64)$' || true)
    [ -z "$bad" ] || die "unexpected addresses in $ns: $bad"
done

# The client's names: only these, only in the client's private mount namespace.
printf '127.0.0.1 localhost\n::1 localhost\n10.81.0.1 api.shodan.io\nfd81::1 www.example.org\n' >"$TMP/hosts"

# ---------------------------------------------------------------- server
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 7 \
    -subj "/CN=api.shodan.io" -addext "subjectAltName=DNS:api.shodan.io,DNS:www.example.org" \
    -keyout "$TMP/tls/key.pem" -out "$TMP/tls/cert.pem" 2>/dev/null
printf 'picket quic test\n' >"$TMP/www/index.html"

say "starting gtlsserver on UDP 443 in $NS"
timeout 120 ip netns exec "$NS" gtlsserver -q -d "$TMP/www" '*' 443 "$TMP/tls/key.pem" "$TMP/tls/cert.pem" \
    >"$TMP/server.log" 2>&1 &
PIDS+=("$!")
for i in $(seq 1 100); do
    [ -n "$(ip netns exec "$NS" ss -Hlnu 'sport = :443')" ] && break
    sleep 0.1
done
[ -n "$(ip netns exec "$NS" ss -Hlnu 'sport = :443')" ] || { cat "$TMP/server.log" >&2; die "gtlsserver is not listening"; }

# ---------------------------------------------------------------- capture
PCAP="$OUT/quic-v1.pcap"
CAP_ERR="$TMP/tcpdump.err"
say "capturing udp port 443 on $NS/veth0"
timeout 120 ip netns exec "$NS" tcpdump -Z root -U --immediate-mode -B 65536 -s 0 -n -i veth0 -w "$PCAP" \
    'udp port 443' >"$CAP_ERR" 2>&1 &
CAP_PID=$!
PIDS+=("$CAP_PID")
for i in $(seq 1 100); do grep -qs 'listening on' "$CAP_ERR" && break; sleep 0.1; done
grep -qs 'listening on' "$CAP_ERR" || { cat "$CAP_ERR" >&2; die "tcpdump did not start"; }
sleep 0.3

client() {  # log-name host gtlsclient-args...
    local name=$1 host=$2; shift 2
    # ip netns exec gives the command its own mount namespace, so this bind mount is seen by it alone
    timeout 25 ip netns exec "$NC" sh -c 'mount --bind "$1" /etc/hosts && shift && exec timeout 20 "$@"' sh \
        "$TMP/hosts" gtlsclient --exit-on-all-streams-close --no-quic-dump --no-http-dump --timeout=5s \
        "$@" "$host" 443 "https://$host/" >"$TMP/client-$name.log" 2>&1 \
        || { tail -20 "$TMP/client-$name.log" >&2; die "gtlsclient $name failed"; }
}

say "1: api.shodan.io over IPv4"
client 1 api.shodan.io --session-file="$TMP/session.pem" --tp-file="$TMP/tp.pem"
[ -s "$TMP/session.pem" ] && [ -s "$TMP/tp.pem" ] || die "connection 1 got no session ticket to resume"
sleep 0.5
say "2: www.example.org over IPv6, FFDHE8192 key share (ClientHello in two Initials)"
client 2 www.example.org --groups=-GROUP-ALL:+GROUP-FFDHE8192:+GROUP-X25519
sleep 0.5
say "3: api.shodan.io over IPv4, resumed with 0-RTT (Initial + 0-RTT in one datagram)"
client 3 api.shodan.io --session-file="$TMP/session.pem" --tp-file="$TMP/tp.pem"

sleep 1.5
kill -INT "$CAP_PID" 2>/dev/null || true
for i in $(seq 1 50); do kill -0 "$CAP_PID" 2>/dev/null || break; sleep 0.1; done
wait "$CAP_PID" 2>/dev/null || true
got=$(sed -n 's/^\([0-9]*\) packets captured$/\1/p' "$CAP_ERR" | head -1)
rcvd=$(sed -n 's/^\([0-9]*\) packets received by filter$/\1/p' "$CAP_ERR" | head -1)
[ -n "$got" ] && [ "$got" = "$rcvd" ] || { cat "$CAP_ERR" >&2; die "tcpdump: $rcvd received but $got written (kernel drops)"; }
say "  $got packets"

# ---------------------------------------------------------------- verify (tshark decrypts Initials itself)
tf() { tshark -n -r "$PCAP" "$@" 2>/dev/null; }
snis=$(tf -Y 'tls.handshake.type == 1' -T fields -e tls.handshake.extensions_server_name | tr '\n' ' ')
[ "$snis" = "api.shodan.io www.example.org api.shodan.io " ] || die "ClientHello SNIs are '$snis'"
vers=$(tf -Y 'quic.long.packet_type' -T fields -e quic.version | tr ',' '\n' | sort -u | tr '\n' ' ')
[ "$vers" = "0x00000001 " ] || die "QUIC versions are '$vers'"
# connection 2: a CRYPTO frame from the client at an offset past the first packet's share of the ClientHello
[ -n "$(tf -Y 'ipv6.src == fd81::2 && quic.long.packet_type == 0 && quic.crypto.offset > 0' -T fields -e frame.number)" ] \
    || die "the IPv6 ClientHello did not span two Initial packets"
# connection 3: a client datagram holding an Initial and a 0-RTT packet
[ -n "$(tf -Y 'ip.src == 10.81.0.2 && quic.long.packet_type == 0 && quic.long.packet_type == 1' -T fields -e frame.number)" ] \
    || die "no coalesced Initial + 0-RTT datagram from the resumed connection"
size=$(stat -c %s "$PCAP")
[ "$size" -lt 200000 ] || die "capture unexpectedly large ($size bytes)"

# ---------------------------------------------------------------- install + README
mkdir -p "$DEST"
cp "$PCAP" "$DEST/quic-v1.pcap"
say "wrote $DEST/quic-v1.pcap ($size bytes)"
if [ "$DEST" != "$HERE/quic" ]; then exit 0; fi

pkgver() { dpkg-query -W -f='${Package} ${Version}\n' "$@" 2>/dev/null || true; }
{
cat <<EOF
# QUIC test captures

Made by [\`../make-quic.sh\`](../make-quic.sh) (\`sudo bash pcaps/make-quic.sh\`, root, a few seconds;
overwrites the files here). Used by \`test/quic.test.ts\`.

## quic-v1.pcap

Ethernet, captured with \`tcpdump -U --immediate-mode -s 0 -i veth0 'udp port 443'\` in the server namespace.
Two network namespaces (\`pkq-s-PID\` = server 10.81.0.1 / fd81::1, \`pkq-c-PID\` = client 10.81.0.2 /
fd81::2) joined by a veth pair, no default route. Server: ngtcp2's \`gtlsserver\` (HTTP/3 on UDP 443,
self-signed P-256 certificate for api.shodan.io and www.example.org, made per run). Client: ngtcp2's
\`gtlsclient\` fetching \`/\` (a 17-byte file), three connections, QUIC version 1 (0x00000001):

| # | client | SNI | what it exercises |
| --- | --- | --- | --- |
| 1 | 10.81.0.2 | api.shodan.io | ClientHello (about 370 bytes) in one Initial packet |
| 2 | fd81::2 | www.example.org | key shares for FFDHE8192 and X25519: a ClientHello of about 1.3 KB in two Initial packets (two datagrams) |
| 3 | 10.81.0.2 | api.shodan.io | resumption of 1 with 0-RTT: the first datagram holds an Initial and a 0-RTT packet, coalesced |

Every connection also has the client's later Initials (ACKs of the server's Initial) whose Destination
Connection ID is the server's chosen one; they are protected with keys from the *original* DCID, so a
stateless decoder cannot open them (tshark can: it tracks the connection).

The script checks with tshark (which decrypts Initials itself) that the three SNIs are as above, that
every long-header packet is version 1, that the IPv6 ClientHello spans two Initials and that connection 3
has a coalesced Initial + 0-RTT datagram.

## No quic-v2.pcap

Debian 12's ngtcp2 (0.12.1) knows QUIC v1 and *draft* v2 (0x709a50c4, its \`-v v2draft\`), not RFC 9369
v2 (0x6b3343cf); no other QUIC client is packaged for Debian 12. QUIC v2 is tested with the RFC 9369
Appendix A.2 vector instead.

## Tool versions

\`\`\`
$(pkgver ngtcp2-client ngtcp2-server libngtcp2-9 libngtcp2-crypto-gnutls2 libgnutls30 tcpdump tshark)
$(tshark --version 2>/dev/null | head -1)
$(tcpdump --version 2>&1 | head -2)
kernel $(uname -r)
\`\`\`
EOF
} >"$DEST/README.md"
say "wrote $DEST/README.md"
