#!/usr/bin/env bash
# pcaps/make-dnsupdate.sh - build a small, REAL capture of DNS UPDATE (RFC 2136, opcode 5) and NOTIFY (RFC 1996,
# opcode 4), for picket's DNS analyzer (issue 18): nsupdate against a real BIND named, which then notifies the
# secondary named of in also-notify.
#
#   sudo bash pcaps/make-dnsupdate.sh             (root is required; runnable from any cwd; a few seconds)
#   PKU_DEST=/tmp/x bash pcaps/make-dnsupdate.sh   (write the capture there instead)
#   PKU_KEEP_TMP=1 ...                              (keep the temp dir: named's config, zone and log)
#
# apt: bind9 bind9-dnsutils tcpdump tshark iproute2 coreutils
#
# Two network namespaces made here, joined by one veth pair; IPv4 only, no default route, nothing can leave them:
#   pku-p-PID  primary  veth0 02:96:00:00:00:01  10.96.0.1/24  named -g, primary for lab.test, allow-update from
#              10.96.0.2, notify explicit with also-notify { 10.96.0.2; }
#   pku-c-PID  client   veth0 02:96:00:00:00:02  10.96.0.2/24  nsupdate (two UPDATEs, each with a prerequisite:
#              an add over UDP, a delete over TCP) and dig; nothing listens on 53 here, so the NOTIFYs get ICMP port
#              unreachable and named retries them (each retry is a real NOTIFY)
#
# Output: $PKU_DEST/update-notify.pcap and responses-only.pcap (the same without the packets carrying a query,
# made with tshark -Y ... -w), default pcaps/dnsupdate/, overwritten.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKU_DEST:-$HERE/dnsupdate}
NC="pku-c-$$"
NP="pku-p-$$"
PRIMARY=10.96.0.1
CLIENT=10.96.0.2
pk_init make-dnsupdate.sh PKU_KEEP_TMP "$NC" "$NP"

pk_preflight ip tcpdump tshark named named-checkconf nsupdate dig timeout ss
pk_make_tmp pku named

say "namespaces $NP (primary $PRIMARY) / $NC (client $CLIENT)"
pk_netns_up --ipv4 "$NC" "$NP"
pk_veth veth0 "$NC" 02:96:00:00:00:02 "$NP" 02:96:00:00:00:01
ip netns exec "$NC" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip netns exec "$NP" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip -n "$NP" addr add "$PRIMARY/24" dev veth0
ip -n "$NC" addr add "$CLIENT/24" dev veth0
ip -n "$NC" link set veth0 up
ip -n "$NP" link set veth0 up
pk_check_netns --no-ipv6 '^(127\.0\.0\.1/8|10\.96\.0\.[12]/24)$' "$NC" "$NP"

D="$TMP/named"
cat >"$D/lab.test.zone" <<ZONE
\$TTL 300
@   IN SOA ns1.lab.test. hostmaster.lab.test. 1 3600 600 86400 300
    IN NS  ns1.lab.test.
ns1 IN A   $PRIMARY
www IN A   10.96.0.10
ZONE
cat >"$D/named.conf" <<CONF
// named for make-dnsupdate.sh: primary for lab.test, dynamic updates from the client, NOTIFY to it.
options {
    directory "$D";
    pid-file "$D/named.pid";
    session-keyfile "$D/session.key";
    managed-keys-directory "$D";
    listen-on port 53 { $PRIMARY; };
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    allow-transfer { none; };
    notify explicit;
    also-notify { $CLIENT; };
    notify-delay 0;
    dnssec-validation no;
    empty-zones-enable no;
};
controls { };
zone "lab.test" { type primary; file "$D/lab.test.zone"; allow-update { $CLIENT; }; };
CONF
named-checkconf "$D/named.conf" || die "named.conf does not parse"
# named -g as root keeps root (-u is not given): it writes its journal into the temp dir.
pk_spawn "$NP" 60 "$TMP/named.log" named -g -n 1 -c "$D/named.conf"
pk_wait_until 100 pk_listens "$NP" u 53 || { cat "$TMP/named.log" >&2; die "named did not start"; }
pk_wait_until 50 grep -q 'all zones loaded' "$TMP/named.log" || { cat "$TMP/named.log" >&2; die "named did not load lab.test"; }
sleep 1   # the NOTIFY named sends when it loads the zone falls before the capture

OUTF="$OUT/update-notify.pcap"
say "capture update-notify.pcap"
pk_tcap "$NP" 60 veth0 4096 "$OUTF" port 53 or icmp
cat >"$TMP/add.txt" <<UPD
server $PRIMARY
zone lab.test
prereq nxdomain new.lab.test
update add new.lab.test 300 A 10.96.0.20
update add new.lab.test 300 TXT "added by nsupdate"
send
UPD
cat >"$TMP/del.txt" <<UPD
server $PRIMARY
zone lab.test
prereq yxrrset www.lab.test A
update delete www.lab.test A
send
UPD
# The add over UDP (nsupdate's default), the delete over TCP (-v): both transports.
echo "== nsupdate add" >>"$LOG"; pk_run "$NC" 10 nsupdate "$TMP/add.txt" || die "nsupdate (add) failed"
sleep 0.5
echo "== nsupdate delete" >>"$LOG"; pk_run "$NC" 10 nsupdate -v "$TMP/del.txt" || die "nsupdate (delete) failed"
# Ordinary questions after them (named answers lab.test and refuses the rest: recursion is off), for the
# responses-only capture below.
for q in "new.lab.test A" "new.lab.test TXT" "www.lab.test A" "api.shodan.io A" "+tcp ns1.lab.test A"; do
    echo "== dig $q" >>"$LOG"
    # shellcheck disable=SC2086  # $q is the name, type and options, split on purpose
    pk_run "$NC" 10 dig +tries=1 +time=2 @"$PRIMARY" $q || die "dig $q failed"
done
sleep 1.5   # named's NOTIFYs for the two new serials (notify-delay 0) and their retries
pk_cap_stop "$OUTF"
say "  $PK_CAP_GOT packets"

# ---------------------------------------------------------------- verification (tshark is the reference)
f() { tshark -n -r "${OUTF}" -Y "$1" -T fields -E occurrence=f -e "$2" 2>/dev/null | sort | uniq -c | awk '{print $2 ":" $1}' | paste -sd' '; }
got=$(f 'dns.flags.opcode == 5 && dns.flags.response == 0' dns.qry.name)
[ "$got" = "lab.test:2" ] || die "UPDATE requests: $got"
got=$(f 'dns.flags.opcode == 5 && dns.flags.response == 1' dns.flags.rcode)
[ "$got" = "0:2" ] || die "UPDATE responses (rcodes): $got"
got=$(f 'dns.flags.opcode == 4 && dns.flags.response == 0' dns.qry.name)
[[ "$got" =~ ^lab\.test:[0-9]+$ ]] || die "NOTIFY requests: $got"
got=$(f 'dns.flags.opcode == 0 && dns.flags.response == 0' dns.qry.name)
[ "$got" = "api.shodan.io:1 new.lab.test:2 ns1.lab.test:1 www.lab.test:1" ] || die "queries: $got"

# responses-only.pcap: the same capture without the packets that carry a query (what a sensor sees when it
# misses one direction or starts mid-exchange): every response must still name its question.
tshark -n -r "$OUTF" -Y '!(dns.flags.response == 0)' -w "$OUT/responses-only.pcap" 2>/dev/null
got=$(tshark -n -r "$OUT/responses-only.pcap" -Y 'dns.flags.response == 0' 2>/dev/null | wc -l)
[ "$got" = 0 ] || die "responses-only.pcap still has $got queries"
got=$(f 'dns.flags.opcode == 0 && dns.flags.response == 1 && !icmp' dns.qry.name)
[ "$(OUTF="$OUT/responses-only.pcap" f 'dns.flags.opcode == 0 && dns.flags.response == 1 && !icmp' dns.qry.name)" = "$got" ] \
    || die "responses-only.pcap: not the same responses"

chmod 0644 "$OUTF" "$OUT/responses-only.pcap"
pk_install "$DEST" update-notify.pcap responses-only.pcap
