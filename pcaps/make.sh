#!/usr/bin/env bash
# pcaps/make.sh - build the small, REAL packet captures used by picket's tests.
#
#   sudo bash pcaps/make.sh          (root is required; runnable from any cwd)
#   PKMK_DEST=/tmp/x bash pcaps/make.sh   (install the captures there instead; used by the tests)
#
# Everything happens inside two network namespaces created here (pkmk-c-PID,
# pkmk-s-PID) joined by a veth pair, plus TUN/TAP links provided by
# pcaps/netrelay.py.  Addresses used: 10.77.0.0/24, fd77::/64 (veth),
# 10.78.0.0/24, fd78::/64 (tun), 10.79.0.0/24 (802.1Q), 10.80.0.0/24 (QinQ).
# No namespace has a default route; nothing can leave them.  DNS is answered
# by a local dnsmasq with no upstream; HTTP/TLS by local servers.
#
# Packages (all Debian 12; no extra packages beyond these were needed):
# apt: iproute2 tcpdump tshark nmap dnsmasq bind9-dnsutils curl openssl python3 gzip
#   (tshark pulls in wireshark-common: dumpcap, editcap, capinfos, mergecap)
#
# Outputs (overwritten on every run): pcaps/*.pcap, pcaps/formats/*,
# pcaps/README.md.  Nothing outside pcaps/ is written except the runtime
# /etc/netns/pkmk-c-PID/ (client resolv.conf), removed again on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
NC="pkmk-c-$$"          # client namespace
NS="pkmk-s-$$"          # server namespace
pk_init make.sh PKMK_KEEP_TMP "$NC" "$NS"

# ---------------------------------------------------------------- preflight
pk_preflight ip tcpdump tshark dumpcap editcap capinfos mergecap nmap dnsmasq dig curl openssl python3 gzip ss timeout
[ -c /dev/net/tun ] || die "/dev/net/tun missing (TUN/TAP needed for rawip/vlan links)"
pk_make_tmp pkmk out/formats www tls

# ---------------------------------------------------------------- namespaces
say "namespaces $NC (client) / $NS (server)"
pk_netns_up "$NC" "$NS"
S() { ip netns exec "$NS" "$@"; }      # run in server namespace
pk_veth veth0 "$NC" 02:77:00:00:00:02 "$NS" 02:77:00:00:00:01
ip -n "$NC" addr add 10.77.0.2/24 dev veth0
ip -n "$NC" addr add fd77::2/64 dev veth0 nodad
ip -n "$NS" addr add 10.77.0.1/24 dev veth0
for i in $(seq 3 12); do ip -n "$NS" addr add "10.77.0.$i/24" dev veth0; done   # scan targets
ip -n "$NS" addr add fd77::1/64 dev veth0 nodad
# accept IPv6 Segment Routing Headers (for the SRH query in formats/ipv6.pcap)
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.seg6_enabled=1 net.ipv6.conf.veth0.seg6_enabled=1
ip -n "$NC" link set veth0 up
ip -n "$NS" link set veth0 up

# TUN pair (raw IP, stands in for ipip) and TAP-on-veth VLAN links.
say "starting netrelay (tun0, vl100 = 802.1Q 100, ql300 = 802.1ad 200 + 802.1Q 300)"
timeout 900 python3 "$HERE/netrelay.py" --ns "$NC" "$NS" --max-seconds 850 \
    --tun tun0 \
    --vlan vl100:veth0:8100.100 \
    --vlan ql300:veth0:88a8.200,8100.300 \
    --ready "$TMP/relay.ready" 2>"$TMP/relay.err" &
PIDS+=("$!")
pk_wait_until 100 test -s "$TMP/relay.ready" || { cat "$TMP/relay.err" >&2; die "netrelay did not start"; }

setup_side() {  # ns last-octet mac-suffix
    local ns=$1 o=$2 m=$3
    ip -n "$ns" link set tun0 addrgenmode none
    ip -n "$ns" addr add "10.78.0.$o/24" dev tun0
    ip -n "$ns" addr add "fd78::$o/64" dev tun0 nodad
    ip -n "$ns" link set tun0 up
    # no IPv6 on the VLAN taps (keeps ND/MLD out of the captures), and no delayed
    # unicast ARP re-probes that would land in a later capture
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.vl100.disable_ipv6=1 net.ipv6.conf.ql300.disable_ipv6=1 \
        net.ipv4.neigh.vl100.delay_first_probe_time=600 net.ipv4.neigh.ql300.delay_first_probe_time=600
    ip -n "$ns" link set vl100 address "02:79:00:00:00:0$m"
    ip -n "$ns" link set ql300 address "02:80:00:00:00:0$m"
    ip -n "$ns" addr add "10.79.0.$o/24" dev vl100
    ip -n "$ns" addr add "10.80.0.$o/24" dev ql300
    ip -n "$ns" link set vl100 up
    ip -n "$ns" link set ql300 up
}
setup_side "$NS" 1 1
setup_side "$NC" 2 2

# Safety: no default route, only our own prefixes, in either namespace.
pk_check_netns '^(127\.0\.0\.1/8|::1/128|10\.(77|78|79|80)\.0\.[0-9]+/24|fd7[78]::[0-9]+/64)$' "$NC" "$NS"

# Client resolver: glibc in the client namespace asks the server's dnsmasq.
pk_netns_etc "$NC" 10.77.0.1 '127.0.0.1 localhost' '::1 localhost'

# ---------------------------------------------------------------- servers
say "starting dnsmasq, http.server :80 :8080, openssl s_server :443 in $NS"
pk_dnsmasq "$NS" 900 --listen-address=10.77.0.1,fd77::1,10.78.0.1,fd78::1,10.79.0.1,10.80.0.1 \
    --address=/#/10.77.0.1 --address=/#/fd77::1 --address=/invalid/ \
    --txt-record=shodan.io,"picket test record" \
    --local-ttl=60 --edns-packet-max=4096

printf '<html><body>picket test server</body></html>\n' >"$TMP/www/index.html"
for port in 80 8080; do
    pk_spawn "$NS" 900 "$TMP/http$port.log" python3 -m http.server "$port" --bind :: --directory "$TMP/www"
done

pk_cert "$TMP/tls" picket-test.invalid
pk_spawn "$NS" 900 "$TMP/s_server.log" openssl s_server -accept 10.77.0.1:443 -www -quiet \
    -cert "$TMP/tls/cert.pem" -key "$TMP/tls/key.pem"

wait_listen() {  # proto(t|u) port
    pk_wait_until 100 pk_listens "$NS" "$1" "$2" || die "nothing listening on $1/$2 in $NS"
}
wait_listen u 53; wait_listen t 53; wait_listen t 80; wait_listen t 8080; wait_listen t 443
# every dnsmasq address must be bound (bind-interfaces fails silently otherwise)
for a in 10.77.0.1 10.78.0.1 10.79.0.1 10.80.0.1 '[fd77::1]' '[fd78::1]'; do
    S ss -Hlnu "src $a" | grep -q ':53' || { cat "$TMP/dnsmasq.err" >&2; die "dnsmasq not bound to $a"; }
done

# ---------------------------------------------------------------- capture helpers (in the server namespace)
cap_start() { pk_cap_start "$NS" 120 "$@"; }                     # out-file cmd...
tcap() { pk_tcap "$NS" 120 "$2" 65536 "$1" "${@:3}"; }          # out-file iface [tcpdump args...]
cap_stop() { pk_cap_stop "$1"; say "  $PK_CAP_GOT packets -> ${1#"$OUT/"}"; }   # out-file

# ---------------------------------------------------------------- traffic helpers
qd() {   # dig from the client; a failed lookup is logged, verification catches gaps
    echo "== dig $*" >>"$LOG"
    timeout 8 ip netns exec "$NC" dig +tries=1 +time=2 "$@" >>"$LOG" 2>&1 || say "warning: dig $* failed"
}
qcurl() {
    echo "== curl $*" >>"$LOG"
    timeout 6 ip netns exec "$NC" curl -sS -o /dev/null -w '%{http_code} %{remote_ip}\n' --max-time 3 "$@" >>"$LOG" 2>&1 \
        || say "warning: curl $* failed"
}
qtls() { # sni
    echo "== openssl s_client -servername $1" >>"$LOG"
    timeout 8 ip netns exec "$NC" openssl s_client -connect 10.77.0.1:443 -servername "$1" </dev/null >>"$LOG" 2>&1 \
        || say "warning: s_client $1 failed"
}
qpy() {  # dnsq.py args...
    echo "== dnsq.py $*" >>"$LOG"
    timeout 10 ip netns exec "$NC" python3 "$HERE/dnsq.py" "$@" >>"$LOG" 2>&1 || say "warning: dnsq.py $* failed"
}
fmt_dns() {  # server-address: the short exchange used by the format variants
    qd @"$1" api.shodan.io A
    qd @"$1" example.org A
    qd @"$1" censys.io AAAA
}

INTEL_NAMES=(shodan.io api.shodan.io censys.io search.censys.io ipinfo.io ipapi.co ip-api.com
             whois.arin.net rdap.arin.net stat.ripe.net bgp.he.net greynoise.io viz.greynoise.io
             maxmind.com ApI.ShOdAn.Io shodan.io.)
NEAR_MISS=(example.org debian.org notshodan.io shodan.io.example.net myshodan.io nonexistent.invalid xn--mnchen-3ya.example)

# ---------------------------------------------------------------- 1. intel-dns.pcap
say "capture intel-dns.pcap"
tcap "$OUT/intel-dns.pcap" veth0
for n in "${INTEL_NAMES[@]}"; do qd @10.77.0.1 "$n" A; done
qd @10.77.0.1 api.shodan.io AAAA
qd @10.77.0.1 shodan.io TXT
qd @10.77.0.1 censys.io ANY            # dig 9.18 sends ANY over TCP by itself
qd +notcp @10.77.0.1 censys.io ANY      # ... so also one ANY over UDP
qd +tcp @10.77.0.1 ipinfo.io A
qd @fd77::1 greynoise.io A
for n in "${NEAR_MISS[@]}"; do qd @10.77.0.1 "$n" A; done
qcurl http://ipinfo.io/
qcurl http://api.shodan.io:8080/x
qtls api.shodan.io
qtls www.example.org
cap_stop "$OUT/intel-dns.pcap"

# ---------------------------------------------------------------- 1b. tls-split.pcap (test/tls.test.ts)
# BEGIN tls-split block: one ClientHello cut at both layers, for the TLS parser (src/app/tls.ts).
# * Records: `-max_send_frag 512` makes s_client write the ~670-byte hello as two TLS records (512 bytes and the
#   rest; RFC 8446 5.1 lets a handshake message span records). The long ALPN list only makes the hello that big.
# * Segments: a host route in the server namespace with advmss 400 makes the server announce MSS 400 in its
#   SYN-ACK, and gso_max_segs 1 on the client's veth stops the kernel from handing veth one GSO super-packet
#   (which tcpdump would show as one frame); so the hello leaves in two real TCP segments.
# Both settings are undone right after. s_client resolves the name itself (-4: one A query), so this capture
# carries DNS as every other one does.
say "capture tls-split.pcap"
TLS_SPLIT_ALPN="h2,http/1.1$(printf ',picket-split-test-%02d' $(seq 1 16))"
TLS_SPLIT_SEGS=$(ip -n "$NC" -d link show veth0 | sed -n 's/.* gso_max_segs \([0-9]*\).*/\1/p')
ip -n "$NS" route add 10.77.0.2/32 dev veth0 advmss 400
ip -n "$NC" link set dev veth0 gso_max_segs 1
tcap "$OUT/tls-split.pcap" veth0
echo "== openssl s_client -servername search.censys.io -max_send_frag 512 (MSS 400)" >>"$LOG"
timeout 8 ip netns exec "$NC" openssl s_client -4 -connect search.censys.io:443 -servername search.censys.io \
    -max_send_frag 512 -alpn "$TLS_SPLIT_ALPN" </dev/null >>"$LOG" 2>&1 || say "warning: s_client (split hello) failed"
cap_stop "$OUT/tls-split.pcap"
ip -n "$NC" link set dev veth0 gso_max_segs "${TLS_SPLIT_SEGS:-65535}"
ip -n "$NS" route del 10.77.0.2/32 dev veth0
# The hello must really be cut both ways: tshark puts it together from >= 2 segments and finds >= 2 records.
split=$(tshark -r "$OUT/tls-split.pcap" -Y 'tls.handshake.type == 1' -T fields -E occurrence=a -E aggregator=, \
        -e tls.handshake.extensions_server_name -e tcp.segment.count -e tls.record.length 2>/dev/null)
IFS=$'\t' read -r split_sni split_segs split_recs <<<"$split"
[ "$split_sni" = "search.censys.io" ] || die "tls-split.pcap: want one ClientHello with SNI search.censys.io, got: $split"
[ "${split_segs:-0}" -ge 2 ] || die "tls-split.pcap: the ClientHello is not in >= 2 TCP segments (got: $split)"
[[ "$split_recs" == *,* ]] || die "tls-split.pcap: the ClientHello is not in >= 2 TLS records (got: $split)"
[ -n "$(tshark -r "$OUT/tls-split.pcap" -Y 'dns.flags.response == 0 && dns.qry.name == "search.censys.io"' 2>/dev/null)" ] \
    || die "tls-split.pcap: no DNS query for search.censys.io"
# END tls-split block

# ---------------------------------------------------------------- 2. benign.pcap
say "capture benign.pcap"
tcap "$OUT/benign.pcap" veth0
for n in example.org debian.org www.example.net notshodan.io myshodan.io; do qd @10.77.0.1 "$n" A; done
qd @10.77.0.1 example.org AAAA
qd @10.77.0.1 debian.org TXT
qd @10.77.0.1 www.example.net ANY
qd +notcp @10.77.0.1 www.example.net ANY
qd +tcp @10.77.0.1 notshodan.io A
qd @fd77::1 myshodan.io A
qd @10.77.0.1 nonexistent.invalid A
qcurl http://www.example.org/
qcurl http://debian.org:8080/x
qtls www.example.org
qtls myshodan.io
cap_stop "$OUT/benign.pcap"

# ---------------------------------------------------------------- 3. nmap-syn.pcap
say "capture nmap-syn.pcap"
tcap "$OUT/nmap-syn.pcap" veth0
echo "== nmap port scan" >>"$LOG"
timeout 60 ip netns exec "$NC" nmap -sS -n -Pn -e veth0 -T4 --max-retries 1 --max-rate 2000 \
    -p 20-100,443,8080 10.77.0.1 >>"$LOG" 2>&1 || die "nmap port scan failed"
echo "== nmap sweep" >>"$LOG"
# 10.77.0.2 is the scanner itself, so the sweep covers .1 and .3-.12 (all assigned above)
timeout 60 ip netns exec "$NC" nmap -sS -n -Pn -e veth0 -T4 --max-retries 1 --max-rate 2000 \
    -p 80,443 10.77.0.1,3-12 >>"$LOG" 2>&1 || die "nmap sweep failed"
cap_stop "$OUT/nmap-syn.pcap"

# ---------------------------------------------------------------- 4. formats/
F="$OUT/formats"
say "capture formats/sll.pcap";   tcap "$F/sll.pcap" any -y LINUX_SLL;   fmt_dns 10.77.0.1; cap_stop "$F/sll.pcap"
say "capture formats/sll2.pcap";  tcap "$F/sll2.pcap" any -y LINUX_SLL2; fmt_dns 10.77.0.1; cap_stop "$F/sll2.pcap"
say "capture formats/rawip.pcap"; tcap "$F/rawip.pcap" tun0;  fmt_dns 10.78.0.1; qd +tcp @10.78.0.1 ipinfo.io A; cap_stop "$F/rawip.pcap"
say "capture formats/rawip6.pcap"; tcap "$F/rawip6.pcap" tun0; fmt_dns fd78::1; qd +tcp @fd78::1 ipinfo.io A; cap_stop "$F/rawip6.pcap"
say "capture formats/vlan.pcap";  tcap "$F/vlan.pcap" veth0; fmt_dns 10.79.0.1; cap_stop "$F/vlan.pcap"
say "capture formats/qinq.pcap";  tcap "$F/qinq.pcap" veth0; fmt_dns 10.80.0.1; cap_stop "$F/qinq.pcap"

say "capture formats/ipv6.pcap"
tcap "$F/ipv6.pcap" veth0
fmt_dns fd77::1
qpy --server fd77::1 --ext hbh,dst ipinfo.io
qpy --server fd77::1 --ext dst --type AAAA shodan.io
qpy --server fd77::1 --ext hbh example.net
qpy --server fd77::1 --ext srh rdap.arin.net
qpy --server fd77::1 --ext hbh,srh,dst --type TXT greynoise.io
cap_stop "$F/ipv6.pcap"

say "capture formats/frag.pcap"
tcap "$F/frag.pcap" veth0
qpy --server 10.77.0.1 --pad 2000 api.shodan.io
qpy --server fd77::1 --pad 2000 search.censys.io
qpy --server 10.77.0.1 --pad 2000 example.org
cap_stop "$F/frag.pcap"

say "capture formats/ns.pcap"
tcap "$F/ns.pcap" veth0 --time-stamp-precision=nano
fmt_dns 10.77.0.1
cap_stop "$F/ns.pcap"

say "capture formats/multi-if.pcapng (dumpcap on veth0 + tun0)"
cap_start "$F/multi-if.pcapng" dumpcap -i veth0 -i tun0 -w "$F/multi-if.pcapng"
qd @10.77.0.1 api.shodan.io A
qd @10.78.0.1 example.org A
qd @10.78.0.1 api.shodan.io A
qd @10.77.0.1 example.org A
qd @fd78::1 censys.io AAAA
cap_stop "$F/multi-if.pcapng"

# ---------------------------------------------------------------- derived files
say "derive nsres.pcapng, null.pcap, *.gz"
editcap -F pcapng "$F/ns.pcap" "$F/nsres.pcapng"
mergecap -a -F pcap -w "$TMP/rawip-both.pcap" "$F/rawip.pcap" "$F/rawip6.pcap"
python3 "$HERE/rawip-to-null.py" "$TMP/rawip-both.pcap" "$F/null.pcap" >>"$LOG"
gzip -9 -n -c "$OUT/intel-dns.pcap" >"$F/intel-dns.pcap.gz"
gzip -9 -n -c "$F/multi-if.pcapng" >"$F/multi-if.pcapng.gz"

# ---------------------------------------------------------------- verification
say "verifying"
qnames() { tshark -r "$1" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name 2>/dev/null | tr ',' '\n' | sed '/^$/d'; }
encap()  { capinfos -E "$1" | sed -n 's/^File encapsulation: *//p'; }
tsprec() { capinfos "$1" | sed -n 's/^File timestamp precision: *//p'; }
npkts()  { capinfos -M -c "$1" | sed -n 's/^Number of packets: *//p'; }
expect_names() {  # file name...
    local f=$1 n got; shift
    got=$(qnames "$f")
    for n in "$@"; do
        n=${n%.}
        grep -qxF -- "$n" <<<"$got" || die "$(basename "$f"): query for '$n' missing (have: $(sort -u <<<"$got" | tr '\n' ' '))"
    done
}
expect_encap() {  # file encapsulation-text
    local e; e=$(encap "$1")
    [ "$e" = "$2" ] || die "$(basename "$1"): encapsulation '$e', expected '$2'"
}
expect_filter() {  # file display-filter min-count
    local c; c=$(tshark -r "$1" -Y "$2" 2>/dev/null | wc -l) || die "tshark failed on $(basename "$1") with filter '$2'"
    [ "$c" -ge "$3" ] || die "$(basename "$1"): only $c packets match '$2' (want >= $3)"
}

expect_encap "$OUT/intel-dns.pcap" "Ethernet"
expect_names "$OUT/intel-dns.pcap" "${INTEL_NAMES[@]}" "${NEAR_MISS[@]}"
expect_filter "$OUT/intel-dns.pcap" 'dns.qry.type == 28 && dns.qry.name == "api.shodan.io"' 1
expect_filter "$OUT/intel-dns.pcap" 'dns.qry.type == 16 && dns.flags.response == 0' 1
expect_filter "$OUT/intel-dns.pcap" 'dns.qry.type == 255 && dns.flags.response == 0 && udp' 1
expect_filter "$OUT/intel-dns.pcap" 'dns.qry.type == 255 && dns.flags.response == 0 && tcp' 1
expect_filter "$OUT/intel-dns.pcap" 'tcp.port == 53 && dns.flags.response == 0' 1
expect_filter "$OUT/intel-dns.pcap" 'ipv6 && dns.flags.response == 0' 1
expect_filter "$OUT/intel-dns.pcap" 'tls.handshake.extensions_server_name == "api.shodan.io"' 1
expect_filter "$OUT/intel-dns.pcap" 'tls.handshake.extensions_server_name == "www.example.org"' 1
expect_filter "$OUT/intel-dns.pcap" 'http.host == "ipinfo.io"' 1
expect_filter "$OUT/intel-dns.pcap" 'http.host == "api.shodan.io:8080"' 1
expect_filter "$OUT/intel-dns.pcap" 'dns.flags.rcode == 3' 1

expect_encap "$OUT/benign.pcap" "Ethernet"
expect_names "$OUT/benign.pcap" example.org debian.org www.example.net notshodan.io myshodan.io nonexistent.invalid
INTEL_RE='(^|\.)(shodan\.io|censys\.io|ipinfo\.io|ipapi\.co|ip-api\.com|arin\.net|ripe\.net|he\.net|greynoise\.io|maxmind\.com)(:[0-9]+)?$'
leak=$(tshark -r "$OUT/benign.pcap" -T fields -e dns.qry.name -e tls.handshake.extensions_server_name -e http.host 2>/dev/null \
       | tr '\t,' '\n\n' | sed '/^$/d' | grep -Ei "$INTEL_RE" || true)
[ -z "$leak" ] || die "benign.pcap contains intel names: $leak"
expect_filter "$OUT/benign.pcap" 'tls.handshake.extensions_server_name' 2
expect_filter "$OUT/benign.pcap" 'http.request' 2

expect_encap "$OUT/nmap-syn.pcap" "Ethernet"
expect_filter "$OUT/nmap-syn.pcap" 'tcp.flags.syn == 1 && tcp.flags.ack == 0 && ip.dst == 10.77.0.1' 80
expect_filter "$OUT/nmap-syn.pcap" 'tcp.flags.syn == 1 && tcp.flags.ack == 1' 3
for i in 1 3 4 5 6 7 8 9 10 11 12; do
    expect_filter "$OUT/nmap-syn.pcap" "ip.dst == 10.77.0.$i && tcp.dstport == 443 && tcp.flags.syn == 1" 1
done
[ "$(npkts "$OUT/nmap-syn.pcap")" -lt 1000 ] || die "nmap-syn.pcap has >= 1000 packets"

for f in sll sll2 rawip rawip6 vlan qinq ns; do expect_names "$F/$f.pcap" api.shodan.io example.org censys.io; done
expect_encap "$F/sll.pcap" "Linux cooked-mode capture v1"
expect_encap "$F/sll2.pcap" "Linux cooked-mode capture v2"
expect_encap "$F/rawip.pcap" "Raw IP"
expect_encap "$F/rawip6.pcap" "Raw IP"
expect_filter "$F/rawip.pcap" 'ip && dns' 6
expect_filter "$F/rawip6.pcap" 'ipv6 && dns' 6
expect_encap "$F/vlan.pcap" "Ethernet"
expect_filter "$F/vlan.pcap" 'vlan.id == 100 && dns' 6
expect_encap "$F/qinq.pcap" "Ethernet"
expect_filter "$F/qinq.pcap" 'eth.type == 0x88a8 && ieee8021ad.id == 200 && vlan.id == 300 && dns' 6
expect_encap "$F/ipv6.pcap" "Ethernet"
expect_names "$F/ipv6.pcap" api.shodan.io example.org censys.io ipinfo.io shodan.io example.net rdap.arin.net greynoise.io
expect_filter "$F/ipv6.pcap" 'ipv6.routing.type == 4 && !ipv6.hopopts && dns.flags.response == 0 && dns.qry.name == "rdap.arin.net"' 1
expect_filter "$F/ipv6.pcap" 'ipv6.hopopts && ipv6.routing.type == 4 && ipv6.dstopts && dns.flags.response == 0 && dns.qry.name == "greynoise.io"' 1
expect_filter "$F/ipv6.pcap" 'dns.flags.response == 1 && (dns.qry.name == "rdap.arin.net" || dns.qry.name == "greynoise.io")' 2
expect_filter "$F/ipv6.pcap" 'ipv6.hopopts && ipv6.dstopts && dns.flags.response == 0 && dns.qry.name == "ipinfo.io"' 1
expect_filter "$F/ipv6.pcap" '!ipv6.hopopts && ipv6.dstopts && dns.flags.response == 0 && dns.qry.name == "shodan.io"' 1
expect_filter "$F/ipv6.pcap" 'ipv6.hopopts && !ipv6.dstopts && dns.flags.response == 0 && dns.qry.name == "example.net"' 1
expect_names "$F/frag.pcap" api.shodan.io search.censys.io example.org
expect_filter "$F/frag.pcap" 'ip.flags.mf == 1' 2
expect_filter "$F/frag.pcap" 'ipv6.fraghdr.more == 1' 1
expect_encap "$F/ns.pcap" "Ethernet"
[ "$(od -An -tx1 -N4 "$F/ns.pcap" | tr -d ' ')" = "4d3cb2a1" ] || die "ns.pcap: not a nanosecond (a1b23c4d) pcap"
expect_names "$F/multi-if.pcapng" api.shodan.io example.org censys.io
[ "$(capinfos -M -t "$F/multi-if.pcapng" | sed -n 's/^File type: *//p')" = "pcapng" ] || die "multi-if: not pcapng"
expect_encap "$F/multi-if.pcapng" "Per packet"
ifencaps=$(tshark -r "$F/multi-if.pcapng" -Y dns -T fields -e frame.interface_id -e frame.encap_type 2>/dev/null | sort -u | tr '\t\n' ':,')
[ "$ifencaps" = "0:1,1:7," ] || die "multi-if: want DNS on interface 0 (Ethernet=1) and 1 (Raw IP=7), got: $ifencaps"
[ "$(tsprec "$F/ns.pcap")" = "nanoseconds (9)" ] || die "ns.pcap: timestamp precision is $(tsprec "$F/ns.pcap")"
[ "$(tsprec "$F/nsres.pcapng")" = "nanoseconds (9)" ] || die "nsres.pcapng: timestamp precision is $(tsprec "$F/nsres.pcapng")"
cmp -s <(tshark -r "$F/ns.pcap" -T fields -e frame.time_epoch 2>/dev/null) \
       <(tshark -r "$F/nsres.pcapng" -T fields -e frame.time_epoch 2>/dev/null) || die "nsres.pcapng timestamps differ from ns.pcap"
expect_names "$F/nsres.pcapng" api.shodan.io example.org censys.io
expect_names "$F/null.pcap" api.shodan.io example.org censys.io ipinfo.io
expect_encap "$F/null.pcap" "NULL/Loopback"
expect_filter "$F/null.pcap" 'null.family == 2' 6
expect_filter "$F/null.pcap" 'null.family == 24' 6
cmp -s <(gzip -dc "$F/intel-dns.pcap.gz") "$OUT/intel-dns.pcap" || die "intel-dns.pcap.gz differs"
cmp -s <(gzip -dc "$F/multi-if.pcapng.gz") "$F/multi-if.pcapng" || die "multi-if.pcapng.gz differs"
expect_names "$F/intel-dns.pcap.gz" "${INTEL_NAMES[@]}"

# ---------------------------------------------------------------- install + README
# PKMK_DEST: install somewhere else (the test suite regenerates into a temp dir and compares); no README then.
DEST="${PKMK_DEST:-$HERE}"
say "installing into $DEST"
mkdir -p "$DEST/formats"
for f in intel-dns.pcap benign.pcap nmap-syn.pcap tls-split.pcap; do mv -f "$OUT/$f" "$DEST/$f"; done
for f in "$F"/*; do mv -f "$f" "$DEST/formats/"; done
chmod 0644 "$DEST"/*.pcap "$DEST"/formats/*
# The QUIC captures come from their own script (ngtcp2's example client and server); run it here so that this one
# command regenerates every committed capture.
PKQ_DEST="$DEST/quic" bash "$HERE/make-quic.sh" || die "make-quic.sh failed"
# The scan captures (nmap, masscan, zmap, hping3 against services in their own namespaces) likewise.
PKS_DEST="$DEST/scans" bash "$HERE/make-scans.sh" || die "make-scans.sh failed"
# The reconnaissance captures (nmap -sV/NSE/SMB, masscan banners, scanner User-Agents, zone transfers, PTR sweeps,
# subdomain brute force, and their benign counterparts) likewise.
PKR_DEST="$DEST/recon" bash "$HERE/make-recon.sh" || die "make-recon.sh failed"
# The SSH captures (nmap's SSH NSE scripts and -sV, hydra, paramiko, scanners' banners, and benign ssh / curl SFTP
# against a real sshd in namespaces of their own) likewise.
PKSSH_DEST="$DEST/ssh" bash "$HERE/make-ssh.sh" || die "make-ssh.sh failed"
# The HTTP heads as real servers accept them (bare-LF line ends, extension and custom methods, OPTIONS *, a head in
# three segments: issue 18) likewise.
PKH_DEST="$DEST/http" bash "$HERE/make-http.sh" || die "make-http.sh failed"
# mDNS and LLMNR questions and answers (a python3 responder and querier speaking RFC 6762 / RFC 4795) likewise.
PKD_DEST="$DEST/mdns" bash "$HERE/make-mdns.sh" || die "make-mdns.sh failed"
# DNS UPDATE and NOTIFY (nsupdate against a real named, which notifies) likewise.
PKU_DEST="$DEST/dnsupdate" bash "$HERE/make-dnsupdate.sh" || die "make-dnsupdate.sh failed"
# The link types NFLOG (captured for real from an iptables NFLOG rule) and PPP, PPP_HDLC, 802.11 + radiotap
# (re-framed from an Ethernet capture of the same traffic by reframe.py) likewise.
PKL_DEST="$DEST/linktypes" bash "$HERE/make-linktypes.sh" || die "make-linktypes.sh failed"
# Half-open TCP attempts (issue 13: zmap and nmap -sS/-sT/-6 against ports open on every target, and a benign curl
# racing IPv6 and IPv4 whose late SYN-ACKs are reset) likewise.
PKHO_DEST="$DEST/halfopen" bash "$HERE/make-halfopen.sh" || die "make-halfopen.sh failed"
# Tunnels (VXLAN for real with Linux's vxlan device; GENEVE, GRE, ERSPAN II/III, MPLS, PPPoE built by encap.py
# around the same frames) and TCP Fast Open from real clients likewise.
PKT_DEST="$DEST/tunnels" bash "$HERE/make-tunnels.sh" || die "make-tunnels.sh failed"
if [ "$DEST" != "$HERE" ]; then say "done (README.md not rewritten for PKMK_DEST)"; exit 0; fi
chmod 0755 "$HERE"/dnsq.py "$HERE"/netrelay.py "$HERE"/rawip-to-null.py "$HERE"/encap.py   # the scripts (truthlib.py is a module)

# ---------------------------------------------------------------- README.md
say "writing README.md"
linktype_num() {  # classic pcap only: the header's network field
    python3 -c 'import struct,sys
d=open(sys.argv[1],"rb").read(24)
e="<" if d[:4] in (b"\xd4\xc3\xb2\xa1",b"\x4d\x3c\xb2\xa1") else ">"
print(struct.unpack(e+"I",d[20:24])[0])' "$1"
}
uniq_join() { awk 'NF && !seen[$0]++' | paste -sd, - | sed 's/,/, /g'; }
dnsnames() { qnames "$1" | uniq_join; }
field_list() { tshark -r "$1" -Y "$2" -T fields -e "$2" 2>/dev/null | tr ',' '\n' | uniq_join; }
row() {  # relpath how
    local f="$HERE/$1" enc lt prec n size
    enc=$(encap "$f")
    case "$1" in
        *.pcapng|*.pcapng.gz)
            lt="pcapng, $(capinfos -E "$f" | sed -n '/^ \{10,\}/{s/^ *//;s/ ([0-9]*)$//;p}' | paste -sd+ - | sed 's/+/ + /g')"
            [ "$enc" = "Per packet" ] || lt="pcapng, $enc"
            lt="$lt (IDB linktype $(tshark -r "$f" -T fields -e frame.encap_type 2>/dev/null | sort -u | sed 's/^1$/1/;s/^7$/101/' | paste -sd/ -))";;
        *.gz) lt="$enc ($(linktype_num <(gzip -dc "$f"))), gzip";;
        *)    lt="$enc ($(linktype_num "$f"))";;
    esac
    prec=$(tsprec "$f"); prec=${prec%% (*}
    n=$(npkts "$f"); size=$(stat -c %s "$f")
    printf '| `%s` | %s | %s | %s | %s | %s |\n' "$1" "$lt" "$prec" "$n" "$size" "$2"
}

if [ "$(capinfos -o "$HERE/formats/multi-if.pcapng" | sed -n 's/^Strict time order: *//p')" = False ]; then
    MI_ORDER='dumpcap hands packets over in per-interface batches, so this file is **not in timestamp order** (capinfos: strict time order False)'
else
    MI_ORDER='dumpcap hands packets over in per-interface batches; in this run the file happens to be in timestamp order'
fi
{
cat <<'MD'
# Test captures

Small, **real** packet captures for picket's tests, made by [`make.sh`](make.sh):

    sudo bash pcaps/make.sh        # root needed; any cwd; about 1 minute; overwrites every file listed below

`make.sh` creates two network namespaces (`pkmk-c-PID` = client 10.77.0.2 / fd77::2,
`pkmk-s-PID` = server 10.77.0.1 / fd77::1) joined by a veth pair, with no default route,
so no packet can leave them. In the server namespace it runs dnsmasq with no upstream
(`--no-resolv --no-hosts`, every name answers 10.77.0.1 / fd77::1, `*.invalid` answers
NXDOMAIN, a TXT record for shodan.io), `python3 -m http.server` on ports 80 and 8080
(dual-stack), and `openssl s_server -www` on 10.77.0.1:443 with a throw-away self-signed
P-256 certificate. The client namespace's `/etc/resolv.conf` (via `/etc/netns/`) points at
dnsmasq, so `curl` does its own A/AAAA lookups. Captures are taken with
`tcpdump -U --immediate-mode -B 65536 -s 0` (or `dumpcap`) inside the server namespace, stopped
with SIGINT after the traffic and a 1.5 s pause; the script fails if tcpdump reports kernel
drops. All namespaces, processes, temporary files and `/etc/netns/pkmk-c-PID` are removed by
an EXIT trap, also on failure. At the end the script checks every file with tshark/capinfos
(query names, link types, VLAN tags, timestamp precision, ...) and only then replaces the
files here and rewrites this README.

## Kernel limitations and how they were worked around

The kernel these files were captured on (see *Tool versions*) has **no `ipip`, `sit`,
`ip6tnl`, `gre` or `8021q` support** and cannot load modules, so `ip link add ... type ipip`
and `... type vlan` fail there (bridge VLAN filtering and tc `act_vlan` are missing too).
[`netrelay.py`](netrelay.py) (Python stdlib) provides the same observable links with TUN/TAP:

* **Raw IP** (`tun0`, 10.78.0.1 ⇄ 10.78.0.2, fd78::1 ⇄ fd78::2): a TUN device in each
  namespace; netrelay copies each IP packet from one to the other. tcpdump on a TUN device
  writes LINKTYPE_RAW (101), exactly what a capture on an ipip/ip6tnl interface gives.
* **802.1Q / QinQ** (`vl100`: 10.79.0.x, tag 8100/100; `ql300`: 10.80.0.x, tags 88a8/200 +
  8100/300): a TAP device in each namespace acts as the VLAN sub-interface; netrelay inserts
  the tag stack into frames the kernel sends out of the TAP and transmits them on the parent
  `veth0` with an AF_PACKET socket; tagged frames arriving on `veth0` are matched on their tag
  stack, untagged and handed to the TAP. Captures are taken on the parent `veth0`, so the
  frames carry the tags on the wire (on receive libpcap re-inserts the outer tag the kernel
  strips into metadata, with its real TPID).

The DNS/ARP packets themselves are produced and answered by the kernels' stacks, dig and
dnsmasq; only the tags are pushed and popped in user space. On a kernel with `ipip`/`8021q`
real tunnel/VLAN devices would be the more natural way; the captured link types and tag
layouts would be the same.

## Files

Link type = capinfos encapsulation (LINKTYPE number from the file header). Packets = capinfos.

| File | Link type | Timestamps | Packets | Bytes | Made by |
|---|---|---|---|---|---|
MD
row intel-dns.pcap 'tcpdump on server `veth0`: `dig @10.77.0.1` for the IP-intel names (A; AAAA; TXT; ANY over TCP (dig default) and over UDP (`+notcp`); `+tcp`; `@fd77::1`), the benign/near-miss names, `curl http://ipinfo.io/`, `curl http://api.shodan.io:8080/x`, `openssl s_client -servername api.shodan.io` and `-servername www.example.org`'
row benign.pcap 'same kinds of traffic with benign names only (dig A/AAAA/TXT/ANY/+tcp/IPv6, curl to www.example.org and debian.org:8080, s_client SNI www.example.org and myshodan.io); the script checks no intel name appears in any DNS name, SNI or Host header'
row nmap-syn.pcap '`nmap -sS -n -Pn -T4 --max-retries 1 --max-rate 2000 -p 20-100,443,8080 10.77.0.1` then `-p 80,443 10.77.0.1,3-12` (10.77.0.3-.12 are extra addresses on the server veth; .2 is the scanner). Open: 53, 80, 443, 8080 on .1; 80 on .3-.12'
row tls-split.pcap 'tcpdump on `veth0`: `openssl s_client -4 -connect search.censys.io:443 -servername search.censys.io -max_send_frag 512 -alpn h2,http/1.1,picket-split-test-01..16` (after its A query) with the server route at `advmss 400` and `gso_max_segs 1` on the client veth: one ClientHello in two TLS records (512 + rest) and two TCP segments'
row formats/sll.pcap '`tcpdump -i any -y LINUX_SLL` in the server namespace'
row formats/sll2.pcap '`tcpdump -i any -y LINUX_SLL2` in the server namespace'
row formats/rawip.pcap 'tcpdump on `tun0` (TUN, see above); dig to 10.78.0.1, incl. one `+tcp`'
row formats/rawip6.pcap 'tcpdump on `tun0`; dig to fd78::1, incl. one `+tcp`'
row formats/vlan.pcap 'tcpdump on parent `veth0`; dig to 10.79.0.1 through `vl100`; every frame (ARP + DNS) carries 802.1Q VID 100'
row formats/qinq.pcap 'tcpdump on parent `veth0`; dig to 10.80.0.1 through `ql300`; every frame carries 802.1ad VID 200 then 802.1Q VID 300'
row formats/ipv6.pcap 'tcpdump on `veth0`; dig to fd77::1, plus [`dnsq.py`](dnsq.py) queries with IPv6 extension headers set through `IPV6_HOPOPTS`/`IPV6_DSTOPTS`: ipinfo.io (Hop-by-Hop + Destination Options), shodan.io AAAA (Destination Options), example.net (Hop-by-Hop), rdap.arin.net (Segment Routing Header = routing type 4, via `IPV6_RTHDR`), greynoise.io TXT (Hop-by-Hop → Routing (SRH) → Destination Options → UDP); dnsmasq answers all of them'
row formats/frag.pcap 'tcpdump on `veth0`; `dnsq.py --pad 2000` (EDNS Padding) so the kernel fragments the query: api.shodan.io and example.org over IPv4 (MF fragments), search.censys.io over IPv6 (Fragment header). The name is in the first fragment; tshark shows it on the reassembled last fragment'
row formats/ns.pcap 'tcpdump `--time-stamp-precision=nano` on `veth0` (magic a1b23c4d)'
row formats/nsres.pcapng '*derived*: `editcap -F pcapng ns.pcap` — IDB carries `if_tsresol` = 9 (nanoseconds); timestamps identical to ns.pcap'
row formats/multi-if.pcapng '`dumpcap -i veth0 -i tun0` (two IDBs: 0 = veth0 Ethernet, 1 = tun0 raw IP); dig over both, IPv4 and IPv6. '"$MI_ORDER"
row formats/null.pcap '*derived*: `mergecap -a -F pcap rawip.pcap rawip6.pcap` then [`rawip-to-null.py`](rawip-to-null.py): 4-byte host-order family (2 = IPv4, 24 = IPv6) before each packet. Linux cannot capture DLT_NULL'
row formats/intel-dns.pcap.gz '*derived*: `gzip -9 -n` of intel-dns.pcap'
row formats/multi-if.pcapng.gz '*derived*: `gzip -9 -n` of multi-if.pcapng'
cat <<'MD'

ARP, IPv6 neighbour discovery and MLD reports from the same links appear where the kernel
sent them (e.g. the first packets of intel-dns.pcap); they are part of the real traffic.

## DNS query names (`dns.flags.response == 0`, first appearance order)

Check any file with

    tshark -r FILE -Y 'dns.flags.response == 0' -T fields -e frame.number -e dns.qry.name

| File | Query names |
|---|---|
MD
for f in intel-dns.pcap benign.pcap nmap-syn.pcap formats/sll.pcap formats/sll2.pcap formats/rawip.pcap \
         formats/rawip6.pcap formats/vlan.pcap formats/qinq.pcap formats/ipv6.pcap formats/frag.pcap \
         formats/ns.pcap formats/nsres.pcapng formats/multi-if.pcapng formats/null.pcap \
         formats/intel-dns.pcap.gz formats/multi-if.pcapng.gz; do
    names=$(dnsnames "$HERE/$f"); printf '| `%s` | %s |\n' "$f" "${names:-(none)}"
done
cat <<MD

TLS SNI in intel-dns.pcap: $(field_list "$HERE/intel-dns.pcap" tls.handshake.extensions_server_name);
HTTP Host: $(field_list "$HERE/intel-dns.pcap" http.host).
TLS SNI in benign.pcap: $(field_list "$HERE/benign.pcap" tls.handshake.extensions_server_name);
HTTP Host: $(field_list "$HERE/benign.pcap" http.host).

Note: \`ApI.ShOdAn.Io\` is sent in mixed case (tshark prints it as sent); \`shodan.io.\`
(absolute) is on the wire the same as \`shodan.io\`. \`nonexistent.invalid\` is answered
NXDOMAIN; all other names resolve to 10.77.0.1 / fd77::1.

## Not made

* IPv6 routing header type 0 (deprecated) or other types: Linux sockets accept only
  type 2 (Mobile IPv6) and type 4 (SRH); ipv6.pcap uses type 4, with Segments Left 0, so
  the server namespace (with \`seg6_enabled=1\`) delivers the query to dnsmasq.
* Real \`ipip\`/\`ip6tnl\`/\`vlan\` devices: not available on the capture kernel, see above.

## Tool versions

\`\`\`
$(tcpdump --version 2>&1 | head -2)
$(tshark --version 2>/dev/null | head -1)
$(dumpcap --version 2>/dev/null | head -1)
$(dig -v 2>&1 | head -1)
$(nmap --version 2>&1 | head -1)
$(dnsmasq --version 2>&1 | head -1)
$(curl --version 2>&1 | head -1)
$(openssl version 2>&1)
$(python3 --version 2>&1)
$(ip -V 2>&1)
kernel $(uname -r)
\`\`\`
MD
} >"$HERE/README.md"
