#!/usr/bin/env bash
# pcaps/make-recon.sh - build small, REAL captures of service probes (nmap -sV / NSE, masscan banners, scanner
# User-Agents, NSE SMB) and DNS reconnaissance (zone transfers, PTR sweeps, subdomain brute force), plus the
# benign traffic each must be told apart from.  Used by picket's probe.* and dns.* detectors (issue 5).
#
#   sudo bash pcaps/make-recon.sh             (root is required; runnable from any cwd; about 1.5 minutes)
#   PKR_DEST=/tmp/x bash pcaps/make-recon.sh   (write the captures + truth.json there instead; no README then)
#   PKR_KEEP_TMP=1 ...                          (keep the temp dir: tool output, server logs, nmap XML)
#
# apt: nmap bind9 bind9-dnsutils samba smbclient tcpdump tshark iproute2 ethtool curl wget python3 coreutils
#   optional: masscan (masscan-banners.pcap), sqlmap (the real sqlmap requests in scanner-ua.pcap); when one is
#   missing or cannot run, that part is skipped and README.md / truth.json say why.
#
# Three network namespaces made here; no default route anywhere, so nothing can leave them:
#   pkr-tg-PID  servers  veth0 02:90:00:00:00:01  10.90.0.1/24, 198.18.0.1/24 (the scanner side's "router")
#                        veth1 02:91:00:00:00:01  10.90.1.1/24 (the LAN of the benign DNS clients)
#   pkr-sc-PID  scanner  veth0 02:90:00:00:00:66  198.18.0.66/24, route 10.90.0.0/24 via 198.18.0.1
#                        (masscan sends from 198.18.0.67, an address no kernel holds; it answers ARP for it)
#   pkr-cl-PID  clients  veth1 02:91:00:00:00:10  10.90.1.10, .11, .12 (workstations), .25 (mail relay) /24,
#                        route 10.90.0.0/24 via 10.90.1.1
# Services, all on 10.90.0.1 in pkr-tg (checked with ss before any capture):
#   TCP 80   python3 -m http.server (real 404s)
#   TCP 8080 python http.server with a "soft 404" handler (200 + a not-found page, as many web apps do), so that
#            NSE's 404 detection sends all three of its check paths
#   TCP 3389 a stub that answers an RDP X.224 Connection Request with a Connection Confirm (so nmap -sV sends
#            its TerminalServerCookie probe, recognises the answer and stops)
#   TCP 139, 445  Samba smbd (own smb.conf in the temp dir; SMB1 enabled so NSE gets Native OS strings)
#   TCP/UDP 53    BIND named, authoritative for the test zones, allow-transfer { none; }
# Captures: tcpdump in pkr-tg on veth0 (scanner side) or veth1 (resolver-benign.pcap), Ethernet, IPv4 only.
#
# Output (in $PKR_DEST, default pcaps/recon/; overwritten): the .pcap files listed in FILES below, truth.json
# (tool, version, commands, addresses, expected alerts and the facts tshark decodes), README.md (default
# destination only).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKR_DEST:-$HERE/recon}
NSC="pkr-sc-$$"         # scanner namespace
NST="pkr-tg-$$"         # server ("target") namespace
NCL="pkr-cl-$$"         # benign DNS clients
pk_init make-recon.sh PKR_KEEP_TMP "$NSC" "$NST" "$NCL"

SCANNER=198.18.0.66
MASSCAN_SRC=198.18.0.67
ROUTER=198.18.0.1
SERVER=10.90.0.1
LAN_GW=10.90.1.1
CLIENTS=(10.90.1.10 10.90.1.11 10.90.1.12 10.90.1.25)
TGT_MAC=02:90:00:00:00:01
SC_MAC=02:90:00:00:00:66
TGT_MAC1=02:91:00:00:00:01
CL_MAC=02:91:00:00:00:10
FILES=(nmap-sv.pcap nmap-nse-http.pcap nmap-smb.pcap smbclient-benign.pcap dig-axfr.pcap nmap-axfr.pcap
       ptr-sweep.pcap ptr-sweep-dig.pcap dns-brute.pcap scanner-ua.pcap http-benign.pcap resolver-benign.pcap
       masscan-banners.pcap)

# ---------------------------------------------------------------- preflight
pk_preflight ip ethtool tcpdump tshark capinfos nmap named named-checkconf named-checkzone smbd smbclient dig curl wget \
    getent python3 ss timeout sysctl
pk_make_tmp pkr www/css www/js www/img xml dns dl
chmod 755 "$TMP"        # smbd's guest account (nobody) must reach the share below it
: >"$TMP/cmds.tsv"      # file <TAB> tool <TAB> command, for truth.json
: >"$TMP/skipped.tsv"   # file-or-part <TAB> reason

# ---------------------------------------------------------------- namespaces
say "namespaces $NSC (scanner $SCANNER) / $NST (servers $SERVER) / $NCL (clients ${CLIENTS[*]})"
pk_netns_up --ipv4 "$NSC" "$NST" "$NCL"    # IPv4 only: no IPv6 link-local, ND or MLD chatter in the captures
pk_veth veth0 "$NSC" "$SC_MAC" "$NST" "$TGT_MAC"
pk_veth veth1 "$NCL" "$CL_MAC" "$NST" "$TGT_MAC1"
ip netns exec "$NSC" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1
ip netns exec "$NST" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1 net.ipv6.conf.veth1.disable_ipv6=1
ip netns exec "$NCL" sysctl -qw net.ipv6.conf.veth1.disable_ipv6=1
ip -n "$NST" addr add "$SERVER/24" dev veth0
ip -n "$NST" addr add "$ROUTER/24" dev veth0
ip -n "$NST" addr add "$LAN_GW/24" dev veth1
ip -n "$NSC" addr add "$SCANNER/24" dev veth0
for a in "${CLIENTS[@]}"; do ip -n "$NCL" addr add "$a/24" dev veth1; done
# No segmentation offloads: frames are wire-sized (an SMB read or an HTTP answer is not one 64 KB super-frame).
for pair in "$NSC:veth0" "$NST:veth0" "$NST:veth1" "$NCL:veth1"; do
    ns=${pair%%:*} dev=${pair#*:}
    pk_no_offloads "$ns" "$dev"
    ip -n "$ns" link set "$dev" up
done
ip -n "$NSC" route add 10.90.0.0/24 via "$ROUTER" dev veth0
ip -n "$NCL" route add 10.90.0.0/24 via "$LAN_GW" dev veth1

# Safety: no default route, only our links, addresses and routes, no forwarding between the two sides.
pk_check_netns --no-ipv6 '^(127\.0\.0\.1/8|10\.90\.0\.1/24|10\.90\.1\.(1|10|11|12|25)/24|198\.18\.0\.(1|66)/24)$' \
    "$NSC" "$NST" "$NCL"
[ "$(ip netns exec "$NST" sysctl -n net.ipv4.ip_forward)" = 0 ] || die "IPv4 forwarding is on in $NST"
[ "$(pk_links "$NSC")" = "lo veth0 " ] && [ "$(pk_links "$NST")" = "lo veth0 veth1 " ] && [ "$(pk_links "$NCL")" = "lo veth1 " ] \
    || die "unexpected links: $NSC: $(pk_links "$NSC"); $NST: $(pk_links "$NST"); $NCL: $(pk_links "$NCL")"
[ "$(pk_routes "$NSC")" = "10.90.0.0/24 via $ROUTER dev veth0;198.18.0.0/24 dev veth0 proto kernel scope link src $SCANNER;" ] \
    || die "unexpected scanner routes: $(pk_routes "$NSC")"
[ "$(pk_routes "$NCL")" = "10.90.0.0/24 via $LAN_GW dev veth1;10.90.1.0/24 dev veth1 proto kernel scope link src ${CLIENTS[0]};" ] \
    || die "unexpected client routes: $(pk_routes "$NCL")"

# Every resolver lookup in the scanner and client namespaces goes to our named (glibc, nmap's own resolver):
# ip netns exec bind-mounts /etc/netns/<ns>/resolv.conf over /etc/resolv.conf.
for ns in "$NSC" "$NCL"; do pk_netns_etc "$ns" "$SERVER" '127.0.0.1 localhost'; done

# ---------------------------------------------------------------- content: web root, zones, smb.conf
cat >"$TMP/www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>Example Corp intranet</title><link rel="stylesheet" href="/css/site.css">
<script src="/js/app.js"></script></head>
<body><img src="/img/logo.png" alt="logo"><h1>Example Corp</h1><p><a href="/about.html">About</a></p></body></html>
EOF
cat >"$TMP/www/about.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>About</title><link rel="stylesheet" href="/css/site.css"></head>
<body><img src="/img/logo.png" alt="logo"><p>picket recon test server</p></body></html>
EOF
printf 'body { font-family: sans-serif; }\n' >"$TMP/www/css/site.css"
printf 'document.addEventListener("DOMContentLoaded", function () {});\n' >"$TMP/www/js/app.js"
printf '\x89PNG\r\n\x1a\n' >"$TMP/www/img/logo.png"
printf 'User-agent: *\nDisallow: /private/\n' >"$TMP/www/robots.txt"

D="$TMP/dns"
SOA='@ IN SOA ns1.corp.test. hostmaster.corp.test. 2024010101 3600 600 86400 300'
zone() {  # name file: header + records from stdin
    { printf '$TTL 300\n%s\n  IN NS ns1.corp.test.\n' "$SOA"; cat; } >"$D/$2"
}
# The root zone is served too, so that named (recursion on, as a LAN resolver) answers every name from its own
# data: nothing is ever looked up elsewhere (and there is no route to anywhere else).
cat >"$D/root.zone" <<'EOF'
$TTL 86400
@ IN SOA ns1.corp.test. hostmaster.corp.test. 2024010101 3600 600 86400 300
  IN NS ns1.corp.test.
ns1.corp.test. IN A 10.90.0.1
EOF
zone corp.test corp.test.zone <<'EOF'
  IN MX 10 mail.corp.test.
  IN TXT "v=spf1 mx -all"
_dmarc IN TXT "v=DMARC1; p=reject"
ns1 IN A 10.90.0.1
www IN A 10.90.0.5
www IN AAAA fd90::5
mail IN A 10.90.0.25
vpn IN A 10.90.0.30
intranet IN A 10.90.0.5
wiki IN A 10.90.0.6
git IN A 10.90.0.7
jira IN A 10.90.0.8
files IN A 10.90.0.9
printer IN A 10.90.0.40
sso IN A 10.90.0.11
EOF
zone example-shop.test example-shop.test.zone <<'EOF'
  IN MX 10 mx1.mailhost.test.
  IN MX 20 mx2.mailhost.test.
  IN TXT "v=spf1 include:mailhost.test -all"
  IN A 203.0.113.80
www IN A 203.0.113.80
www IN AAAA 2001:db8::80
shop IN A 203.0.113.81
api IN A 203.0.113.82
checkout IN A 203.0.113.83
static IN CNAME edge07.cdn.test.
img IN CNAME edge08.cdn.test.
EOF
{ for i in $(seq -w 1 40); do printf 'edge%s IN A 198.51.100.%d\n' "$i" "$((10#$i + 100))"; done
  printf 'fonts IN A 198.51.100.200\nvideo IN A 198.51.100.201\n'; } | zone cdn.test cdn.test.zone
zone news.test news.test.zone <<'EOF'
www IN A 192.0.2.10
www IN AAAA 2001:db8::10
m IN A 192.0.2.11
api IN A 192.0.2.12
video IN CNAME video.cdn.test.
ads IN A 192.0.2.13
comments IN A 192.0.2.14
EOF
zone mailhost.test mailhost.test.zone <<'EOF'
  IN MX 10 mx1.mailhost.test.
  IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
mx1 IN A 192.0.2.25
mx2 IN A 192.0.2.26
smtp IN A 192.0.2.27
imap IN A 192.0.2.28
EOF
# example.org (RFC 2606): a zone whose name nmap's dns-zone-transfer accepts as is (it cuts a domain down to
# the label before a TLD from its own list, and "test" is not on that list: corp.test becomes "test").
zone example.org example.org.zone <<'EOF'
www IN A 10.90.0.5
mail IN A 10.90.0.25
EOF
zone partner.test partner.test.zone <<'EOF'
  IN MX 10 mail.partner.test.
  IN TXT "v=spf1 mx -all"
mail IN A 203.0.113.25
www IN A 203.0.113.26
EOF
# Reverse zone of the scanned block: PTRs for a few addresses, the rest NXDOMAIN.
zone 0.90.10.in-addr.arpa rev-10.90.0.zone <<'EOF'
1 IN PTR ns1.corp.test.
5 IN PTR www.corp.test.
25 IN PTR mail.corp.test.
30 IN PTR vpn.corp.test.
EOF
# Reverse names of the mail relay's SMTP clients (many /24s, documentation / shared / private ranges only:
# these are names in queries, no packet goes to them).  Generated below from MAIL_PEERS.
MAIL_PEERS=(192.0.2.25 192.0.2.26 198.51.100.7 198.51.100.143 203.0.113.25 203.0.113.99 100.64.3.17 100.64.9.201
            100.65.20.4 100.66.7.33 100.67.110.9 100.68.45.250 100.70.1.2 100.71.88.14 100.72.200.7 100.73.5.61
            100.74.18.90 100.75.33.3 100.76.240.11 100.77.9.9 100.78.64.128 100.80.2.77 100.81.150.5 100.82.77.42
            100.83.12.200 100.84.99.1 172.20.5.9 172.21.40.12 172.22.81.3 172.23.200.66)
MAIL_NOPTR=(100.70.1.2 100.79.4.4 172.22.81.3)   # connecting clients without a PTR record (NXDOMAIN)
{ for a in "${MAIL_PEERS[@]}"; do
      case " ${MAIL_NOPTR[*]} " in *" $a "*) continue ;; esac
      IFS=. read -r o1 o2 o3 o4 <<<"$a"
      printf '%s.%s.%s.%s.in-addr.arpa. IN PTR mta%s-%s.senders.test.\n' "$o4" "$o3" "$o2" "$o1" "$o3" "$o4"
  done; } | zone in-addr.arpa rev-peers.zone
MAIL_PEERS+=(100.79.4.4)
{ for a in "${MAIL_PEERS[@]}"; do
      case " ${MAIL_NOPTR[*]} " in *" $a "*) continue ;; esac
      IFS=. read -r o1 o2 o3 o4 <<<"$a"
      printf 'mta%s-%s IN A %s\n' "$o3" "$o4" "$a"
  done; } | zone senders.test senders.test.zone
ZONES=(. corp.test example-shop.test cdn.test news.test mailhost.test partner.test senders.test example.org
       0.90.10.in-addr.arpa in-addr.arpa)
zfile() { case $1 in .) echo root.zone ;; 0.90.10.in-addr.arpa) echo rev-10.90.0.zone ;;
                     in-addr.arpa) echo rev-peers.zone ;; *) echo "$1.zone" ;; esac; }
{
cat <<EOF
// named for make-recon.sh: authoritative for the test zones (the root zone included, so every name is
// answered locally), recursion on for the LAN (a resolver's flags), no transfers, no NOTIFY, no control channel.
options {
    directory "$D";
    pid-file "$D/named.pid";
    session-keyfile "$D/session.key";
    managed-keys-directory "$D";
    dump-file "$D/cache.dump";
    statistics-file "$D/named.stats";
    listen-on port 53 { $SERVER; };
    listen-on-v6 { none; };
    recursion yes;
    allow-recursion { any; };
    allow-query { any; };
    allow-transfer { none; };
    notify no;
    dnssec-validation no;
    empty-zones-enable no;
    minimal-responses no;
};
controls { };
EOF
for z in "${ZONES[@]}"; do printf 'zone "%s" { type primary; file "%s/%s"; };\n' "$z" "$D" "$(zfile "$z")"; done
} >"$D/named.conf"
named-checkconf "$D/named.conf" || die "named.conf does not parse"
for z in "${ZONES[@]}"; do
    named-checkzone -q "$z" "$D/$(zfile "$z")" || { named-checkzone "$z" "$D/$(zfile "$z")" >&2; die "zone $z does not load"; }
done

S="$TMP/smb"
mkdir -p "$S"/{private,lock,state,cache,pid,ncalrpc,binddns,usershares,share} "$S"/client/{lock,state,cache,private,pid,ncalrpc}
chmod 755 "$S" "$S/share"
printf 'quarterly report draft\n' >"$S/share/report.txt"
chmod 644 "$S/share/report.txt"
cat >"$S/smb.conf" <<EOF
[global]
    workgroup = PICKETLAB
    netbios name = FILESRV
    server string = picket test file server
    server role = standalone server
    interfaces = $SERVER/24
    bind interfaces only = yes
    smb ports = 445 139
    disable netbios = no
    server min protocol = NT1
    map to guest = Bad User
    passdb backend = tdbsam:$S/private/passdb.tdb
    private dir = $S/private
    lock directory = $S/lock
    state directory = $S/state
    cache directory = $S/cache
    pid directory = $S/pid
    ncalrpc dir = $S/ncalrpc
    binddns dir = $S/binddns
    usershare path = $S/usershares
    log file = $S/log.smbd
    max log size = 0
    load printers = no
    printing = bsd
    printcap name = /dev/null
    disable spoolss = yes
[share]
    path = $S/share
    guest ok = yes
    read only = yes
EOF
# smbclient's own configuration: a named workstation in the same workgroup, no NetBIOS broadcasts.
cat >"$S/client.conf" <<EOF
[global]
    workgroup = PICKETLAB
    netbios name = WS-ALICE
    name resolve order = host
    lock directory = $S/client/lock
    state directory = $S/client/state
    cache directory = $S/client/cache
    private dir = $S/client/private
    pid directory = $S/client/pid
    ncalrpc dir = $S/client/ncalrpc
    log file = $S/client/log.%m
EOF

# ---------------------------------------------------------------- services (server namespace)
say "starting services on $SERVER: http 80 (http.server), 8080 (soft 404), rdp stub 3389, smbd 139/445, named 53"
cat >"$TMP/svc.py" <<'PY'
"""TCP 8080: http.server whose 404s are soft (200 + a fixed not-found page).  TCP 3389: answers an X.224
Connection Request (TPKT version 3) with the Connection Confirm + RDP_NEG_RSP a Windows 10 host sends, then
closes; anything else is closed unanswered.  Exits after argv[3] seconds."""
import functools, http.server, selectors, socket, sys, threading, time

addr, root, life = sys.argv[1], sys.argv[2], float(sys.argv[3])
end = time.time() + life

class SoftNotFound(http.server.SimpleHTTPRequestHandler):
    PAGE = b"<html><body><h1>Sorry, we could not find that page</h1></body></html>\n"

    def send_error(self, code, message=None, explain=None):
        if code != 404:
            return super().send_error(code, message, explain)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(self.PAGE)

    def log_message(self, fmt, *args):
        sys.stderr.write("8080 %s %s\n" % (self.address_string(), fmt % args))

web = http.server.ThreadingHTTPServer((addr, 8080), functools.partial(SoftNotFound, directory=root))
threading.Thread(target=web.serve_forever, daemon=True).start()

# TPKT(3, len 19) + X.224 CC (0xd0) + RDP_NEG_RSP(type 2, flags 0x1f, len 8, PROTOCOL_HYBRID)
CONFIRM = bytes([3, 0, 0, 19, 14, 0xd0, 0, 0, 0x12, 0x34, 0, 2, 0x1f, 8, 0, 2, 0, 0, 0])
lsn = socket.socket()
lsn.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
lsn.bind((addr, 3389)); lsn.listen(16); lsn.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(lsn, selectors.EVENT_READ)
while time.time() < end:
    for key, _ in sel.select(timeout=0.5):
        if key.fileobj is lsn:
            c, _ = lsn.accept()
            c.setblocking(False)
            sel.register(c, selectors.EVENT_READ)
            continue
        c = key.fileobj
        try:
            data = c.recv(4096)
            if data[:2] == b"\x03\x00":
                c.sendall(CONFIRM)
            sys.stderr.write("3389 got %r\n" % data[:48])
        except OSError:
            pass
        sel.unregister(c)
        c.close()
PY
pk_spawn "$NST" 400 "$TMP/http80.log" python3 -m http.server 80 --bind "$SERVER" --directory "$TMP/www"
pk_spawn "$NST" 400 "$TMP/svc.log" python3 "$TMP/svc.py" "$SERVER" "$TMP/www" 390
pk_spawn "$NST" 400 "$TMP/named.log" named -g -n 1 -c "$D/named.conf"
pk_spawn "$NST" 400 "$TMP/smbd.out" smbd --foreground --no-process-group --configfile="$S/smb.conf"

WANT_TCP="$SERVER:139 $SERVER:3389 $SERVER:445 $SERVER:53 $SERVER:80 $SERVER:8080 "
WANT_UDP="$SERVER:53 "
if ! pk_wait_listeners "$NST" "$WANT_TCP" "$WANT_UDP" 150; then
    tail -5 "$TMP"/*.log "$TMP/smbd.out" >&2
    die "listeners are TCP '$(pk_listening "$NST" t)' UDP '$(pk_listening "$NST" u)', want TCP '$WANT_TCP' UDP '$WANT_UDP'"
fi
grep -q 'all zones loaded' "$TMP/named.log" || { cat "$TMP/named.log" >&2; die "named did not load its zones"; }
grep -q 'not loaded due to errors' "$TMP/named.log" && { cat "$TMP/named.log" >&2; die "named failed to load a zone"; }
# the paths work (before any capture): DNS from both sides, HTTP
timeout 5 ip netns exec "$NSC" dig +short +tries=1 +time=2 @"$SERVER" www.corp.test A | grep -qx 10.90.0.5 \
    || die "scanner cannot resolve www.corp.test at $SERVER"
timeout 5 ip netns exec "$NCL" dig +short +tries=1 +time=2 @"$SERVER" www.corp.test A | grep -qx 10.90.0.5 \
    || die "clients cannot resolve www.corp.test at $SERVER"
for p in 80 8080; do
    timeout 5 ip netns exec "$NSC" curl -fsS -o /dev/null --max-time 3 "http://$SERVER:$p/" || die "no HTTP on $SERVER:$p"
done

# ---------------------------------------------------------------- capture helpers
tcap() { pk_tcap "$NST" 150 "$2" 8192 "$1" "${@:3}"; }   # out-file iface [filter...]: tcpdump in the server namespace
cap_stop() { pk_cap_stop "$1"; say "  $PK_CAP_GOT packets -> $(basename "$1")"; }   # out-file
run() {  # [-ok "RC..."] [-n NS] file tool seconds cmd...: run in a namespace (scanner by default), bounded
    local ok=0 ns=$NSC f tool secs rc
    while :; do
        case $1 in
            -ok) ok=$2; shift 2 ;;
            -n) ns=$2; shift 2 ;;
            *) break ;;
        esac
    done
    f=$1 tool=$2 secs=$3; shift 3
    pk_note_cmd "$f" "$tool" "$(pk_shq "$@")"
    echo "== [$f] $(pk_shq "$@")" >>"$LOG"
    rc=0; pk_run "$ns" "$secs" "$@" || rc=$?
    case " $ok " in *" $rc "*) ;; *) tail -20 "$LOG" >&2; die "$f: '$*' exited $rc (want $ok)" ;; esac
}

# ---------------------------------------------------------------- 1. nmap-sv.pcap
say "capture nmap-sv.pcap (nmap -sS -sV of $SERVER ports 80, 8080, 3389)"
tcap "$OUT/nmap-sv.pcap" veth0
run nmap-sv.pcap nmap 90 nmap -n -Pn -sS -sV -p80,8080,3389 -oX "$TMP/xml/nmap-sv.xml" "$SERVER"
cap_stop "$OUT/nmap-sv.pcap"

# ---------------------------------------------------------------- 2. nmap-nse-http.pcap
# http-enum limited to its 'security' fingerprints (~35 paths per port); hnap-info and http-trane-info
# request /HNAP1 and /evox/about.
say "capture nmap-nse-http.pcap (NSE http-title, http-headers, http-enum (security), hnap-info, http-trane-info)"
tcap "$OUT/nmap-nse-http.pcap" veth0
run nmap-nse-http.pcap nmap 90 nmap -n -Pn -sS -p80,8080 \
    --script http-title,http-headers,http-enum,hnap-info,http-trane-info --script-args http-enum.category=security \
    -oX "$TMP/xml/nmap-nse-http.xml" "$SERVER"
cap_stop "$OUT/nmap-nse-http.pcap"

# ---------------------------------------------------------------- 3. nmap-smb.pcap
# The first run talks SMB over 445 (NSE prefers it when open); the second scans only 139, so the same script
# opens a NetBIOS session first (calling name NMAP).
say "capture nmap-smb.pcap (NSE smb-os-discovery, smb-protocols, smb2-security-mode; then smb-os-discovery over 139)"
tcap "$OUT/nmap-smb.pcap" veth0
run nmap-smb.pcap nmap 90 nmap -n -Pn -sS -p139,445 --script smb-os-discovery,smb-protocols,smb2-security-mode \
    -oX "$TMP/xml/nmap-smb-445.xml" "$SERVER"
run nmap-smb.pcap nmap 90 nmap -n -Pn -sS -p139 --script smb-os-discovery -oX "$TMP/xml/nmap-smb-139.xml" "$SERVER"
cap_stop "$OUT/nmap-smb.pcap"

# ---------------------------------------------------------------- 4. smbclient-benign.pcap
say "capture smbclient-benign.pcap (smbclient ls + get, -L over 445 and 139, one SMB1 session)"
SMBC=(smbclient --configfile="$S/client.conf" -N -U alice)
tcap "$OUT/smbclient-benign.pcap" veth0
run smbclient-benign.pcap smbclient 30 "${SMBC[@]}" "//$SERVER/share" -c "ls; get report.txt $TMP/dl/report.txt"
run smbclient-benign.pcap smbclient 30 "${SMBC[@]}" -L "//$SERVER"
run smbclient-benign.pcap smbclient 30 "${SMBC[@]}" -L "//$SERVER" -p 139
run smbclient-benign.pcap smbclient 30 "${SMBC[@]}" --option='client min protocol=NT1' -m NT1 "//$SERVER/share" -c ls
cap_stop "$OUT/smbclient-benign.pcap"
cmp -s "$TMP/dl/report.txt" "$S/share/report.txt" || die "smbclient did not fetch report.txt"

# ---------------------------------------------------------------- 5. dig-axfr.pcap / nmap-axfr.pcap
DIG=(dig +tries=1 +time=3 @"$SERVER")
say "capture dig-axfr.pcap (dig AXFR over TCP, IXFR over UDP; named refuses both)"
tcap "$OUT/dig-axfr.pcap" veth0
run -ok "0 9" dig-axfr.pcap dig 15 "${DIG[@]}" corp.test AXFR
run -ok "0 9" dig-axfr.pcap dig 15 "${DIG[@]}" 0.90.10.in-addr.arpa AXFR
run -ok "0 9" dig-axfr.pcap dig 15 "${DIG[@]}" corp.test IXFR=1 +notcp
cap_stop "$OUT/dig-axfr.pcap"
say "capture nmap-axfr.pcap (NSE dns-zone-transfer for example.org, then for corp.test, which it turns into \"test\")"
tcap "$OUT/nmap-axfr.pcap" veth0
run nmap-axfr.pcap nmap 60 nmap -n -Pn -sS -p53 --script dns-zone-transfer \
    --script-args dns-zone-transfer.domain=example.org -oX "$TMP/xml/nmap-axfr.xml" "$SERVER"
run nmap-axfr.pcap nmap 60 nmap -n -Pn -sS -p53 --script dns-zone-transfer \
    --script-args dns-zone-transfer.domain=corp.test -oX "$TMP/xml/nmap-axfr-test.xml" "$SERVER"
cap_stop "$OUT/nmap-axfr.pcap"

# ---------------------------------------------------------------- 6. ptr-sweep.pcap / ptr-sweep-dig.pcap
say "capture ptr-sweep.pcap (nmap -sL 10.90.0.0/24: reverse DNS of 256 addresses)"
tcap "$OUT/ptr-sweep.pcap" veth0
run ptr-sweep.pcap nmap 60 nmap -sL --dns-servers "$SERVER" -oX "$TMP/xml/ptr-sweep.xml" 10.90.0.0/24
cap_stop "$OUT/ptr-sweep.pcap"
say "capture ptr-sweep-dig.pcap (dig -x for 10.90.0.1-64 from one batch file, as dnsrecon -r does)"
for i in $(seq 1 64); do echo "-x 10.90.0.$i"; done >"$TMP/ptr-batch.txt"
tcap "$OUT/ptr-sweep-dig.pcap" veth0
run ptr-sweep-dig.pcap dig 60 "${DIG[@]}" +noall +answer -f "$TMP/ptr-batch.txt"
cap_stop "$OUT/ptr-sweep-dig.pcap"

# ---------------------------------------------------------------- 7. dns-brute.pcap
say "capture dns-brute.pcap (NSE dns-brute, built-in list, against corp.test)"
tcap "$OUT/dns-brute.pcap" veth0
run dns-brute.pcap nmap 90 nmap -n --dns-servers "$SERVER" --script dns-brute \
    --script-args dns-brute.domain=corp.test,dns-brute.threads=4 -oX "$TMP/xml/dns-brute.xml"
cap_stop "$OUT/dns-brute.pcap"

# ---------------------------------------------------------------- 8. scanner-ua.pcap
# curl sending the User-Agents of scanners Debian does not package (label: "curl as <tool>"), the real sqlmap
# (bounded: boolean-blind only, one parameter), and plain curl / wget with their own User-Agents (benign).
UA_ZGRAB='Mozilla/5.0 zgrab/0.x'
UA_NUCLEI='Nuclei - Open-source project (github.com/projectdiscovery/nuclei)'
UA_NIKTO='Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)'
UA_CENSYS='Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)'
CURL=(curl -sS -o /dev/null --max-time 5)
say "capture scanner-ua.pcap (curl with zgrab / Nuclei / Nikto / CensysInspect User-Agents, sqlmap, plain curl + wget)"
tcap "$OUT/scanner-ua.pcap" veth0
run scanner-ua.pcap "curl as zgrab" 10 "${CURL[@]}" -A "$UA_ZGRAB" "http://$SERVER/"
run scanner-ua.pcap "curl as zgrab" 10 "${CURL[@]}" -A "$UA_ZGRAB" "http://$SERVER:8080/"
run scanner-ua.pcap "curl as nuclei" 10 "${CURL[@]}" -A "$UA_NUCLEI" "http://$SERVER/.git/config"
run scanner-ua.pcap "curl as nuclei" 10 "${CURL[@]}" -A "$UA_NUCLEI" "http://$SERVER:8080/actuator/env"
run scanner-ua.pcap "curl as nikto" 10 "${CURL[@]}" -A "$UA_NIKTO" "http://$SERVER/"
run scanner-ua.pcap "curl as censys" 10 "${CURL[@]}" -A "$UA_CENSYS" "http://$SERVER/"
if command -v sqlmap >/dev/null; then
    # HOME and --output-dir in the temp dir: sqlmap keeps its session files there
    run scanner-ua.pcap sqlmap 60 env HOME="$TMP/sqlmap-home" sqlmap -u "http://$SERVER/index.html?id=1" --batch \
        --technique=B --level 1 --risk 1 --flush-session --output-dir="$TMP/sqlmap-out"
else
    pk_skip "scanner-ua.pcap:sqlmap" "sqlmap is not installed (Debian package sqlmap); its requests are missing"
fi
run scanner-ua.pcap curl 10 "${CURL[@]}" "http://$SERVER/"
run scanner-ua.pcap wget 10 wget -q -O /dev/null --tries=1 --timeout=5 "http://$SERVER:8080/about.html"
cap_stop "$OUT/scanner-ua.pcap"

# ---------------------------------------------------------------- 9. http-benign.pcap
# Browsing-like: a Firefox-like curl loading a page and its assets in one run (favicon 404 included),
# a conditional GET answered 304, wget -p fetching a page with its requisites (robots.txt first; without
# keep-alive: http.server answers HTTP/1.0 and closes, and wget sometimes raced a second request onto the
# closing connection), a HEAD.
UA_FF='Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Firefox/115.0'
say "capture http-benign.pcap (browser-like curl, wget -p, conditional GET, HEAD)"
tcap "$OUT/http-benign.pcap" veth0
run http-benign.pcap curl 15 curl -sS -o /dev/null -o /dev/null -o /dev/null -o /dev/null -o /dev/null \
    --max-time 8 -A "$UA_FF" -H 'Accept: text/html,application/xhtml+xml,*/*;q=0.8' -H 'Accept-Language: en-US,en;q=0.5' \
    "http://$SERVER/" "http://$SERVER/css/site.css" "http://$SERVER/js/app.js" "http://$SERVER/img/logo.png" \
    "http://$SERVER/favicon.ico"
run http-benign.pcap curl 10 curl -sS -o /dev/null --max-time 5 -A "$UA_FF" -z 'Tue, 01 Jan 2030 00:00:00 GMT' \
    "http://$SERVER/about.html"
run http-benign.pcap wget 15 wget -q -p -nd -P "$TMP/dl/wget" --no-http-keep-alive --tries=1 --timeout=5 "http://$SERVER/about.html"
run http-benign.pcap curl 10 curl -sS -I -o /dev/null --max-time 5 "http://$SERVER:8080/index.html"
run http-benign.pcap curl 10 curl -sS -o /dev/null --max-time 5 "http://$SERVER:8080/"
cap_stop "$OUT/http-benign.pcap"

# ---------------------------------------------------------------- 10. resolver-benign.pcap (LAN side, veth1)
# Four LAN hosts using named as their resolver: ordinary lookups of existing names across seven zones
# (A / AAAA / MX / TXT, many repeated), a mail relay's reverse lookups of its SMTP peers (~30 addresses in
# ~30 different /24s, each followed by the forward check of the name), and a few typos (NXDOMAIN).
say "capture resolver-benign.pcap (4 LAN clients, ordinary lookups; mail relay PTR/MX/TXT)"
B="$TMP/batch"
mkdir -p "$B"
{   # workstation .11: browsing (page loads pull a handful of CDN / ad hosts each)
    for round in 1 2 3 4; do
        for n in www.news.test m.news.test api.news.test ads.news.test comments.news.test video.news.test \
                 edge0$((round)).cdn.test edge1$((round)).cdn.test edge2$((round)).cdn.test fonts.cdn.test \
                 www.example-shop.test static.example-shop.test img.example-shop.test api.example-shop.test; do
            echo "$n A"; echo "$n AAAA"
        done
    done
    echo "checkout.example-shop.test A"; echo "shop.example-shop.test A"; echo "www.exmaple-shop.test A"
} >"$B/ws11.txt"
{   # workstation .12: developer, intranet services, polled repeatedly
    for round in 1 2 3 4 5 6 7 8; do
        for n in git.corp.test jira.corp.test wiki.corp.test sso.corp.test; do echo "$n A"; done
        echo "api.example-shop.test A"; echo "www.corp.test AAAA"
    done
    echo "jria.corp.test A"; echo "files.corp.test A"; echo "printer.corp.test A"; echo "intranet.corp.test A"
} >"$B/ws12.txt"
{   # mail relay .25: inbound SMTP peers (PTR, then the forward check), SPF of the sender domains,
    # outbound MX lookups of recipient domains and the A records of the exchangers
    for a in "${MAIL_PEERS[@]}"; do
        echo "-x $a"
        case " ${MAIL_NOPTR[*]} " in *" $a "*) ;; *)
            IFS=. read -r o1 o2 o3 o4 <<<"$a"; echo "mta$o3-$o4.senders.test A" ;; esac
    done
    for d in example-shop.test partner.test mailhost.test corp.test; do echo "$d TXT"; echo "$d TXT"; done
    echo "_dmarc.corp.test TXT"
    for round in 1 2 3; do
        for d in example-shop.test partner.test mailhost.test; do echo "$d MX"; done
        for h in mx1.mailhost.test mx2.mailhost.test mail.partner.test; do echo "$h A"; done
    done
    echo "mail.parnter.test A"
} >"$B/mx25.txt"
WS10_NAMES=(www.corp.test intranet.corp.test mail.corp.test wiki.corp.test www.news.test www.example-shop.test
            git.corp.test www.corp.test vpn.corp.test www.corp.test wwww.corp.test mail.corp.test sso.corp.test
            intranet.corp.test www.news.test m.news.test api.news.test www.corp.test jira.corp.test wiki.corp.test
            www.example-shop.test shop.example-shop.test mail.corp.test files.corp.test www.corp.test
            intranet.corp.test www.partner.test www.news.test vpn.corp.test mail.corp.test)
tcap "$OUT/resolver-benign.pcap" veth1
# workstation .10: glibc's resolver (getent; exit 2 = not found), the kernel picks .10 as the source
run -n "$NCL" resolver-benign.pcap getent 60 bash -c 'set -e; for n; do getent hosts "$n" || [ $? = 2 ]; done' \
    getent-loop "${WS10_NAMES[@]}"
run -n "$NCL" resolver-benign.pcap dig 60 "${DIG[@]}" -b 10.90.1.11 +noall +answer -f "$B/ws11.txt"
run -n "$NCL" resolver-benign.pcap dig 60 "${DIG[@]}" -b 10.90.1.12 +noall +answer -f "$B/ws12.txt"
run -n "$NCL" resolver-benign.pcap dig 60 "${DIG[@]}" -b 10.90.1.25 +noall +answer -f "$B/mx25.txt"
cap_stop "$OUT/resolver-benign.pcap"

# ---------------------------------------------------------------- 11. masscan-banners.pcap (last on veth0)
# masscan grabs banners with its own user-space TCP stack, from an address the scanner's kernel does not hold
# (198.18.0.67: otherwise the kernel would RST the SYN-ACKs).  Its receive thread (libpcap, TPACKET_V3) only
# wakes when a frame arrives, and its TCP timers (the HTTP request goes out after ~2 s without a server banner)
# run from that thread; so a background tick (UDP to 198.18.0.66:9 every 100 ms, swallowed by a listener
# there) keeps frames coming.  The tick is excluded by the capture filter.  This capture is last on veth0:
# the server's FIN retransmissions to 198.18.0.67 (masscan does not answer them properly) would otherwise
# leak into the next capture.
if ! command -v masscan >/dev/null; then
    pk_skip masscan-banners.pcap "masscan is not installed (Debian package masscan)"
else
    say "capture masscan-banners.pcap (masscan --banners of $SERVER ports 80, 8080)"
    cat >"$TMP/tick.py" <<'PY'
"""argv: mode (send|sink) addr seconds.  send: one UDP datagram to addr:9 every 100 ms; sink: bind addr:9 and
read (so the scanner's kernel sends no ICMP port unreachable)."""
import socket, sys, time
mode, addr, end = sys.argv[1], sys.argv[2], time.time() + float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
if mode == "sink":
    s.bind((addr, 9)); s.settimeout(0.5)
while time.time() < end:
    if mode == "send":
        s.sendto(b"tick", (addr, 9)); time.sleep(0.1)
    else:
        try:
            s.recv(64)
        except socket.timeout:
            pass
PY
    pk_spawn "$NSC" 40 "$TMP/tick-sink.log" python3 "$TMP/tick.py" sink "$SCANNER" 35
    SINK_PID=$!
    pk_spawn "$NST" 40 "$TMP/tick-send.log" python3 "$TMP/tick.py" send "$SCANNER" 35
    TICK_PID=$!
    tcap "$OUT/masscan-banners.pcap" veth0 not udp port 9
    MASSCAN=(masscan "$SERVER" -p80,8080 --banners --source-ip "$MASSCAN_SRC" --adapter veth0
             --router-mac "$TGT_MAC" --rate 100 --wait 5 -oL "$TMP/masscan.lst")
    echo "== [masscan-banners.pcap] ${MASSCAN[*]}" >>"$LOG"
    mrc=0
    pk_masscan "$NSC" 40 "${MASSCAN[@]}"
    wait "$PK_MASSCAN_PID" || mrc=$?
    if [ "$mrc" = 0 ] && grep -q '^banner tcp' "$TMP/masscan.lst" 2>/dev/null; then
        pk_note_cmd masscan-banners.pcap masscan "$(pk_shq "${MASSCAN[@]}")"
        cap_stop "$OUT/masscan-banners.pcap"
    else
        pk_cap_halt
        rm -f "$OUT/masscan-banners.pcap"
        pk_skip masscan-banners.pcap "masscan exited $mrc without banners: $(pk_masscan_why)"
    fi
    pk_stop_pids "$TICK_PID" "$SINK_PID" || true   # their exit status (TERM) is of no interest
fi

# ---------------------------------------------------------------- versions, truth.json, verification
say "truth.json and verification (tshark)"
{
    printf 'nmap\t%s\n' "$(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')"
    printf 'dig\t%s\n' "$(dig -v 2>&1 | sed -n 's/^DiG \([^ ]*\).*/\1/p')"
    printf 'named\t%s\n' "$(named -v | awk '{print $2}')"
    printf 'smbclient\t%s\n' "$(smbclient --version | awk '{print $2}')"
    printf 'smbd\t%s\n' "$(smbd --version | awk '{print $2}')"
    printf 'curl\t%s\n' "$(curl --version | awk 'NR == 1 {print $2}')"
    printf 'wget\t%s\n' "$(wget --version | awk 'NR == 1 {print $3}')"
    printf 'getent\t%s\n' "glibc $(getconf GNU_LIBC_VERSION | awk '{print $2}')"
    printf 'python3\t%s\n' "$(python3 --version | awk '{print $2}')"
    printf 'tshark\t%s\n' "$(tshark --version 2>/dev/null | awk 'NR == 1 {print $3}')"
    if command -v masscan >/dev/null; then printf 'masscan\t%s\n' "$(masscan --version 2>&1 | sed -n 's/^Masscan version \([^ ]*\).*/\1/p')"; fi
    if command -v sqlmap >/dev/null; then printf 'sqlmap\t%s\n' "$(sqlmap --version 2>/dev/null | grep -v WARNING | head -1)"; fi
} >"$TMP/versions.tsv"

cp "$HERE/truthlib.py" "$TMP/truthlib.py"   # next to pkr.py: importable by any python3 that runs it
cat >"$TMP/pkr.py" <<'PY'
"""truth.json for make-recon.sh (facts read with tshark and from the raw frames), its checks, README tables.
truthlib (pcaps/truthlib.py, copied next to this file): what this shares with make-ssh.sh's program."""
import collections, ipaddress, json, re
import xml.etree.ElementTree as ET

from truthlib import (Checks, capture_entry, counts, esc, files_table, main, md, multi, nmap_scripts, read_tmp, truthy,
                      tshark, write_truth)

SCANNER, MASSCAN_SRC, SERVER = "198.18.0.66", "198.18.0.67", "10.90.0.1"
CLIENTS = ["10.90.1.10", "10.90.1.11", "10.90.1.12", "10.90.1.25"]
OUR_ADDRS = {SCANNER, MASSCAN_SRC, SERVER, "198.18.0.1", "10.90.1.1", *CLIENTS}
OUR_MACS = {"02:90:00:00:00:01", "02:90:00:00:00:66", "02:91:00:00:00:01", "02:91:00:00:00:10"}
NSE_UA = "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)"

RULES = {
    "probe.nmap_http": "nmap -sV HTTP probes and NSE's HTTP library (default User-Agent, 404-check paths)",
    "probe.nmap_smb": "NSE's SMB identity (NetBIOS calling name, Native OS / LAN Manager, NTLMSSP workstation)",
    "probe.scanner_ua": "scanner User-Agents (masscan, zgrab, ...) and nmap's RDP cookie (mstshash=nmap)",
    "dns.axfr": "zone transfer requests (AXFR / IXFR) over TCP or UDP",
    "dns.ptr_sweep": "one client resolving reverse names for many addresses of one block",
    "dns.bruteforce": "one client querying many distinct subdomains of one parent, most NXDOMAIN",
}

def nb_encode(name, suffix):
    """NetBIOS first-level encoding (RFC 1001 14.1) of a 15-character name + suffix byte."""
    raw = name.upper().ljust(15).encode() + bytes([suffix])
    return b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in raw)

# Byte strings looked up in the raw frames of every capture: (id, rule, tool to name, sent by, bytes, what).
SIGNATURES = [
    ("nse-ua", "probe.nmap_http", "nmap", "nmap", b"User-Agent: " + NSE_UA.encode() + b"\r\n", "NSE HTTP library User-Agent header"),
    ("nse-404-lower", "probe.nmap_http", "nmap", "nmap", b"GET /nmaplowercheck", "identify_404 check 1 (+ os.time())"),
    ("nse-404-upper", "probe.nmap_http", "nmap", "nmap", b"GET /NmapUpperCheck", "identify_404 check 2 (soft-404 servers only)"),
    ("nse-404-folder", "probe.nmap_http", "nmap", "nmap", b"GET /Nmap/folder/check", "identify_404 check 3 (soft-404 servers only)"),
    ("nse-hnap", "probe.nmap_http", "nmap", "nmap", b"GET /HNAP1 HTTP/1.1\r\n", "hnap-info (also a -sV version script)"),
    ("nse-evox", "probe.nmap_http", "nmap", "nmap", b"GET /evox/about HTTP/1.1\r\n", "http-trane-info (also a -sV version script)"),
    ("nse-sdk", "probe.nmap_http", "nmap", "nmap", b"POST /sdk HTTP/1.1\r\n", "vmware-version (a -sV version script)"),
    ("sv-get", "probe.nmap_http", "nmap", "nmap", b"GET / HTTP/1.0\r\n\r\n", "-sV GetRequest probe (no headers at all)"),
    ("rdp-cookie", "probe.scanner_ua", "nmap", "nmap", b"Cookie: mstshash=nmap\r\n", "-sV TerminalServerCookie probe (X.224 CR)"),
    ("smb-nb-calling", "probe.nmap_smb", "nmap", "nmap", b"\x20" + nb_encode("NMAP", 0x20) + b"\x00", "NetBIOS session request calling name NMAP<20> (encoded)"),
    ("smb-native", "probe.nmap_smb", "nmap", "nmap", b"Nmap\x00Native Lanman\x00", "SMB1 Session Setup AndX Native OS / Native LAN Manager (ASCII)"),
    ("smb-neg-empty", "probe.nmap_smb", "nmap", "nmap", b"\x02NT LM 0.12\x00\x02\x00", "SMB1 Negotiate dialects: NT LM 0.12 and an empty one"),
    ("smb-ntlm-ws", "probe.nmap_smb", "nmap", "nmap", "nmap".encode("utf-16-le"), "NTLMSSP AUTHENTICATE workstation (UTF-16LE)"),
    ("masscan-ua", "probe.scanner_ua", "masscan", "masscan", b"User-Agent: masscan/1.3 (https://github.com/robertdavidgraham/masscan)\r\n", "masscan --banners HTTP request"),
    ("zgrab-ua", "probe.scanner_ua", "zgrab", "curl", b"User-Agent: Mozilla/5.0 zgrab/0.x\r\n", "zgrab2's default User-Agent (sent by curl)"),
    ("nuclei-ua", "probe.scanner_ua", "nuclei", "curl", b"User-Agent: Nuclei - Open-source project (github.com/projectdiscovery/nuclei)\r\n", "nuclei v2's User-Agent (sent by curl)"),
    ("nikto-ua", "probe.scanner_ua", "nikto", "curl", b"User-Agent: Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)\r\n", "Nikto 2.1.6's User-Agent (sent by curl)"),
    ("censys-ua", "probe.scanner_ua", "censys", "curl", b"User-Agent: Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)\r\n", "Censys' scanner User-Agent (sent by curl)"),
    ("sqlmap-ua", "probe.scanner_ua", "sqlmap", "sqlmap", b"User-Agent: sqlmap/", "sqlmap's default User-Agent (real sqlmap)"),
    ("axfr-corp", "dns.axfr", "dig", "dig", b"\x04corp\x04test\x00\x00\xfc\x00\x01", "question corp.test AXFR IN"),
    ("ixfr-corp", "dns.axfr", "dig", "dig", b"\x04corp\x04test\x00\x00\xfb\x00\x01", "question corp.test IXFR IN"),
    ("axfr-exorg", "dns.axfr", "nmap", "nmap", b"\x07example\x03org\x00\x00\xfc\x00\x01", "question example.org AXFR IN"),
    ("axfr-test", "dns.axfr", "nmap", "nmap", b"\x00\x00\x04test\x00\x00\xfc\x00\x01", "ARCOUNT 0 + question test AXFR IN (NSE's cut of corp.test)"),
]

# What each file is and what picket should raise: (rule, tool).  'expect' empty = benign, raise nothing.
SPEC = {
    "nmap-sv.pcap": dict(kind="nmap -sS -sV of HTTP (80, 8080) and RDP (3389)", tool="nmap",
                         client=SCANNER, server=SERVER, expect=[("probe.nmap_http", "nmap"), ("probe.scanner_ua", "nmap")],
                         signatures=["nse-ua", "nse-404-lower", "nse-404-upper", "nse-404-folder", "nse-hnap",
                                     "nse-evox", "nse-sdk", "sv-get", "rdp-cookie"]),
    "nmap-nse-http.pcap": dict(kind="NSE HTTP scripts (http-title, http-headers, http-enum, hnap-info, http-trane-info)",
                               tool="nmap", client=SCANNER, server=SERVER, expect=[("probe.nmap_http", "nmap")],
                               signatures=["nse-ua", "nse-404-lower", "nse-404-upper", "nse-404-folder", "nse-hnap", "nse-evox"]),
    "nmap-smb.pcap": dict(kind="NSE SMB scripts over 445, then over 139 (NetBIOS session)", tool="nmap",
                          client=SCANNER, server=SERVER, expect=[("probe.nmap_smb", "nmap")],
                          signatures=["smb-nb-calling", "smb-native", "smb-neg-empty", "smb-ntlm-ws"]),
    "smbclient-benign.pcap": dict(kind="benign: smbclient listing and fetching from a guest share, -L over 445 and 139, one SMB1 session",
                                  tool="smbclient", client=SCANNER, server=SERVER, expect=[], signatures=[]),
    "dig-axfr.pcap": dict(kind="zone transfer attempts: AXFR over TCP (two zones), IXFR over UDP; all refused",
                          tool="dig", client=SCANNER, server=SERVER, expect=[("dns.axfr", "dig")],
                          signatures=["axfr-corp", "ixfr-corp"]),
    "nmap-axfr.pcap": dict(kind="NSE dns-zone-transfer (AXFR over TCP) for example.org (REFUSED) and for corp.test, "
                                "which NSE asks as \"test\" (NOTAUTH)", tool="nmap", client=SCANNER,
                           server=SERVER, expect=[("dns.axfr", "nmap")], signatures=["axfr-exorg", "axfr-test"]),
    "ptr-sweep.pcap": dict(kind="nmap -sL 10.90.0.0/24: PTR queries for all 256 addresses", tool="nmap",
                           client=SCANNER, server=SERVER, expect=[("dns.ptr_sweep", "nmap")], signatures=[]),
    "ptr-sweep-dig.pcap": dict(kind="dig -x for 10.90.0.1-64 (a dnsrecon -r style sweep)", tool="dig",
                               client=SCANNER, server=SERVER, expect=[("dns.ptr_sweep", "dig")], signatures=[]),
    "dns-brute.pcap": dict(kind="NSE dns-brute against corp.test (built-in list, A + AAAA per name)", tool="nmap",
                           client=SCANNER, server=SERVER, expect=[("dns.bruteforce", "nmap")], signatures=[]),
    "scanner-ua.pcap": dict(kind="HTTP requests with scanner User-Agents (curl sending them; the real sqlmap), then plain curl and wget",
                            tool="curl, sqlmap, wget", client=SCANNER, server=SERVER,
                            expect=[("probe.scanner_ua", t) for t in ("zgrab", "nuclei", "nikto", "censys", "sqlmap")],
                            signatures=["zgrab-ua", "nuclei-ua", "nikto-ua", "censys-ua", "sqlmap-ua"]),
    "http-benign.pcap": dict(kind="benign: browser-like curl, wget -p, conditional GET, HEAD", tool="curl, wget",
                             client=SCANNER, server=SERVER, expect=[], signatures=[]),
    "resolver-benign.pcap": dict(kind="benign: four LAN clients using named as resolver (lookups across 8 zones, a mail relay's PTR / MX / TXT, typos)",
                                 tool="getent, dig", client=CLIENTS, server=SERVER, expect=[], signatures=[]),
    "masscan-banners.pcap": dict(kind="masscan --banners of 80 and 8080 (SYN scan + user-space TCP + HTTP request)",
                                 tool="masscan", client=MASSCAN_SRC, server=SERVER, expect=[("probe.scanner_ua", "masscan")],
                                 signatures=["masscan-ua"]),
}
# scanner-ua.pcap: which tool each User-Agent belongs to and who sent it.
UA_LABELS = [
    ("Mozilla/5.0 zgrab/0.x", "zgrab", "curl sending zgrab's User-Agent", "probe.scanner_ua"),
    ("Nuclei - Open-source project (github.com/projectdiscovery/nuclei)", "nuclei", "curl sending nuclei's User-Agent", "probe.scanner_ua"),
    ("Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:Port Check)", "nikto", "curl sending Nikto's User-Agent", "probe.scanner_ua"),
    ("Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)", "censys", "curl sending Censys' User-Agent", "probe.scanner_ua"),
    (re.compile(r"^sqlmap/\S+ \(https://sqlmap\.org\)$"), "sqlmap", "sqlmap (the real tool)", "probe.scanner_ua"),
    (re.compile(r"^curl/\S+$"), "curl", "curl, its own User-Agent (benign)", None),
    (re.compile(r"^Wget/\S+$"), "wget", "wget, its own User-Agent (benign)", None),
]

# ---------------------------------------------------------------- HTTP
def http_facts(pcap):
    req = tshark(pcap, "http.request", ["frame.number", "ip.src", "ip.dst", "tcp.dstport", "tcp.stream",
                                        "http.request.method", "http.request.uri", "http.request.version",
                                        "http.user_agent", "http.host"])
    rsp = tshark(pcap, "http.response", ["tcp.srcport", "http.response.code"])
    requests = [{"frame": int(r["frame.number"]), "client": r["ip.src"], "server": r["ip.dst"],
                 "port": int(r["tcp.dstport"]), "stream": int(r["tcp.stream"]), "method": r["http.request.method"],
                 "uri": r["http.request.uri"], "version": r["http.request.version"],
                 "user_agent": r["http.user_agent"] or None} for r in req]
    f = {"requests_total": len(requests),
         "user_agents": counts(r["user_agent"] or "(none)" for r in requests),
         "request_lines": counts(f'{r["method"]} {r["uri"]} {r["version"]} -> :{r["port"]}' for r in requests),
         "response_codes": counts(r["http.response.code"] for r in rsp)}
    return f, requests

def nse_404_paths(requests):
    pat = re.compile(r"^/(nmaplowercheck|NmapUpperCheck|Nmap/folder/check)\d+$")
    return sorted({f'{r["port"]} {r["uri"]}' for r in requests if pat.match(r["uri"])})

def rdp_facts(pcap):
    rows = tshark(pcap, "rdp.rt_cookie", ["tcp.dstport", "rdp.rt_cookie"])
    return counts(f'{r["rdp.rt_cookie"]} -> :{r["tcp.dstport"]}' for r in rows)

def probe_payloads(pcap, port):
    """Distinct first 48 bytes of the scanner's TCP payloads to one port (nmap -sV probes), in order."""
    rows = tshark(pcap, f"ip.src == {SCANNER} && tcp.dstport == {port} && tcp.len > 0", ["tcp.payload"])
    seen, out = set(), []
    for r in rows:
        b = bytes.fromhex(r["tcp.payload"].replace(":", ""))[:48]
        if b not in seen:
            seen.add(b)
            out.append(esc(b))
    return out

def nmap_services(xml_path):
    root = ET.parse(xml_path).getroot()
    out = []
    for p in root.iter("port"):
        s = p.find("service")
        st = p.find("state")
        out.append({"port": int(p.get("portid")), "state": st.get("state") if st is not None else None,
                    "service": s.get("name") if s is not None else None,
                    "product": s.get("product") if s is not None else None})
    return out

def nmap_script_output(xml_path):
    return nmap_scripts(ET.parse(xml_path).getroot())

# ---------------------------------------------------------------- SMB
def smb_facts(pcap):
    nb = tshark(pcap, "nbss.type == 0x81", ["ip.src", "tcp.dstport", "nbss.calling_name", "nbss.called_name"])
    neg1 = tshark(pcap, "smb.cmd == 0x72 && smb.flags.response == 0", ["ip.src", "tcp.dstport", "smb.dialect.name"])
    neg2 = tshark(pcap, "smb2.cmd == 0 && smb2.flags.response == 0", ["ip.src", "tcp.dstport", "smb2.dialect"])
    ss = tshark(pcap, "smb.cmd == 0x73", ["ip.src", "smb.flags.response", "smb.native_os", "smb.native_lanman", "smb.account"])
    auth = tshark(pcap, "ntlmssp.messagetype == 3", ["ip.src", "ntlmssp.auth.hostname", "ntlmssp.auth.domain",
                                                      "ntlmssp.auth.username"])
    nego = tshark(pcap, "ntlmssp.messagetype == 1", ["ip.src", "ntlmssp.negotiate.callingworkstation",
                                                      "ntlmssp.negotiate.domain"])
    tree = tshark(pcap, "(smb2.cmd == 3 && smb2.flags.response == 0) || smb.cmd == 0x75",
                  ["smb2.tree", "smb.path", "smb.flags.response"])
    return {
        "netbios_session_requests": counts(f'calling {r["nbss.calling_name"]} called {r["nbss.called_name"]} -> :{r["tcp.dstport"]}' for r in nb),
        "smb1_negotiate_dialects": counts(json.dumps(multi(r["smb.dialect.name"])) for r in neg1),
        "smb2_negotiate_dialects": counts(json.dumps(multi(r["smb2.dialect"])) for r in neg2),
        "smb1_session_setup_client": counts(f'native_os "{r["smb.native_os"]}" native_lanman "{r["smb.native_lanman"]}"'
                                            + (f' account "{r["smb.account"]}"' if r["smb.account"] else "")
                                            for r in ss if r["smb.flags.response"] in ("0", "False") and r["ip.src"] != SERVER),
        "smb1_session_setup_server": counts(f'native_os "{r["smb.native_os"]}" native_lanman "{r["smb.native_lanman"]}"'
                                            for r in ss if r["ip.src"] == SERVER and (r["smb.native_os"] or r["smb.native_lanman"])),
        "ntlmssp_auth": counts(f'workstation "{r["ntlmssp.auth.hostname"]}" domain "{r["ntlmssp.auth.domain"]}" user "{r["ntlmssp.auth.username"]}"' for r in auth),
        "ntlmssp_negotiate": counts(f'workstation "{r["ntlmssp.negotiate.callingworkstation"]}" domain "{r["ntlmssp.negotiate.domain"]}"' for r in nego),
        "tree_connects": counts(p for r in tree for p in multi(r["smb2.tree"]) + multi(r["smb.path"])),
    }

# ---------------------------------------------------------------- DNS
QTYPE = {"1": "A", "2": "NS", "5": "CNAME", "6": "SOA", "12": "PTR", "15": "MX", "16": "TXT", "28": "AAAA",
         "33": "SRV", "251": "IXFR", "252": "AXFR", "255": "ANY"}
RCODE = {"0": "NOERROR", "1": "FORMERR", "2": "SERVFAIL", "3": "NXDOMAIN", "4": "NOTIMP", "5": "REFUSED", "9": "NOTAUTH"}

def rev_addr(name):
    """10.90.0.5 for 5.0.90.10.in-addr.arpa (IPv4 reverse names only)."""
    labels = name.lower().rstrip(".").split(".")
    if len(labels) == 6 and labels[-2:] == ["in-addr", "arpa"] and all(l.isdigit() for l in labels[:4]):
        return ".".join(reversed(labels[:4]))
    return None

def parent(name):
    labels = name.lower().rstrip(".").split(".")
    return ".".join(labels[-2:]) if len(labels) >= 2 else name

def dns_rows(pcap):
    f = ["frame.number", "ip.src", "ip.dst", "udp.srcport", "tcp.srcport", "udp.dstport", "tcp.dstport", "dns.id", "dns.flags.response",
         "dns.flags", "dns.flags.opcode", "dns.flags.rcode", "dns.flags.recdesired", "dns.flags.authenticated",
         "dns.flags.checkdisable", "dns.qry.name", "dns.qry.type", "dns.count.answers", "dns.opt.cookie.client",
         "dns.rr.udp_payload_size"]
    rows = tshark(pcap, "dns", f)
    for r in rows:
        r["transport"] = "udp" if r["udp.srcport"] else "tcp"
        r["resp"] = truthy(r["dns.flags.response"])
        # the client's port: a query's source port, an answer's destination port
        r["cport"] = (r["udp.dstport"] or r["tcp.dstport"]) if r["resp"] else (r["udp.srcport"] or r["tcp.srcport"])
        r["qname"] = multi(r["dns.qry.name"])[0].lower() if r["dns.qry.name"] else ""
        r["qtype"] = QTYPE.get(multi(r["dns.qry.type"])[0], multi(r["dns.qry.type"])[0]) if r["dns.qry.type"] else ""
        r["rcode"] = RCODE.get(r["dns.flags.rcode"], r["dns.flags.rcode"])
    return rows

def dns_facts(pcap):
    rows = dns_rows(pcap)
    qs = [r for r in rows if not r["resp"]]
    rs = [r for r in rows if r["resp"]]
    per_client = {}
    for c in sorted({r["ip.src"] for r in qs}, key=lambda a: ipaddress.ip_address(a)):
        cq = [r for r in qs if r["ip.src"] == c]
        cr = [r for r in rs if r["ip.dst"] == c]
        names = {r["qname"] for r in cq}
        rev = sorted({rev_addr(n) for n in names if rev_addr(n)}, key=lambda a: ipaddress.ip_address(a))
        blocks = counts(str(ipaddress.ip_network(a + "/24", strict=False)) for a in rev)
        # distinct subdomains per parent (forward names only), and how many of them got NXDOMAIN
        nx_names = {r["qname"] for r in cr if r["rcode"] == "NXDOMAIN"}
        subs = collections.defaultdict(set)
        for n in names:
            if not n.endswith(".in-addr.arpa") and n.count(".") >= 2:
                subs[parent(n)].add(n)
        parents = {p: {"distinct_names": len(v), "nxdomain_names": len(v & nx_names)}
                   for p, v in sorted(subs.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
        per_client[c] = {
            "queries": len(cq),
            "queries_by_transport": counts(r["transport"] for r in cq),
            "qtypes": counts(r["qtype"] for r in cq),
            "distinct_qnames": len(names),
            "responses": len(cr),
            "rcodes": counts(r["rcode"] for r in cr),
            "distinct_names_by_rcode": counts(rc for rc, _ in {(r["rcode"], r["qname"]) for r in cr}),
            "nxdomain_ratio": round(sum(1 for r in cr if r["rcode"] == "NXDOMAIN") / len(cr), 3) if cr else None,
            "header": {"rd_set": sum(truthy(r["dns.flags.recdesired"]) for r in cq),
                       "ad_set": sum(truthy(r["dns.flags.authenticated"]) for r in cq),
                       "cd_set": sum(truthy(r["dns.flags.checkdisable"]) for r in cq),
                       "edns": sum(1 for r in cq if r["dns.rr.udp_payload_size"]),
                       "edns_cookie": sum(1 for r in cq if r["dns.opt.cookie.client"])},
            "reverse": {"distinct_addresses": len(rev), "distinct_24s": len(blocks),
                        "max_addresses_in_one_24": max(blocks.values()) if blocks else 0,
                        "blocks": blocks} if rev else None,
            "parents": parents,
            "max_distinct_names_one_parent": max((p["distinct_names"] for p in parents.values()), default=0),
        }
    transfers = [{"frame": int(r["frame.number"]), "client": r["ip.src"], "transport": r["transport"],
                  "qname": r["qname"], "qtype": r["qtype"],
                  "dns_id": r["dns.id"], "flags": r["dns.flags"],
                  "answer_rcodes": sorted({a["rcode"] for a in rs if (a["ip.dst"], a["cport"], a["dns.id"], a["qname"], a["qtype"])
                                           == (r["ip.src"], r["cport"], r["dns.id"], r["qname"], r["qtype"])})}
                 for r in qs if r["qtype"] in ("AXFR", "IXFR")]
    return {"queries_total": len(qs), "responses_total": len(rs), "clients": per_client,
            "zone_transfer_requests": transfers}

# ---------------------------------------------------------------- per file
def signature_hits(frames_):
    out = {}
    for sid, _, _, _, pat, _ in SIGNATURES:
        hits = [(i + 1, fr.find(pat)) for i, fr in enumerate(frames_) if pat in fr]
        out[sid] = {"frames": len(hits), "first": {"frame": hits[0][0], "offset": hits[0][1]} if hits else None}
    return out

def facts_for(name, pcap, tmp):
    x = lambda n: f"{tmp}/xml/{n}"
    f = {}
    if name in ("nmap-sv.pcap", "nmap-nse-http.pcap", "scanner-ua.pcap", "http-benign.pcap", "masscan-banners.pcap"):
        f["http"], reqs = http_facts(pcap)
        if name in ("nmap-sv.pcap", "nmap-nse-http.pcap"):
            f["http"]["nse_404_check_paths"] = nse_404_paths(reqs)
        if name == "scanner-ua.pcap":
            f["http"]["requests"] = [dict(r, **ua_label(r["user_agent"])) for r in reqs]
        elif len(reqs) <= 40:
            f["http"]["requests"] = reqs
    if name == "nmap-sv.pcap":
        f["rdp_cookies"] = rdp_facts(pcap)
        f["probes_to_3389"] = probe_payloads(pcap, 3389)
        f["nmap_services"] = nmap_services(x("nmap-sv.xml"))
    if name == "nmap-nse-http.pcap":
        f["nmap_script_output"] = nmap_script_output(x("nmap-nse-http.xml"))
    if name in ("nmap-smb.pcap", "smbclient-benign.pcap"):
        f["smb"] = smb_facts(pcap)
    if name == "nmap-smb.pcap":
        f["nmap_script_output"] = {**nmap_script_output(x("nmap-smb-445.xml"))}
    if name in ("dig-axfr.pcap", "nmap-axfr.pcap", "ptr-sweep.pcap", "ptr-sweep-dig.pcap", "dns-brute.pcap",
                "resolver-benign.pcap"):
        f["dns"] = dns_facts(pcap)
    if name == "dns-brute.pcap":
        f["nmap_script_output"] = nmap_script_output(x("dns-brute.xml"))
    if name == "masscan-banners.pcap":
        f["masscan_list"] = [l.rstrip("\n") for l in open(f"{tmp}/masscan.lst") if not l.startswith("#")]
    return f

def ua_label(ua):
    for pat, tool, sent_by, rule in UA_LABELS:
        if (isinstance(pat, str) and ua == pat) or (not isinstance(pat, str) and ua and pat.match(ua)):
            return {"ua_tool": tool, "sent_by": sent_by, "expect": rule}
    return {"ua_tool": None, "sent_by": None, "expect": "unknown"}

def link_and_addrs(pcap):
    rows = tshark(pcap, "", ["eth.src", "ip.src", "ip.dst", "arp.src.proto_ipv4", "arp.dst.proto_ipv4", "ipv6.src", "eth.type"])
    macs = {r["eth.src"] for r in rows}
    addrs = set()
    for r in rows:
        for k in ("ip.src", "ip.dst", "arp.src.proto_ipv4", "arp.dst.proto_ipv4"):
            addrs.update(multi(r[k]))
    return {"frames": len(rows), "macs": sorted(macs), "addrs": sorted(addrs, key=lambda a: ipaddress.ip_address(a)),
            "ipv6_frames": sum(1 for r in rows if r["ipv6.src"]),
            "other_frames": sum(1 for r in rows if not r["ip.src"] and not r["arp.src.proto_ipv4"])}

def build(out, tmp, truth_path):
    versions, cmds, skipped = read_tmp(tmp)
    files = {}
    for name, s in SPEC.items():
        e = {"kind": s["kind"], "tool": s["tool"],
             "versions": {t: versions[t] for t in sorted({c["tool"].split()[0] for c in cmds[name]}) if t in versions},
             "client": s["client"], "server": s["server"], "benign": not s["expect"],
             "expect": [{"rule": r, "tool": t} for r, t in s["expect"]]}
        if name in skipped:
            e["skipped"] = skipped[name]
            files[name] = e
            continue
        parts = {k.split(":", 1)[1]: v for k, v in skipped.items() if k.startswith(name + ":")}
        if parts:
            e["skipped_parts"] = parts
            e["expect"] = [x for x in e["expect"] if x["tool"] not in parts]
        pcap = f"{out}/{name}"
        frames_ = capture_entry(e, pcap, cmds[name])
        e["facts"] = facts_for(name, pcap, tmp)
        hits = signature_hits(frames_)
        e["signatures_found"] = {k: v for k, v in hits.items() if v["frames"]}
        files[name] = e
    doc = {
        "description": "Ground truth for pcaps/recon/*.pcap, written by pcaps/make-recon.sh. 'expect' lists the "
                       "alerts picket should raise for the file (rule id and the tool it should name); an empty "
                       "list (benign: true) means none. 'facts' are read from the capture with tshark (and nmap's "
                       "XML output); 'signatures_found' are byte strings found in the raw frames (see SIGNATURES "
                       "in the README).",
        "rules": RULES,
        "network": {"scanner": SCANNER, "scanner_mac": "02:90:00:00:00:66", "masscan_source": MASSCAN_SRC,
                    "router": "198.18.0.1", "server": SERVER, "server_macs": ["02:90:00:00:00:01", "02:91:00:00:00:01"],
                    "lan_clients": CLIENTS, "lan_client_mac": "02:91:00:00:00:10", "lan_gateway": "10.90.1.1",
                    "services": {"tcp": [53, 80, 139, 445, 3389, 8080], "udp": [53]},
                    "zones": ["corp.test", "example-shop.test", "cdn.test", "news.test", "mailhost.test",
                              "partner.test", "senders.test", "example.org", "0.90.10.in-addr.arpa", "in-addr.arpa", "."]},
        "signatures": [{"id": sid, "rule": rule, "tool": tool, "sent_by": sender, "what": what, "hex": pat.hex(),
                        "text": esc(pat)}
                       for sid, rule, tool, sender, pat, what in SIGNATURES],
        "versions": versions,
        "files": files,
    }
    write_truth(doc, truth_path)

# ---------------------------------------------------------------- checks
def check(out, truth_path):
    t = json.load(open(truth_path))
    c = Checks()
    sig_ids = {s[0] for s in SIGNATURES}
    for name, e in t["files"].items():
        if "skipped" in e:
            continue
        la = c.capture(name, f"{out}/{name}", 300, link_and_addrs, OUR_MACS, OUR_ADDRS)
        c.ok(la["ipv6_frames"] == 0, f"{name}: {la['ipv6_frames']} IPv6 frames")
        c.ok(la["other_frames"] == 0, f"{name}: {la['other_frames']} frames that are neither IPv4 nor ARP")
        # signatures: the expected ones are there, no other file's signature is
        found = set(e["signatures_found"])
        want = set(SPEC[name]["signatures"]) - {s for s in SPEC[name]["signatures"]
                                                 if any(s.startswith(p) for p in e.get("skipped_parts", {}))}
        c.ok(want <= found, f"{name}: signatures missing: {sorted(want - found)}")
        extra = found - set(SPEC[name]["signatures"])
        c.ok(not extra, f"{name}: unexpected signatures: {sorted(extra)}")
        if not e["expect"]:
            c.ok(not found, f"{name}: benign file holds signatures {sorted(found)}")
    F = {n: e.get("facts", {}) for n, e in t["files"].items()}
    cl = lambda n, a=SCANNER: F[n]["dns"]["clients"].get(a, {})

    f = F["nmap-sv.pcap"]
    c.ok(f["rdp_cookies"] == {"Cookie: mstshash=nmap -> :3389": 1}, f"nmap-sv: RDP cookies {f['rdp_cookies']}")
    svc = {s["port"]: s["service"] for s in f["nmap_services"]}
    c.ok(svc == {80: "http", 8080: "http", 3389: "ms-wbt-server"}, f"nmap-sv: nmap found {svc}")
    c.ok(NSE_UA in f["http"]["user_agents"], "nmap-sv: no NSE User-Agent")

    f = F["nmap-nse-http.pcap"]["http"]
    c.ok(set(f["user_agents"]) == {NSE_UA}, f"nmap-nse-http: User-Agents {list(f['user_agents'])}")
    p404 = [p.split()[0] + " " + re.sub(r"\d+$", "", p.split()[1]) for p in f["nse_404_check_paths"]]
    c.ok(sorted(p404) == ["80 /nmaplowercheck", "8080 /Nmap/folder/check", "8080 /NmapUpperCheck", "8080 /nmaplowercheck"],
         f"nmap-nse-http: 404 check paths {f['nse_404_check_paths']}")
    on80 = sum(v for k, v in f["request_lines"].items() if k.endswith("-> :80"))
    c.ok(on80 >= 30, f"nmap-nse-http: only {on80} requests to port 80 (http-enum's paths)")

    s = F["nmap-smb.pcap"]["smb"]
    c.ok("calling NMAP<20> called *SMBSERVER<20> -> :139" in s["netbios_session_requests"], f"nmap-smb: NetBIOS {s['netbios_session_requests']}")
    c.ok(set(s["smb1_session_setup_client"]) == {'native_os "Nmap" native_lanman "Native Lanman"',
                                                 'native_os "Nmap" native_lanman "Native Lanman" account "guest"'},
         f"nmap-smb: {s['smb1_session_setup_client']}")
    c.ok(any(k.startswith('workstation "nmap"') for k in s["ntlmssp_auth"]), f"nmap-smb: NTLMSSP {s['ntlmssp_auth']}")
    c.ok(set(s["smb1_negotiate_dialects"]) == {'["NT LM 0.12", ""]'}, f"nmap-smb: SMB1 dialects {s['smb1_negotiate_dialects']}")
    s = F["smbclient-benign.pcap"]["smb"]
    c.ok(all(k.startswith("calling WS-ALICE<00>") for k in s["netbios_session_requests"]) and s["netbios_session_requests"],
         f"smbclient-benign: NetBIOS {s['netbios_session_requests']}")
    c.ok(set(s["smb1_session_setup_client"]) == {'native_os "Unix" native_lanman "Samba"'}, f"smbclient-benign: {s['smb1_session_setup_client']}")
    c.ok(all(k.startswith('workstation "WS-ALICE" domain "PICKETLAB" user "alice"') for k in s["ntlmssp_auth"]) and s["ntlmssp_auth"],
         f"smbclient-benign: NTLMSSP {s['ntlmssp_auth']}")
    c.ok(t["files"]["smbclient-benign.pcap"]["facts"]["smb"]["tree_connects"], "smbclient-benign: no tree connect")

    d = F["dig-axfr.pcap"]["dns"]["zone_transfer_requests"]
    got = sorted((x["qname"], x["qtype"], x["transport"], tuple(x["answer_rcodes"])) for x in d)
    c.ok(got == [("0.90.10.in-addr.arpa", "AXFR", "tcp", ("REFUSED",)), ("corp.test", "AXFR", "tcp", ("REFUSED",)),
                 ("corp.test", "IXFR", "udp", ("REFUSED",))], f"dig-axfr: transfers {got}")
    d = F["nmap-axfr.pcap"]["dns"]["zone_transfer_requests"]
    got = sorted((x["qname"], x["qtype"], x["transport"], tuple(x["answer_rcodes"])) for x in d)
    c.ok(got == [("example.org", "AXFR", "tcp", ("REFUSED",)), ("test", "AXFR", "tcp", ("NOTAUTH",))], f"nmap-axfr: transfers {got}")
    for n in ("ptr-sweep.pcap", "ptr-sweep-dig.pcap", "dns-brute.pcap", "dig-axfr.pcap", "nmap-axfr.pcap"):
        c.ok(set(F[n]["dns"]["clients"]) == {SCANNER}, f"{n}: DNS clients {list(F[n]['dns']['clients'])}")
    for n, want in (("ptr-sweep.pcap", 256), ("ptr-sweep-dig.pcap", 64)):
        r = cl(n)["reverse"]
        c.ok(r["distinct_addresses"] == want and r["distinct_24s"] == 1, f"{n}: reverse {r['distinct_addresses']} in {r['distinct_24s']} /24s")
        byrc = cl(n)["distinct_names_by_rcode"]
        c.ok(byrc == {"NXDOMAIN": want - 4, "NOERROR": 4}, f"{n}: names by rcode {byrc}")
    b = cl("dns-brute.pcap")
    corp = b["parents"].get("corp.test", {})
    c.ok(corp.get("distinct_names", 0) >= 100 and corp["nxdomain_names"] >= 0.9 * corp["distinct_names"] - 6,
         f"dns-brute: corp.test {corp}")
    c.ok(b["nxdomain_ratio"] >= 0.8, f"dns-brute: NXDOMAIN ratio {b['nxdomain_ratio']}")
    out_ = F["dns-brute.pcap"]["nmap_script_output"].get("dns-brute", "")
    c.ok(all(h in out_ for h in ("www.corp.test", "mail.corp.test", "vpn.corp.test")), f"dns-brute: nmap found {out_!r}")

    rb = F["resolver-benign.pcap"]["dns"]
    c.ok(set(rb["clients"]) == set(CLIENTS), f"resolver-benign: clients {list(rb['clients'])}")
    c.ok(rb["queries_total"] >= 300, f"resolver-benign: {rb['queries_total']} queries")
    for a, e in rb["clients"].items():
        c.ok(e["nxdomain_ratio"] is not None and e["nxdomain_ratio"] <= 0.1, f"resolver-benign {a}: NXDOMAIN ratio {e['nxdomain_ratio']}")
        c.ok(all(p["nxdomain_names"] <= 2 for p in e["parents"].values()), f"resolver-benign {a}: parents {e['parents']}")
        if e["reverse"]:
            c.ok(e["reverse"]["max_addresses_in_one_24"] <= 2, f"resolver-benign {a}: reverse {e['reverse']}")
    mx = rb["clients"]["10.90.1.25"]["reverse"]
    c.ok(mx and mx["distinct_addresses"] >= 30 and mx["distinct_24s"] >= 28, f"resolver-benign: mail relay reverse {mx}")

    for r in F["scanner-ua.pcap"]["http"]["requests"]:
        c.ok(r["expect"] != "unknown", f"scanner-ua: unlabelled User-Agent {r['user_agent']!r}")
    tools = {r["ua_tool"] for r in F["scanner-ua.pcap"]["http"]["requests"]}
    want = {"zgrab", "nuclei", "nikto", "censys", "curl", "wget"} | ({"sqlmap"} if "sqlmap" not in t["files"]["scanner-ua.pcap"].get("skipped_parts", {}) else set())
    c.ok(tools == want, f"scanner-ua: tools {tools}, want {want}")
    h = F["http-benign.pcap"]["http"]
    c.ok(all(re.match(r"^(curl|Wget)/\S+$|^Mozilla/5\.0 \(X11; Linux x86_64; rv:115\.0\) Gecko/20100101 Firefox/115\.0$", u)
             for u in h["user_agents"]), f"http-benign: User-Agents {list(h['user_agents'])}")
    c.ok(set(h["response_codes"]) == {"200", "304", "404"}, f"http-benign: response codes {h['response_codes']}")
    if "skipped" not in t["files"]["masscan-banners.pcap"]:
        m = F["masscan-banners.pcap"]["http"]
        c.ok(any(u.startswith("masscan/") for u in m["user_agents"]), f"masscan-banners: User-Agents {list(m['user_agents'])}")
    c.done(len(t["files"]))

# ---------------------------------------------------------------- README tables
def readme_tables(truth_path):
    t = json.load(open(truth_path))
    files_table(t)
    print("\n### Signature strings\n")
    print("Byte strings searched in the raw frames of every capture (the script fails if an expected one is missing or")
    print("one turns up in another file). \"first\" is frame:offset of the first hit (offset from the Ethernet header).\n")
    print("| id | rule: tool | sent by (version) | what | bytes (text; `\\xNN` = byte) | hex | found in (frames, first) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for s in t["signatures"]:
        where = [f"`{n}` ({e['signatures_found'][s['id']]['frames']}, {e['signatures_found'][s['id']]['first']['frame']}:{e['signatures_found'][s['id']]['first']['offset']})"
                 for n, e in t["files"].items() if s["id"] in e.get("signatures_found", {})]
        print(f"| `{s['id']}` | `{s['rule']}`: {s['tool']} | {s['sent_by']} {md(t['versions'].get(s['sent_by'], '?'))} | {md(s['what'])} | `{md(s['text'])}` | `{s['hex']}` | {', '.join(where) or '-'} |")

def readme_facts(truth_path, what):
    t = json.load(open(truth_path))
    F = lambda n: t["files"][n].get("facts", {})
    if what == "smb":
        for n in ("nmap-smb.pcap", "smbclient-benign.pcap"):
            s = F(n)["smb"]
            print(f"`{n}`:\n")
            for k, v in s.items():
                items = "; ".join(f"{md(a)} (x{b})" for a, b in v.items()) or "-"
                print(f"* {k}: {items}")
            print()
    elif what == "dns":
        print("| file | client | queries | qtypes | rcodes | distinct names | reverse: addresses / /24s / max per /24 | max distinct names under one parent (NXDOMAIN) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for n, e in t["files"].items():
            d = e.get("facts", {}).get("dns")
            if not d:
                continue
            for a, x in d["clients"].items():
                rv = x["reverse"]
                rvs = f"{rv['distinct_addresses']} / {rv['distinct_24s']} / {rv['max_addresses_in_one_24']}" if rv else "-"
                top = next(iter(x["parents"].items()), None)
                tops = f"{top[0]}: {top[1]['distinct_names']} ({top[1]['nxdomain_names']})" if top else "-"
                q = ", ".join(f"{k} {v}" for k, v in x["qtypes"].items())
                r = ", ".join(f"{k} {v}" for k, v in x["rcodes"].items())
                print(f"| `{n}` | {a} | {x['queries']} | {q} | {r} | {x['distinct_qnames']} | {rvs} | {tops} |")
        print("\nZone transfer requests:\n")
        for n in ("dig-axfr.pcap", "nmap-axfr.pcap"):
            for x in F(n)["dns"]["zone_transfer_requests"]:
                print(f"* `{n}`: {x['qname']} {x['qtype']} over {x['transport'].upper()} -> {', '.join(x['answer_rcodes']) or 'no answer'}")
        print("\nDNS header of the queries (count of queries with the bit / option set):\n")
        print("| file | client | RD | AD | CD | EDNS | EDNS cookie |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for n, e in t["files"].items():
            d = e.get("facts", {}).get("dns")
            if not d:
                continue
            for a, x in d["clients"].items():
                h = x["header"]
                print(f"| `{n}` | {a} ({x['queries']}) | {h['rd_set']} | {h['ad_set']} | {h['cd_set']} | {h['edns']} | {h['edns_cookie']} |")
    elif what == "http":
        for n in ("nmap-sv.pcap", "nmap-nse-http.pcap", "masscan-banners.pcap", "scanner-ua.pcap", "http-benign.pcap"):
            e = t["files"][n]
            if "skipped" in e:
                continue
            h = F(n)["http"]
            print(f"`{n}`: {h['requests_total']} requests; User-Agents: "
                  + "; ".join(f"`{md(u)}` x{k}" for u, k in h["user_agents"].items())
                  + "; responses: " + ", ".join(f"{k} x{v}" for k, v in h["response_codes"].items()))
            if h.get("nse_404_check_paths"):
                print(f"  404-check paths: {', '.join('`' + p + '`' for p in h['nse_404_check_paths'])}")
            print()
        e = t["files"]["nmap-sv.pcap"]
        print("`nmap-sv.pcap`: nmap's probes to 3389 (first 48 bytes, in order): "
              + ", ".join(f"`{md(p)}`" for p in F("nmap-sv.pcap")["probes_to_3389"]))
        print("\n`scanner-ua.pcap`, request by request:\n")
        print("| frame | request | User-Agent | sent by | picket should raise |")
        print("| --- | --- | --- | --- | --- |")
        for r in F("scanner-ua.pcap")["http"]["requests"]:
            print(f"| {r['frame']} | `{md(r['method'] + ' ' + r['uri'][:60] + (' ...' if len(r['uri']) > 60 else ''))}` :{r['port']} | `{md(r['user_agent'])}` | {r['sent_by']} | {('`' + r['expect'] + '`: ' + r['ua_tool']) if r['expect'] else 'nothing'} |")

def readme_commands(truth_path):
    t = json.load(open(truth_path))
    for n, e in t["files"].items():
        if "commands" in e:
            print(f"* `{n}`: " + ", then ".join(f"`{md(c['command'])}`" for c in e["commands"]))

if __name__ == "__main__":
    main({"build": (build, 3), "check": (check, 2), "tables": (readme_tables, 1), "facts": (readme_facts, 2),
          "commands": (readme_commands, 1)})
PY
python3 "$TMP/pkr.py" build "$OUT" "$TMP" "$OUT/truth.json" || die "building truth.json failed"
python3 "$TMP/pkr.py" check "$OUT" "$OUT/truth.json" >&2 || die "the captures do not match truth.json (see CHECK FAILED above)"

# ---------------------------------------------------------------- install + README
pk_install "$DEST" "${FILES[@]}" truth.json
if [ "$DEST" != "$HERE/recon" ]; then exit 0; fi
T="$DEST/truth.json"
P="$TMP/pkr.py"
jq_num() { python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); print(eval(sys.argv[2], {"t": t, "F": t["files"]}))' "$T" "$1"; }
# everything computed first: a failing command substitution inside the heredoc would go unnoticed
TABLES=$(python3 "$P" tables "$T")
COMMANDS=$(python3 "$P" commands "$T")
HTTP_FACTS=$(python3 "$P" facts "$T" http)
SMB_FACTS=$(python3 "$P" facts "$T" smb)
DNS_FACTS=$(python3 "$P" facts "$T" dns)
SV_SERVICES=$(jq_num '", ".join(str(s["port"]) + " " + s["service"] for s in F["nmap-sv.pcap"]["facts"]["nmap_services"])')
NSE_ON80=$(jq_num 'sum(v for k, v in F["nmap-nse-http.pcap"]["facts"]["http"]["request_lines"].items() if k.endswith(":80"))')
RB_QUERIES=$(jq_num 'F["resolver-benign.pcap"]["facts"]["dns"]["queries_total"]')
BRUTE_FOUND=$(jq_num '", ".join(sorted({l.split()[0].split(".")[0] for l in F["dns-brute.pcap"]["facts"]["nmap_script_output"]["dns-brute"].splitlines() if " - " in l}))')
{
cat <<EOF
# Recon test captures

Made by [\`../make-recon.sh\`](../make-recon.sh) (\`sudo bash pcaps/make-recon.sh\`, root, about 1.5 minutes;
overwrites the captures here, [\`truth.json\`](truth.json) and this README). Real tools against real daemons, in
network namespaces of their own; issue 5's probe and DNS-recon detectors are tested against them. truth.json
says per file what picket should raise (rule id and tool) and holds the facts tshark decodes.

## Setup

Three network namespaces, two veth pairs, no default route anywhere, IPv4 only, no forwarding:

| namespace | link | MAC | addresses | routes |
| --- | --- | --- | --- | --- |
| \`pkr-tg-PID\` (servers) | veth0 | 02:90:00:00:00:01 | 10.90.0.1/24, 198.18.0.1/24 | connected only |
| | veth1 | 02:91:00:00:00:01 | 10.90.1.1/24 | connected only |
| \`pkr-sc-PID\` (scanner) | veth0 | 02:90:00:00:00:66 | 198.18.0.66/24 (masscan: 198.18.0.67, held by no kernel) | 10.90.0.0/24 via 198.18.0.1 |
| \`pkr-cl-PID\` (LAN clients) | veth1 | 02:91:00:00:00:10 | 10.90.1.10, .11, .12 (workstations), .25 (mail relay) /24 | 10.90.0.0/24 via 10.90.1.1 |

As in [\`../scans/\`](../scans/README.md), the scanner (RFC 2544 range) is outside RFC 1918 and the servers are
inside it: every probe here is inbound. The LAN clients reach the resolver through veth1, which is captured
separately (\`resolver-benign.pcap\`); everything else is captured on the servers' veth0. In the scanner and client
namespaces /etc/resolv.conf points at 10.90.0.1 (bind-mounted from /etc/netns/<ns>/ for the run), so nmap's and
glibc's lookups go nowhere else.

Services on 10.90.0.1 (the script checks with \`ss\` that exactly these listen):

* TCP 80: \`python3 -m http.server\` (a small site: index.html, about.html, css/js/png, robots.txt; real 404s).
* TCP 8080: the same files through an \`http.server\` handler whose 404s are soft (200 and a fixed "not found"
  page, as many web applications answer): NSE's 404 detection sends all three of its check paths only to such a
  server.
* TCP 3389: a stub that answers an X.224 Connection Request (TPKT version 3) with the Connection Confirm and
  RDP_NEG_RSP a Windows 10 host sends (the bytes of nmap's own \`ms-wbt-server\` match), then closes.
* TCP 139, 445: Samba \`smbd\` (own smb.conf, every directory in the temp dir): workgroup PICKETLAB, NetBIOS name
  FILESRV, \`server min protocol = NT1\` (SMB1 on, so NSE gets Native OS strings), \`map to guest = Bad User\`,
  one read-only guest share \`share\` holding \`report.txt\`. No nmbd: UDP 137 is closed.
* TCP/UDP 53: BIND \`named\` (\`named -g -n 1 -c CONF\`, own config and working dir in the temp dir), authoritative
  for \`.\` (so every name is answered from local data and nothing is ever looked up elsewhere), \`corp.test\`,
  \`example-shop.test\`, \`cdn.test\` (40 edge hosts), \`news.test\`, \`mailhost.test\`, \`partner.test\`,
  \`senders.test\` (forward names of the mail relay's peers), \`example.org\`, \`0.90.10.in-addr.arpa\` (PTRs for
  .1, .5, .25, .30 only) and \`in-addr.arpa\` (PTRs for the mail relay's peers); recursion on (answers carry RA, as
  from a LAN resolver), \`allow-transfer { none; }\`, \`notify no\`, no control channel, DNSSEC validation off.

Captures: \`tcpdump -U --immediate-mode -s 0\` in the server namespace, no filter (ARP included) except in
\`masscan-banners.pcap\` (see below), stopped with SIGINT 1.5 s after the last command; the script fails on any
kernel drop. Ethernet link type. Segmentation offloads are off on every veth end (frames are wire-sized).

## Files

$(sed '/^### Signature strings/,$d' <<<"$TABLES")

Commands (in the scanner namespace unless the client namespace is needed; each under \`timeout\`; \$TMP is the
script's temporary directory):

$COMMANDS

What each shows:

* \`nmap-sv.pcap\`: a SYN scan of 80, 8080, 3389, then version detection. To the HTTP ports: the GetRequest probe
  (\`GET / HTTP/1.0\`, no headers), then the NSE scripts of the \`version\` category that \`-sV\` runs by itself:
  vmware-version (\`POST /sdk\`), hnap-info (\`/HNAP1\`), http-trane-info (\`/evox/about\`) and the 404 check of
  NSE's HTTP library, all with NSE's User-Agent. To 3389: after the NULL probe's wait, nmap's TerminalServerCookie
  probe (\`Cookie: mstshash=nmap\`); the stub's answer matches and no other probe follows. nmap reports
  $SV_SERVICES.
* \`nmap-nse-http.pcap\`: http-title, http-headers, http-enum (its \`security\` fingerprints only, $NSE_ON80
  requests to port 80), hnap-info and http-trane-info; every request carries NSE's User-Agent.
* \`nmap-smb.pcap\`: smb-os-discovery, smb-protocols and smb2-security-mode over 445 (NSE prefers 445), then
  smb-os-discovery with only 139 scanned, so NSE opens a NetBIOS session (after an NBSTAT query to UDP 137, which
  gets ICMP port unreachable). SMB1 negotiates, SMB1 session setups as \`guest\` (first with NTLMv1 responses in
  the request itself, then with NTLMSSP), SMB2/3 negotiates of each dialect.
* \`smbclient-benign.pcap\`: ordinary smbclient (its own client smb.conf: workgroup PICKETLAB, NetBIOS name
  WS-ALICE, user alice without password, mapped to guest): \`ls\` + \`get report.txt\` on the share, the share list
  (\`-L\`) over 445 and over 139 (NetBIOS session), and one SMB1 session (\`-m NT1\`), whose Session Setup carries
  smbclient's own Native OS / LAN Manager (\`Unix\` / \`Samba\`). The benign counterpart of every SMB field above.
* \`dig-axfr.pcap\`: \`dig AXFR\` of corp.test and of 0.90.10.in-addr.arpa (over TCP, as dig always does for AXFR)
  and \`dig IXFR=1 +notcp\` of corp.test (over UDP); named answers REFUSED to each.
* \`nmap-axfr.pcap\`: NSE dns-zone-transfer for example.org (REFUSED) and for corp.test. NSE cuts the domain down
  to the label before the first TLD it knows (its own list of TLDs); \`test\` is not on it, so for corp.test it
  asks for the zone \`test\`, which named is not authoritative for (NOTAUTH).
* \`ptr-sweep.pcap\`: \`nmap -sL 10.90.0.0/24\`: nmap's resolver asks for the PTR of all 256 addresses (no packet to
  the addresses themselves); 4 have one, 252 get NXDOMAIN.
* \`ptr-sweep-dig.pcap\`: the same kind of sweep done with dig (\`-x\` for 10.90.0.1-64 from a batch file, as
  dnsrecon's reverse range does): 64 PTR queries, 4 answered, 60 NXDOMAIN.
* \`dns-brute.pcap\`: NSE dns-brute with its built-in list (nselib/data/vhosts-default.lst, 128 names) against
  corp.test, 4 threads: A and AAAA for each name plus the random-label wildcard checks; it finds the zone's names
  that are on its list ($BRUTE_FOUND), the rest are NXDOMAIN.
* \`scanner-ua.pcap\`: HTTP requests labelled request by request (table below): curl sending the User-Agents of
  scanners Debian does not package (zgrab2, nuclei, Nikto, Censys), the real sqlmap (boolean-blind tests of one
  parameter, \`--technique=B\`), then plain curl and wget with their own User-Agents (must raise nothing).
* \`http-benign.pcap\`: browser-like use: a Firefox User-Agent loading a page and its assets (favicon.ico 404), a
  conditional GET answered 304, \`wget -p\` (robots.txt, the page, its requisites), a \`curl -I\` and a plain curl.
* \`resolver-benign.pcap\`: the LAN using named as its resolver, $RB_QUERIES queries:
  * 10.90.1.10 (glibc through \`getent hosts\`: AAAA first, then A when there is no AAAA): 30 lookups of intranet and
    web names, most repeated, one typo (\`wwww.corp.test\`);
  * 10.90.1.11 (dig, browsing): four page loads, each resolving news.test / example-shop.test hosts and a
    handful of cdn.test edges (A + AAAA), one typo;
  * 10.90.1.12 (dig, a developer's machine): git / jira / wiki / sso polled eight times, one typo;
  * 10.90.1.25 (dig, the mail relay): for each of 31 SMTP peers in 28 different /24s (documentation, CGNAT and
    RFC 1918 ranges; no packet goes to them) the PTR, then the A record of the name it returned (forward-confirmed
    reverse DNS); 3 peers have no PTR (NXDOMAIN); SPF/DMARC TXT of sender domains; MX of three recipient domains
    and the A records of their exchangers, three times; one typo.

  Many distinct names under one parent (28 under senders.test, 13 under cdn.test) but nearly all NOERROR, and
  reverse lookups spread over /24s (at most 2 addresses in one): what dns.bruteforce and dns.ptr_sweep must not
  flag.
* \`masscan-banners.pcap\`: masscan's SYN scan of 80 and 8080 from 198.18.0.67, its user-space TCP handshake and
  its HTTP request (\`GET / HTTP/1.0\` with masscan's User-Agent) about 2 s after connecting (it waits for a server
  banner first); masscan does not acknowledge the server's FIN, so the server retransmits it until the end.

$(sed -n '/^### Signature strings/,$p' <<<"$TABLES")

## HTTP details

$HTTP_FACTS

## SMB details (tshark fields)

nbss.calling_name / nbss.called_name of NetBIOS session requests, smb.dialect.name of SMB1 Negotiate requests,
smb2.dialect of SMB2 Negotiate requests, smb.native_os / smb.native_lanman of SMB1 Session Setup AndX (client and
server side), ntlmssp.auth.hostname / .domain / .username of NTLMSSP AUTHENTICATE, tree connect paths:

$SMB_FACTS

## DNS details (tshark fields)

Per client: queries (dns.flags.response == 0), qtypes, rcodes of the answers it got, distinct query names, the
reverse names' addresses and /24s, and the parent (last two labels) with the most distinct names under it (how
many of those got NXDOMAIN):

$DNS_FACTS

## Tool traits seen here (and where they differ from what one would expect)

* NSE's HTTP library User-Agent is \`Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)\`
  (nselib/http.lua, overridable with \`http.useragent\`); nmap -sV's own probes (GetRequest, and FourOhFourRequest
  \`GET /nice%20ports%2C/Tri%6Eity.txt%2ebak\` when GetRequest does not identify the service, which it did here so
  that probe is not in these captures) carry no User-Agent and no Host at all.
* \`-sV\` alone already sends NSE requests with that User-Agent: the \`version\`-category scripts (vmware-version,
  hnap-info, http-trane-info) and the 404 check they trigger.
* NSE's 404 check (\`http.identify_404\`) requests \`/nmaplowercheck<unix time>\` and, only when that answers 200,
  \`/NmapUpperCheck<time>\` and \`/Nmap/folder/check<time>\`; the suffix is the scanning host's clock. Against the
  soft-404 server http-enum then stops (it exits when every URI answers 200), so port 8080 gets the three check
  paths and no fingerprint paths. \`/HNAP1\` and \`/evox/about\` are not part of the 404 check: they are hnap-info's
  and http-trane-info's own requests.
* RDP: TerminalServerCookie has rarity 7 (the default intensity) and lists ports 3388, 3389, so plain \`-sV\` sends it
  to 3389: TPKT + X.224 CR whose routing cookie is \`Cookie: mstshash=nmap\r\n\`, followed by an RDP_NEG_REQ
  (requestedProtocols 3: TLS and CredSSP).
* NSE SMB: NetBIOS calling name \`NMAP\` (upper case, suffix 0x20), called name \`*SMBSERVER\` (no name from NBSTAT);
  SMB1 Negotiate offers \`NT LM 0.12\` and an empty dialect string (nselib/smb.lua packs both); Native OS \`Nmap\`
  and Native LAN Manager \`Native Lanman\`, in ASCII (the request does not set the Unicode flag); the NTLMSSP
  AUTHENTICATE workstation is \`nmap\` in lower case (UTF-16LE), its domain the server's name (FILESRV) and its user
  \`guest\`. smbclient: calling name \`WS-ALICE<00>\`, called name the address (\`10.90.0.1<20>\`), NTLMSSP workstation
  \`WS-ALICE\`, domain PICKETLAB, user alice; its SMB1 Session Setup says \`Unix\` / \`Samba\`.
* NSE dns-zone-transfer: query ID 0xdead (a constant in the script), RD clear, no EDNS; the domain is cut to its "registered" part
  with NSE's own TLD list (corp.test becomes \`test\`). dig: AXFR over TCP with AD set and an EDNS cookie;
  IXFR carries the SOA with the given serial in the authority section, RD and AD clear.
* nmap's resolver (\`-sL\`, dns-brute): RD set, no EDNS, no AD. dig (ordinary queries): RD, AD and an EDNS cookie.
  glibc (getent): RD, no EDNS.
* masscan 1.3.2 says \`masscan/1.3\` in its User-Agent, not the full version.
* Every trait above agrees with the tools' sources of these versions (nmap 7.93: nselib/http.lua, smb.lua,
  smbauth.lua, scripts/dns-zone-transfer.nse, http-enum.nse, nmap-service-probes; masscan 1.3.2: the fixed HTTP
  request in its proto-http.c); none was found to differ. What may surprise
  is listed here: \`-sV\` alone carries NSE's User-Agent, the 404-check paths beyond the first need a soft-404
  server, http-enum gives up on such a server, dns-zone-transfer's TLD cut, the empty SMB1 dialect, the two
  spellings (\`NMAP\` / \`nmap\`) of NSE's SMB client name.

## truth.json

\`rules\`: the rule ids. \`network\`: addresses, MACs, services, zones. \`signatures\`: the byte strings above (hex
and escaped text). \`versions\`: every tool's version (\`--version\` / \`-v\`). \`files.<name>\`: \`kind\`, \`tool\`,
\`versions\` (of the tools that made this file), \`client\` (a list for resolver-benign.pcap), \`server\`, \`benign\`,
\`expect\` (\`[{rule, tool}]\`, empty for benign files), \`commands\` (\`[{tool, command}]\`, in order), \`packets\`,
\`bytes\`, \`facts\` (\`http\`: requests, User-Agents, request lines, response codes, NSE 404-check paths, for
scanner-ua.pcap each request with \`ua_tool\`, \`sent_by\` and \`expect\`; \`rdp_cookies\`, \`probes_to_3389\`,
\`nmap_services\`; \`smb\`: the fields above; \`dns\`: per client counts, header bits, reverse blocks, parents, and
the zone transfer requests with their answers; \`nmap_script_output\`; \`masscan_list\`), \`signatures_found\` (per
signature id: frames holding it, first frame and offset). A skipped file or part has \`skipped\` /
\`skipped_parts\` (the reason).

The script checks, and fails otherwise: Ethernet link type, each file < 300 KB, only the script's MACs and
IPv4 addresses (ARP and ICMP-quoted headers included), no IPv6; every expected signature present and no signature
in a file it does not belong to (none at all in benign files); and per file the decoded facts above (RDP cookie,
nmap's service results, the 404-check paths, NetBIOS / Native OS / NTLMSSP names, transfer qtypes, transports and
rcodes, 256 / 64 reverse names in one /24, dns-brute's 100+ names under corp.test mostly NXDOMAIN and its finds,
resolver-benign's clients, NXDOMAIN ratio <= 0.1, at most 2 reverse addresses per /24, every scanner-ua request
labelled, http-benign's User-Agents and response codes).

## Skipped / workarounds

EOF
pk_skipped_md "* Nothing was skipped: masscan --banners works on the veth, sqlmap is installed."
cat <<'EOF'
* masscan needs `--adapter veth0 --router-mac 02:90:00:00:00:01` (raw frames, no default route) and
  `--source-ip 198.18.0.67`, an address no kernel holds (masscan answers ARP for it; otherwise the scanner's
  kernel would RST the SYN-ACKs of masscan's own TCP stack). Its receive thread (libpcap, TPACKET_V3) sleeps until
  a frame arrives and its TCP timers run from that thread, so on a quiet veth the HTTP request never goes out: a
  background tick (one UDP datagram from 10.90.0.1 to 198.18.0.66:9 every 100 ms, read by a listener there) keeps
  frames coming, and the capture filter `not udp port 9` leaves it out. The capture is the last one on veth0: the
  server's FIN retransmissions to 198.18.0.67 would otherwise land in the next file.
* wget runs with `--no-http-keep-alive`: http.server answers HTTP/1.0 and closes, and wget sometimes sent a second
  request onto the closing connection (exit 4).
* sqlmap is not in scripts/ensure-tools.sh's list yet; without it scanner-ua.pcap has no sqlmap requests and
  truth.json says so (`skipped_parts`).
EOF
pk_versions_md nmap bind9 bind9-dnsutils samba smbclient masscan sqlmap curl wget tcpdump tshark libc-bin iproute2
} >"$DEST/README.md"
say "wrote $DEST/README.md"
