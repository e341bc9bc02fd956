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
NC="pkq-c-$$"          # client namespace
NS="pkq-s-$$"          # server namespace
pk_init make-quic.sh PKQ_KEEP_TMP "$NC" "$NS"

# ---------------------------------------------------------------- preflight
pk_preflight ip tcpdump tshark gtlsclient gtlsserver openssl ss timeout mount
pk_make_tmp pkq www tls

# ---------------------------------------------------------------- namespaces
say "namespaces $NC (client) / $NS (server)"
pk_netns_up "$NC" "$NS"
# fixed MACs; no link-local IPv6 address, so no router/neighbour chatter beyond what the traffic needs
pk_veth veth0 "$NC" 02:81:00:00:00:02 "$NS" 02:81:00:00:00:01
ip -n "$NC" addr add 10.81.0.2/24 dev veth0
ip -n "$NC" addr add fd81::2/64 dev veth0 nodad
ip -n "$NS" addr add 10.81.0.1/24 dev veth0
ip -n "$NS" addr add fd81::1/64 dev veth0 nodad
ip -n "$NC" link set veth0 up
ip -n "$NS" link set veth0 up

# Safety: no default route, only our own addresses, in either namespace.
pk_check_netns '^(127\.0\.0\.1/8|::1/128|10\.81\.0\.[12]/24|fd81::[12]/64)$' "$NC" "$NS"

# The client's names: only these, only in the client's private mount namespace.
printf '127.0.0.1 localhost\n::1 localhost\n10.81.0.1 api.shodan.io\nfd81::1 www.example.org\n' >"$TMP/hosts"

# ---------------------------------------------------------------- server
pk_cert "$TMP/tls" api.shodan.io -addext "subjectAltName=DNS:api.shodan.io,DNS:www.example.org"
printf 'picket quic test\n' >"$TMP/www/index.html"

say "starting gtlsserver on UDP 443 in $NS"
pk_spawn "$NS" 120 "$TMP/server.log" gtlsserver -q -d "$TMP/www" '*' 443 "$TMP/tls/key.pem" "$TMP/tls/cert.pem"
pk_wait_until 100 pk_listens "$NS" u 443 || { cat "$TMP/server.log" >&2; die "gtlsserver is not listening"; }

# ---------------------------------------------------------------- capture
PCAP="$OUT/quic-v1.pcap"
say "capturing udp port 443 on $NS/veth0"
pk_tcap "$NS" 120 veth0 65536 "$PCAP" 'udp port 443'

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

pk_cap_stop "$PCAP"
say "  $PK_CAP_GOT packets"

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
$(pk_pkgver ngtcp2-client ngtcp2-server libngtcp2-9 libngtcp2-crypto-gnutls2 libgnutls30 tcpdump tshark)
$(tshark --version 2>/dev/null | head -1)
$(tcpdump --version 2>&1 | head -2)
kernel $(uname -r)
\`\`\`
EOF
} >"$DEST/README.md"
say "wrote $DEST/README.md"
