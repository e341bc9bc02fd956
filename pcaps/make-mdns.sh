#!/usr/bin/env bash
# pcaps/make-mdns.sh - build a small, REAL capture of multicast DNS (RFC 6762, UDP 5353) and LLMNR (RFC 4795, UDP
# and TCP 5355) questions and answers, for picket's DNS analyzer (issue 18) and test/intel-dns.test.ts.
#
#   sudo bash pcaps/make-mdns.sh             (root is required; runnable from any cwd; a few seconds)
#   PKD_DEST=/tmp/x bash pcaps/make-mdns.sh   (write the capture there instead)
#   PKD_KEEP_TMP=1 ...                         (keep the temp dir: the querier's and responder's output)
#
# apt: python3 tcpdump tshark iproute2 coreutils
#
# Two network namespaces made here, joined by one veth pair; no default route, so nothing can leave them (the
# multicast groups are link-local: 224.0.0.251 and 224.0.0.252 are never forwarded, ff02:: is link scope):
#   pkd-r-PID  responder  veth0 02:95:00:00:00:01  10.95.0.1/24 fd95::1/64   pcaps/mdns-llmnr.py respond
#   pkd-q-PID  querier    veth0 02:95:00:00:00:02  10.95.0.2/24 fd95::2/64   pcaps/mdns-llmnr.py query
# The responder owns picket-host.local (A, AAAA), the DNS-SD service "picket web._http._tcp.local" and the LLMNR
# name "fileserver"; it answers those and stays silent for the rest (api.shodan.io over mDNS, search.censys.io and
# printer over LLMNR), as the RFCs say. The query list is QUERIES in mdns-llmnr.py.
#
# tshark decodes LLMNR on UDP 5355 only; over TCP it is DNS to it (-d tcp.port==5355,dns), as the format is the same.
#
# Output: $PKD_DEST/mdns-llmnr.pcap (default pcaps/mdns/), overwritten.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKD_DEST:-$HERE/mdns}
NQ="pkd-q-$$"
NR="pkd-r-$$"
pk_init make-mdns.sh PKD_KEEP_TMP "$NQ" "$NR"

pk_preflight ip tcpdump tshark python3 timeout
pk_make_tmp pkd

say "namespaces $NR (responder 10.95.0.1) / $NQ (querier 10.95.0.2)"
pk_netns_up "$NQ" "$NR"
pk_veth veth0 "$NQ" 02:95:00:00:00:02 "$NR" 02:95:00:00:00:01
ip -n "$NR" addr add 10.95.0.1/24 dev veth0
ip -n "$NR" addr add fd95::1/64 dev veth0 nodad
ip -n "$NQ" addr add 10.95.0.2/24 dev veth0
ip -n "$NQ" addr add fd95::2/64 dev veth0 nodad
ip -n "$NQ" link set veth0 up
ip -n "$NR" link set veth0 up
# The link-local multicast groups go out of veth0 (there is no default route to take them otherwise).
ip -n "$NQ" route add 224.0.0.0/24 dev veth0
ip -n "$NR" route add 224.0.0.0/24 dev veth0
pk_check_netns '^(127\.0\.0\.1/8|::1/128|10\.95\.0\.[12]/24|fd95::[12]/64)$' "$NQ" "$NR"

pk_spawn "$NR" 60 "$TMP/responder.log" python3 "$HERE/mdns-llmnr.py" respond --v4 10.95.0.1 --v6 fd95::1 \
    --ready "$TMP/responder.ready" --seconds 50
pk_wait_until 100 test -s "$TMP/responder.ready" || { cat "$TMP/responder.log" >&2; die "responder did not start"; }

OUTF="$OUT/mdns-llmnr.pcap"
say "capture mdns-llmnr.pcap"
# Only the protocols' ports: no ND or MLD chatter (the joins) in the capture.
pk_tcap "$NR" 60 veth0 4096 "$OUTF" port 5353 or port 5355
pk_run "$NQ" 30 python3 "$HERE/mdns-llmnr.py" query --v4 10.95.0.2 --v6 fd95::2 --peer4 10.95.0.1 \
    || { cat "$LOG" >&2; die "the queries failed"; }
pk_cap_stop "$OUTF"
say "  $PK_CAP_GOT packets"
cat "$LOG" >&2

# ---------------------------------------------------------------- verification (tshark is the reference)
q() { tshark -n -r "$OUTF" -d tcp.port==5355,dns -Y "$1" -T fields -E occurrence=f -e "$2" 2>/dev/null | sort | uniq -c | awk '{print $2 ":" $1}' | paste -sd' '; }
got=$(q 'mdns && dns.flags.response == 0' dns.qry.name)
[ "$got" = "_http._tcp.local:1 api.shodan.io:1 picket-host.local:3" ] || die "mDNS questions: $got"
got=$(q '(llmnr || tcp.port == 5355) && dns.flags.response == 0' dns.qry.name)
[ "$got" = "fileserver:3 printer:1 search.censys.io:1" ] || die "LLMNR questions: $got"
got=$(q 'mdns && dns.flags.response == 1' dns.resp.name)
[ "$got" = "_http._tcp.local:1 picket-host.local:3" ] || die "mDNS answers (first record): $got"
got=$(q '(llmnr || tcp.port == 5355) && dns.flags.response == 1' dns.qry.name)
[ "$got" = "fileserver:3" ] || die "LLMNR answers: $got"
[ -n "$(tshark -n -r "$OUTF" -Y 'mdns && dns.qry.qu == 1' 2>/dev/null)" ] || die "no mDNS question with the QU bit"

chmod 0644 "$OUTF"
pk_install "$DEST" mdns-llmnr.pcap
