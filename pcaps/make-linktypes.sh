#!/usr/bin/env bash
# pcaps/make-linktypes.sh - captures in the link types of issue 18: NFLOG for real (tcpdump -i nflog:N with an
# iptables NFLOG rule), and PPP, PPP_HDLC, Cisco HDLC and 802.11 + radiotap re-framed from a real Ethernet capture
# of the same traffic (pcaps/reframe.py: the IP datagrams byte for byte, a new link header), for test/formats.test.ts
# and test/decode.test.ts.
#
#   sudo bash pcaps/make-linktypes.sh             (root is required; runnable from any cwd; a few seconds)
#   PKL_DEST=/tmp/x bash pcaps/make-linktypes.sh   (write the captures there instead)
#
# apt: iptables dnsmasq bind9-dnsutils curl python3 tcpdump tshark iproute2 coreutils
#
# Two network namespaces made here, joined by one veth pair; no default route, nothing can leave them:
#   pkl-s-PID  server  veth0 02:97:00:00:00:01  10.97.0.1/24 fd97::1/64  dnsmasq (every name -> 10.97.0.1, no
#              upstream), python3 -m http.server 80
#   pkl-c-PID  client  veth0 02:97:00:00:00:02  10.97.0.2/24 fd97::2/64  dig, curl; iptables (nft backend) logs
#              its own INPUT and OUTPUT to NFLOG group 7, which tcpdump -i nflog:7 captures
# Output ($PKL_DEST, default pcaps/linktypes/, overwritten): nflog.pcap, ethernet.pcap (the Ethernet capture of
# the same traffic, in the server namespace), ppp.pcap, ppp-hdlc.pcap, c-hdlc.pcap, radiotap.pcap (re-framed from
# ethernet.pcap).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKL_DEST:-$HERE/linktypes}
NC="pkl-c-$$"
NS="pkl-s-$$"
pk_init make-linktypes.sh PKL_KEEP_TMP "$NC" "$NS"

pk_preflight ip iptables tcpdump tshark dnsmasq dig curl python3 timeout ss
pk_make_tmp pkl www

say "namespaces $NS (server 10.97.0.1) / $NC (client 10.97.0.2)"
pk_netns_up "$NC" "$NS"
pk_veth veth0 "$NC" 02:97:00:00:00:02 "$NS" 02:97:00:00:00:01
ip -n "$NS" addr add 10.97.0.1/24 dev veth0
ip -n "$NS" addr add fd97::1/64 dev veth0 nodad
ip -n "$NC" addr add 10.97.0.2/24 dev veth0
ip -n "$NC" addr add fd97::2/64 dev veth0 nodad
ip -n "$NC" link set veth0 up
ip -n "$NS" link set veth0 up
pk_no_offloads "$NC" veth0
pk_no_offloads "$NS" veth0
pk_check_netns '^(127\.0\.0\.1/8|::1/128|10\.97\.0\.[12]/24|fd97::[12]/64)$' "$NC" "$NS"

pk_dnsmasq "$NS" 60 --listen-address=10.97.0.1,fd97::1 --address=/#/10.97.0.1 --address=/#/fd97::1
printf '<html><body>picket link types</body></html>\n' >"$TMP/www/index.html"
pk_spawn "$NS" 60 "$TMP/http.log" python3 -m http.server 80 --bind :: --directory "$TMP/www"
pk_wait_until 100 pk_listens "$NS" u 53 || die "dnsmasq did not start"
pk_wait_until 100 pk_listens "$NS" t 80 || die "http.server did not start"

# The NFLOG rules: only in the client namespace's own tables (iptables in a namespace touches that namespace).
ip netns exec "$NC" iptables -A OUTPUT -o veth0 -j NFLOG --nflog-group 7
ip netns exec "$NC" iptables -A INPUT -i veth0 -j NFLOG --nflog-group 7
ip netns exec "$NC" ip6tables -A OUTPUT -o veth0 -j NFLOG --nflog-group 7
ip netns exec "$NC" ip6tables -A INPUT -i veth0 -j NFLOG --nflog-group 7

say "capture nflog.pcap (client) and ethernet.pcap (server) at once"
pk_tcap "$NS" 60 veth0 4096 "$OUT/ethernet.pcap" ip or ip6
ETH_PID=$PK_CAP_PID; ETH_ERR=$PK_CAP_ERR
pk_tcap "$NC" 60 nflog:7 4096 "$OUT/nflog.pcap"
qd() { echo "== dig $*" >>"$LOG"; pk_run "$NC" 10 dig +tries=1 +time=2 "$@" || say "warning: dig $* failed"; }
qd @10.97.0.1 api.shodan.io A
qd @10.97.0.1 example.org A
qd @fd97::1 censys.io AAAA
qd @fd97::1 www.example.net A
qd +tcp @10.97.0.1 ipinfo.io A
echo "== curl" >>"$LOG"; pk_run "$NC" 10 curl -sS -o /dev/null --max-time 3 --resolve ipinfo.io:80:10.97.0.1 http://ipinfo.io/ || say "warning: curl failed"
pk_cap_stop "$OUT/nflog.pcap"
say "  nflog.pcap: $PK_CAP_GOT packets"
PK_CAP_PID=$ETH_PID; PK_CAP_ERR=$ETH_ERR; PK_CAP_TOOL=tcpdump
pk_cap_stop "$OUT/ethernet.pcap"
say "  ethernet.pcap: $PK_CAP_GOT packets"

for k in ppp ppp-hdlc c-hdlc radiotap; do python3 "$HERE/reframe.py" "$k" "$OUT/ethernet.pcap" "$OUT/$k.pcap" >>"$LOG"; done

# ---------------------------------------------------------------- verification (tshark is the reference)
names() { tshark -n -r "$1" -Y 'dns.flags.response == 0' -T fields -E occurrence=f -e dns.qry.name 2>/dev/null | sort | paste -sd' '; }
want="api.shodan.io censys.io example.org ipinfo.io www.example.net"
for f in nflog ethernet ppp ppp-hdlc c-hdlc radiotap; do
    got=$(names "$OUT/$f.pcap")
    [ "$got" = "$want" ] || die "$f.pcap: tshark's DNS questions are '$got', want '$want'"
done
[ "$(tshark -n -r "$OUT/nflog.pcap" -Y 'http.request' 2>/dev/null | wc -l)" = 1 ] || die "nflog.pcap: no HTTP request"
enc() { capinfos -E "$1" 2>/dev/null | sed -n 's/^File encapsulation: *//p'; }
[ "$(enc "$OUT/nflog.pcap")" = "NFLOG" ] || die "nflog.pcap: encapsulation $(enc "$OUT/nflog.pcap")"

chmod 0644 "$OUT"/*.pcap
pk_install "$DEST" nflog.pcap ethernet.pcap ppp.pcap ppp-hdlc.pcap c-hdlc.pcap radiotap.pcap
