#!/usr/bin/env bash
# pcaps/make-tunnels.sh - captures of mirrored traffic inside tunnels (issue 15): VXLAN for real, with Linux's own
# vxlan device between two namespaces, captured on the underlay and, at the same time, on the vxlan device itself
# (the same traffic without the tunnel); GENEVE, GRE (+ transparent Ethernet bridging), ERSPAN II and III, MPLS and
# PPPoE built around the same frames by pcaps/encap.py (this kernel has no geneve, gretap, erspan or mpls devices:
# `ip link add type geneve|gretap|erspan` answers "Unknown device type"); and TCP Fast Open from real clients
# (curl --tcp-fastopen) to a real server with TFO on, for test/tunnels.test.ts.
#
#   sudo bash pcaps/make-tunnels.sh             (root is required; runnable from any cwd; about half a minute)
#   PKT_DEST=/tmp/x bash pcaps/make-tunnels.sh   (write the captures there instead)
#   PKT_KEEP_TMP=1 ...                           (keep the temp dir: tool output, server logs)
#
# apt: iproute2 ethtool tcpdump tshark dnsmasq bind9-dnsutils curl openssl nmap python3 coreutils
#
# Two network namespaces made here, IPv4 only, no default route, nothing can leave them:
#   pktn-s-PID  server  veth0 02:98:00:00:00:01 10.98.0.1/24 (underlay)  vx0 02:99:00:00:00:01 10.99.0.1/24 (VXLAN
#               VNI 42, UDP 4789, remote 10.98.0.2): dnsmasq (every name -> 10.99.0.1, no upstream),
#               python3 -m http.server 80, openssl s_server 443; net.ipv4.tcp_fastopen=0x403 (TFO on every listener)
#   pktn-c-PID  client  veth0 02:98:00:00:00:02 10.98.0.2/24             vx0 02:99:00:00:00:02 10.99.0.2/24 (VNI 42,
#               remote 10.98.0.1): dig, curl, openssl s_client, nmap; net.ipv4.tcp_fastopen=1
# The overlay (10.99.0.0/24) reaches the server only through vx0, the underlay only carries VXLAN.
#
# Output ($PKT_DEST, default pcaps/tunnels/, overwritten):
#   vxlan.pcap    tcpdump on the server's veth0 (the underlay): every overlay frame inside VXLAN
#   plain.pcap    tcpdump on the server's vx0 at the same time: the same frames, not encapsulated
#   geneve.pcap gre-teb.pcap gre-ip6.pcap erspan2.pcap erspan3.pcap mpls.pcap pppoe.pcap
#                 encap.py around plain.pcap's frames
#   tfo.pcap      tcpdump on the server's vx0 during curl with and without --tcp-fastopen (HTTP and HTTPS)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKT_DEST:-$HERE/tunnels}
NC="pktn-c-$$"
NS="pktn-s-$$"
SERVER=10.99.0.1
pk_init make-tunnels.sh PKT_KEEP_TMP "$NC" "$NS"

pk_preflight ip ethtool tcpdump tshark dnsmasq dig curl openssl nmap python3 ss timeout sysctl
pk_make_tmp pkt www tls

say "namespaces $NS (server, underlay 10.98.0.1, overlay $SERVER) / $NC (client, 10.98.0.2, 10.99.0.2)"
pk_netns_up --ipv4 "$NC" "$NS"
pk_veth veth0 "$NC" 02:98:00:00:00:02 "$NS" 02:98:00:00:00:01
ip -n "$NS" addr add 10.98.0.1/24 dev veth0
ip -n "$NC" addr add 10.98.0.2/24 dev veth0
for side in "$NS:1:2" "$NC:2:1"; do
    IFS=: read -r ns me peer <<<"$side"
    ip -n "$ns" link set veth0 up
    ip -n "$ns" link add vx0 type vxlan id 42 dstport 4789 local "10.98.0.$me" remote "10.98.0.$peer" dev veth0
    ip -n "$ns" link set vx0 address "02:99:00:00:00:0$me" addrgenmode none
    ip -n "$ns" addr add "10.99.0.$me/24" dev vx0
    ip -n "$ns" link set vx0 up
    # Wire-sized frames on both links (no 64 KB super-frames inside or outside the tunnel).
    pk_no_offloads "$ns" veth0
    pk_no_offloads "$ns" vx0
done
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_fastopen=1027   # 0x403: client, server, and every listener without setsockopt
ip netns exec "$NC" sysctl -qw net.ipv4.tcp_fastopen=1
pk_check_netns --no-ipv6 '^(127\.0\.0\.1/8|10\.9[89]\.0\.[12]/24)$' "$NC" "$NS"
[ "$(pk_links "$NC")" = "lo veth0 vx0 " ] && [ "$(pk_links "$NS")" = "lo veth0 vx0 " ] \
    || die "unexpected links: $(pk_links "$NC") / $(pk_links "$NS")"
pk_netns_etc "$NC" "$SERVER" '127.0.0.1 localhost'

say "servers on $SERVER: dnsmasq 53, http.server 80, openssl s_server 443"
pk_dnsmasq "$NS" 120 --listen-address="$SERVER" --address=/#/"$SERVER"
printf '<html><body>picket tunnels</body></html>\n' >"$TMP/www/index.html"
pk_spawn "$NS" 120 "$TMP/http.log" python3 -m http.server 80 --bind "$SERVER" --directory "$TMP/www"
pk_cert "$TMP/tls" picket-tunnel.invalid
pk_spawn "$NS" 120 "$TMP/s_server.log" openssl s_server -accept "$SERVER:443" -www -quiet \
    -cert "$TMP/tls/cert.pem" -key "$TMP/tls/key.pem"
for p in u:53 t:80 t:443; do pk_wait_until 100 pk_listens "$NS" "${p%%:*}" "${p#*:}" || die "nothing listens on $p"; done

C() { echo "== $*" >>"$LOG"; pk_run "$NC" 30 "$@" || say "warning: $* failed"; }

# ---------------------------------------------------------------- vxlan.pcap + plain.pcap: the same traffic
say "capture vxlan.pcap (underlay) and plain.pcap (vx0) at once"
pk_tcap "$NS" 120 veth0 8192 "$OUT/vxlan.pcap"
UNDER_PID=$PK_CAP_PID; UNDER_ERR=$PK_CAP_ERR
pk_tcap "$NS" 120 vx0 8192 "$OUT/plain.pcap"
C dig +tries=1 +time=2 @"$SERVER" api.shodan.io A
C dig +tries=1 +time=2 @"$SERVER" censys.io A
C dig +tries=1 +time=2 @"$SERVER" www.example.org A
C curl -sS -o /dev/null --max-time 3 http://ipinfo.io/
C curl -sS -o /dev/null --max-time 3 http://www.example.net/
C sh -c "openssl s_client -connect $SERVER:443 -servername search.censys.io </dev/null"
C sh -c "openssl s_client -connect $SERVER:443 -servername www.example.com </dev/null"
C nmap -sS -n -Pn -e vx0 -p 1-300 "$SERVER"
pk_cap_stop "$OUT/plain.pcap"
say "  plain.pcap: $PK_CAP_GOT packets"
PK_CAP_PID=$UNDER_PID; PK_CAP_ERR=$UNDER_ERR; PK_CAP_TOOL=tcpdump
pk_cap_stop "$OUT/vxlan.pcap"
say "  vxlan.pcap: $PK_CAP_GOT packets"

for k in geneve gre-teb gre-ip6 erspan2 erspan3 mpls pppoe; do python3 "$HERE/encap.py" "$k" "$OUT/plain.pcap" "$OUT/$k.pcap" >>"$LOG"; done

# ---------------------------------------------------------------- tfo.pcap
say "capture tfo.pcap (curl with and without --tcp-fastopen)"
pk_tcap "$NS" 60 vx0 4096 "$OUT/tfo.pcap" tcp
C curl -sS -o /dev/null --max-time 3 http://api.shodan.io/plain
# The first TFO connection to a server asks for a cookie (its SYN has none and no data); the next ones carry the
# request in the SYN.
C curl -sS -o /dev/null --max-time 3 --tcp-fastopen http://ipinfo.io/cookie
C curl -sS -o /dev/null --max-time 3 --tcp-fastopen http://api.shodan.io/tfo
C curl -sS -o /dev/null --max-time 3 --tcp-fastopen http://www.example.net/tfo
C curl -sS -o /dev/null --max-time 3 -k --tcp-fastopen https://search.censys.io/
C curl -sS -o /dev/null --max-time 3 -k --tcp-fastopen https://www.example.com/
pk_cap_stop "$OUT/tfo.pcap"
say "  tfo.pcap: $PK_CAP_GOT packets"

# ---------------------------------------------------------------- verification (tshark is the reference)
names() {  # the distinct inner DNS questions, HTTP hosts and TLS SNIs tshark reads, sorted
    tshark -n -r "$1" -Y 'dns.flags.response == 0 || http.request || tls.handshake.type == 1' -T fields -E occurrence=l \
        -e dns.qry.name -e http.host -e tls.handshake.extensions_server_name 2>/dev/null | tr -s '\t' '\n' | grep . | sort -u | paste -sd' '
}
want="api.shodan.io censys.io ipinfo.io search.censys.io www.example.com www.example.net www.example.org"
for f in plain vxlan geneve gre-teb gre-ip6 erspan2 erspan3 mpls pppoe; do
    got=$(names "$OUT/$f.pcap")
    [ "$got" = "$want" ] || die "$f.pcap: tshark reads '$got', want '$want'"
done
syns=$(tshark -n -r "$OUT/plain.pcap" -Y 'tcp.flags == 0x002 && tcp.dstport <= 300' 2>/dev/null | wc -l)
[ "$syns" -ge 300 ] || die "plain.pcap: only $syns SYNs of the nmap scan"
[ "$(tshark -n -r "$OUT/vxlan.pcap" -Y 'vxlan.vni == 42' 2>/dev/null | wc -l)" -ge 600 ] || die "vxlan.pcap: too few VXLAN frames"
tfo=$(tshark -n -r "$OUT/tfo.pcap" -Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && tcp.len > 0' -T fields -e tcp.dstport 2>/dev/null | sort | paste -sd' ')
[ "$tfo" = "443 443 80 80" ] || die "tfo.pcap: SYNs with data to ports '$tfo', want '443 443 80 80'"
got=$(names "$OUT/tfo.pcap")
[ "$got" = "api.shodan.io ipinfo.io search.censys.io www.example.com www.example.net" ] || die "tfo.pcap: tshark reads '$got'"

chmod 0644 "$OUT"/*.pcap
pk_install "$DEST" vxlan.pcap plain.pcap geneve.pcap gre-teb.pcap gre-ip6.pcap erspan2.pcap erspan3.pcap mpls.pcap pppoe.pcap tfo.pcap
