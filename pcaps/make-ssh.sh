#!/usr/bin/env bash
# pcaps/make-ssh.sh - build small, REAL captures of SSH clients talking to a real OpenSSH server: nmap's SSH NSE
# scripts and version detection, other scanner-like clients (hydra through libssh, a paramiko client), and benign
# clients (OpenSSH's own ssh, curl's SFTP through libssh2).  For picket's SSH analyzer (it reports the RFC 4253
# identification strings, "SSH-protoversion-softwareversion SP comments CR LF", of both sides) and for the
# probe.scanner_ssh signatures in rules/signatures.yaml.
#
#   sudo bash pcaps/make-ssh.sh               (root is required; runnable from any cwd; about 1 minute)
#   PKSSH_DEST=/tmp/x bash pcaps/make-ssh.sh   (write the captures + truth.json there instead; no README then)
#   PKSSH_KEEP_TMP=1 ...                        (keep the temp dir: sshd's log, the tools' output, nmap XML)
#
# apt: openssh-server openssh-client nmap curl tcpdump tshark iproute2 ethtool python3 procps
#   optional: hydra (hydra-ssh.pcap), python3-paramiko (paramiko-ssh.pcap); when one is missing, that capture is
#   skipped and README.md / truth.json say why.
#
# Two network namespaces made here, one veth pair, IPv4 only, no default route, so nothing can leave them:
#   pks-sshs-PID  server   veth0 02:92:00:00:00:01  10.92.0.1/24: sshd (Debian's openssh-server binary run as
#                                                   `sshd -D -e -f <own config>`, host keys made in the temp dir;
#                                                   no system service is started or touched)
#   pks-sshc-PID  clients  veth0 02:92:00:00:00:66  10.92.0.66/24 (the scanner: primary address, so the source of
#                                                   every tool not told otherwise), 10.92.0.10/24 (a workstation:
#                                                   the benign clients bind to it)
# The names start with "pks-" so that the leftover-namespace check of test/make-pcaps.test.ts covers them too.
# Captures: tcpdump in the server namespace on veth0 with the filter `tcp port 22`: only SSH connections (no ARP).
#
# Output (in $PKSSH_DEST, default pcaps/ssh/; overwritten): the .pcap files in FILES below, truth.json (tool,
# versions, commands, expected alerts, the banners tshark decodes per connection), README.md (default destination
# only).  Outside the temp dir the script writes only /etc/netns/<ns>/ (resolv.conf, removed on exit) and, when it
# is missing, /run/sshd (sshd's compiled-in privilege separation directory; removed on exit when made here and no
# sshd is left running).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$HERE/lib.sh"
DEST=${PKSSH_DEST:-$HERE/ssh}
NSS="pks-sshs-$$"       # server namespace
NSC="pks-sshc-$$"       # client namespace
pk_init make-ssh.sh PKSSH_KEEP_TMP "$NSC" "$NSS"

SERVER=10.92.0.1
SCANNER=10.92.0.66
WORKSTATION=10.92.0.10
SRV_MAC=02:92:00:00:00:01
CLI_MAC=02:92:00:00:00:66
FILES=(nmap-ssh-hostkey.pcap nmap-ssh2-enum-algos.pcap nmap-ssh-auth-methods.pcap nmap-sshv1.pcap nmap-sv-ssh.pcap
       hydra-ssh.pcap paramiko-ssh.pcap scanner-banners.pcap ssh-benign.pcap curl-sftp-benign.pcap)
# Debian's python3-paramiko is installed for /usr/bin/python3; a python3 earlier on PATH (pyenv, venv) may not see it.
PYDEB=/usr/bin/python3

# /run/sshd: sshd 9.2 refuses to start without it (the preauth child chroots there).  Debian's service makes it at
# boot; no service runs here, so make it when missing and take it away again on exit.
MADE_RUN_SSHD=0
ssh_exit() {  # EXIT trap: stop sshd before /run/sshd goes, then lib.sh's cleanup (with the script's exit status)
    local rc=$?
    set +e
    [ -n "${SSHD_PID:-}" ] && pk_stop_pids "$SSHD_PID"
    # rmdir only when empty and no sshd at all is left (another run of this script may be using it)
    if [ "$MADE_RUN_SSHD" = 1 ] && ! pgrep -x sshd >/dev/null; then rmdir /run/sshd 2>/dev/null; fi
    (exit "$rc")
    pk_cleanup
}
trap ssh_exit EXIT

# ---------------------------------------------------------------- preflight
pk_preflight ip ethtool tcpdump tshark capinfos nmap sshd ssh ssh-keygen curl python3 ss timeout sysctl pgrep env
SSHD=$(command -v sshd)   # sshd re-executes itself for each connection and insists on an absolute path
pk_make_tmp pkssh xml dl
: >"$TMP/cmds.tsv"      # file <TAB> tool <TAB> command, for truth.json
: >"$TMP/skipped.tsv"   # file <TAB> reason
K="$TMP/sshd"
mkdir -m 700 "$K"
if [ ! -d /run/sshd ]; then mkdir -m 755 /run/sshd; MADE_RUN_SSHD=1; fi

# ---------------------------------------------------------------- namespaces
say "namespaces $NSC (scanner $SCANNER, workstation $WORKSTATION) / $NSS (sshd on $SERVER:22)"
pk_netns_up --ipv4 "$NSC" "$NSS"    # IPv4 only: no IPv6 link-local, ND or MLD chatter
pk_veth veth0 "$NSC" "$CLI_MAC" "$NSS" "$SRV_MAC"
for ns in "$NSC" "$NSS"; do ip netns exec "$ns" sysctl -qw net.ipv6.conf.veth0.disable_ipv6=1; done
ip -n "$NSS" addr add "$SERVER/24" dev veth0
ip -n "$NSC" addr add "$SCANNER/24" dev veth0          # first: the primary address, every tool's default source
ip -n "$NSC" addr add "$WORKSTATION/24" dev veth0      # second: secondary, used only where a client binds to it
# No segmentation offloads: frames are wire-sized (a KEXINIT or an SFTP read is not one 64 KB super-frame).
for ns in "$NSC" "$NSS"; do pk_no_offloads "$ns" veth0; ip -n "$ns" link set veth0 up; done

# Safety: no routes beyond the connected /24, only our addresses and links.
pk_check_netns --no-ipv6 '^(127\.0\.0\.1/8|10\.92\.0\.(1|10|66)/24)$' "$NSC" "$NSS"
[ "$(pk_links "$NSC")" = "lo veth0 " ] && [ "$(pk_links "$NSS")" = "lo veth0 " ] \
    || die "unexpected links: $NSC: $(pk_links "$NSC"); $NSS: $(pk_links "$NSS")"
[ "$(pk_routes "$NSC")" = "10.92.0.0/24 dev veth0 proto kernel scope link src $SCANNER;" ] \
    || die "unexpected client routes: $(pk_routes "$NSC")"
[ "$(pk_routes "$NSS")" = "10.92.0.0/24 dev veth0 proto kernel scope link src $SERVER;" ] \
    || die "unexpected server routes: $(pk_routes "$NSS")"
# Every tool here is given IP addresses and nmap runs with -n, so nothing should resolve a name; should one try
# anyway, its query goes to the namespace's own loopback (nothing listens there), never to the host's resolver.
for ns in "$NSC" "$NSS"; do pk_netns_etc "$ns" 127.0.0.1 '127.0.0.1 localhost'; done

# ---------------------------------------------------------------- sshd (server namespace)
# Host keys of the three kinds ssh-hostkey asks for (ssh-dss is gone from OpenSSH 9.2), and one client key that the
# server accepts for root (the benign clients log in with it).
for t in ed25519 ecdsa rsa; do
    ssh-keygen -q -t "$t" $([ "$t" = rsa ] && echo -b 2048) -N '' -C "picket-test-host-$t" -f "$K/host_$t"
done
ssh-keygen -q -t ed25519 -N '' -C picket-test-client -f "$K/client_ed25519"
cp "$K/client_ed25519.pub" "$K/authorized_keys"
chmod 600 "$K/authorized_keys"
printf 'picket sftp test file\n' >"$K/sftp-file.txt"
cat >"$K/sshd_config" <<EOF
# sshd for make-ssh.sh: one address, every file in the temp dir, no PAM, no DNS, log to stderr (-e), no syslog.
ListenAddress $SERVER:22
AddressFamily inet
HostKey $K/host_ed25519
HostKey $K/host_ecdsa
HostKey $K/host_rsa
PidFile $K/sshd.pid
AuthorizedKeysFile $K/authorized_keys
# The temp dir is below /tmp (mode 1777), whose permissions StrictModes rejects for an AuthorizedKeysFile.
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
# Password authentication on, so that scanners see "password" among the methods and hydra's attempts are real
# password attempts (they all fail: the users do not exist, and root may not log in with a password).
PasswordAuthentication yes
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTunnel no
PrintMotd no
PrintLastLog no
LogLevel VERBOSE
Subsystem sftp internal-sftp
EOF
"$SSHD" -t -f "$K/sshd_config" || die "sshd_config does not parse"
say "starting sshd on $SERVER:22"
pk_spawn "$NSS" 300 "$TMP/sshd.log" "$SSHD" -D -e -f "$K/sshd_config"
SSHD_PID=$!
pk_wait_listeners "$NSS" "$SERVER:22 " "" 100 \
    || { cat "$TMP/sshd.log" >&2; die "sshd listens on TCP '$(pk_listening "$NSS" t)', want '$SERVER:22 '"; }
[ -z "$(pk_listening "$NSC" t)$(pk_listening "$NSC" u)" ] || die "something listens in $NSC"

# ---------------------------------------------------------------- capture and run helpers
tcap() { pk_tcap "$NSS" 120 veth0 8192 "$1" tcp port 22; }     # out-file: only the SSH connections
cap_stop() { pk_cap_stop "$1"; say "  $PK_CAP_GOT packets -> $(basename "$1")"; }   # out-file
run() {  # [-ok "RC..."] file tool seconds cmd...: run in the client namespace, bounded; dies on another status
    local ok=0 f tool secs rc
    if [ "$1" = -ok ]; then ok=$2; shift 2; fi
    f=$1 tool=$2 secs=$3; shift 3
    pk_note_cmd "$f" "$tool" "$(pk_shq "$@")"
    echo "== [$f] $(pk_shq "$@")" >>"$LOG"
    rc=0; pk_run "$NSC" "$secs" "$@" || rc=$?
    case " $ok " in *" $rc "*) ;; *) tail -20 "$LOG" >&2; die "$f: '$*' exited $rc (want $ok)" ;; esac
}
NMAP=(nmap -n -Pn -p22)   # -n: no reverse DNS; -Pn: the host is known to be up (no ping probes in the capture)

# ---------------------------------------------------------------- 1. nmap NSE ssh-hostkey
# ssh-hostkey first asks for an SSH-1 key (nselib/ssh1.lua), then one SSH-2 key exchange per key type
# (nselib/ssh2.lua): one connection each, with the two NSE banners.
say "capture nmap-ssh-hostkey.pcap (NSE ssh-hostkey)"
tcap "$OUT/nmap-ssh-hostkey.pcap"
run nmap-ssh-hostkey.pcap nmap 60 "${NMAP[@]}" --script ssh-hostkey -oX "$TMP/xml/nmap-ssh-hostkey.xml" "$SERVER"
cap_stop "$OUT/nmap-ssh-hostkey.pcap"

# ---------------------------------------------------------------- 2. nmap NSE ssh2-enum-algos
say "capture nmap-ssh2-enum-algos.pcap (NSE ssh2-enum-algos)"
tcap "$OUT/nmap-ssh2-enum-algos.pcap"
run nmap-ssh2-enum-algos.pcap nmap 60 "${NMAP[@]}" --script ssh2-enum-algos -oX "$TMP/xml/nmap-ssh2-enum-algos.xml" "$SERVER"
cap_stop "$OUT/nmap-ssh2-enum-algos.pcap"

# ---------------------------------------------------------------- 3. nmap NSE ssh-auth-methods (libssh2)
# This script talks SSH through libssh2 (nselib/libssh2-utility.lua), so its banner is libssh2's, not nmap's own.
if [ -e /usr/share/nmap/scripts/ssh-auth-methods.nse ]; then
    say "capture nmap-ssh-auth-methods.pcap (NSE ssh-auth-methods, through libssh2)"
    tcap "$OUT/nmap-ssh-auth-methods.pcap"
    run nmap-ssh-auth-methods.pcap nmap 60 "${NMAP[@]}" --script ssh-auth-methods \
        -oX "$TMP/xml/nmap-ssh-auth-methods.xml" "$SERVER"
    cap_stop "$OUT/nmap-ssh-auth-methods.pcap"
else
    pk_skip nmap-ssh-auth-methods.pcap "this nmap has no ssh-auth-methods.nse"
fi

# ---------------------------------------------------------------- 4. nmap NSE sshv1 (a "default" script: -sC runs it)
say "capture nmap-sshv1.pcap (NSE sshv1)"
tcap "$OUT/nmap-sshv1.pcap"
run nmap-sshv1.pcap nmap 60 "${NMAP[@]}" --script sshv1 -oX "$TMP/xml/nmap-sshv1.xml" "$SERVER"
cap_stop "$OUT/nmap-sshv1.pcap"

# ---------------------------------------------------------------- 5. nmap -sV
say "capture nmap-sv-ssh.pcap (nmap -sV: service detection reads the banner)"
tcap "$OUT/nmap-sv-ssh.pcap"
run nmap-sv-ssh.pcap nmap 90 "${NMAP[@]}" -sV -oX "$TMP/xml/nmap-sv-ssh.xml" "$SERVER"
cap_stop "$OUT/nmap-sv-ssh.pcap"

# ---------------------------------------------------------------- 6. hydra (libssh)
# THC Hydra's ssh module (libssh): one user, three passwords, one task.  Run in the temp dir: hydra writes
# ./hydra.restore when it is interrupted.
if command -v hydra >/dev/null; then
    printf '%s\n' 123456 'Winter2024!' admin >"$TMP/passwords.txt"
    say "capture hydra-ssh.pcap (hydra ssh module, user admin, 3 passwords)"
    tcap "$OUT/hydra-ssh.pcap"
    run hydra-ssh.pcap hydra 60 env -C "$TMP" hydra -I -t 1 -l admin -P "$TMP/passwords.txt" -o "$TMP/hydra.out" \
        "ssh://$SERVER"
    cap_stop "$OUT/hydra-ssh.pcap"
else
    pk_skip hydra-ssh.pcap "hydra is not installed (Debian package hydra)"
fi

# ---------------------------------------------------------------- 7. paramiko
# What scanners and brute forcers built on paramiko do: key exchange (host key), the offered authentication
# methods (a "none" request), one password attempt, close.
cat >"$TMP/paramiko-probe.py" <<'PY'
"""A paramiko client doing what scanners built on paramiko do: key exchange (host key), the authentication methods
(a "none" request), one password attempt, close.  argv: server port user password seconds."""
import socket, sys
import paramiko

server, port, user, password, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5])
sock = socket.create_connection((server, port), timeout=secs)
t = paramiko.Transport(sock)
t.banner_timeout = t.auth_timeout = secs
t.start_client(timeout=secs)
key = t.get_remote_server_key()
print("local version:", t.local_version)
print("remote version:", t.remote_version)
print("host key:", key.get_name(), key.get_fingerprint().hex())
try:
    t.auth_none(user)
except paramiko.BadAuthenticationType as e:
    print("methods:", ",".join(e.allowed_types))
try:
    t.auth_password(user, password)
    print("password accepted")
except paramiko.AuthenticationException as e:
    print("password rejected:", e)
t.close()
PY
if "$PYDEB" -c 'import paramiko' 2>/dev/null; then
    say "capture paramiko-ssh.pcap (paramiko: host key, auth methods, one password attempt)"
    tcap "$OUT/paramiko-ssh.pcap"
    run paramiko-ssh.pcap paramiko 30 "$PYDEB" "$TMP/paramiko-probe.py" "$SERVER" 22 admin 'Winter2024!' 10
    cap_stop "$OUT/paramiko-ssh.pcap"
    grep -q '^password rejected' "$LOG" || die "paramiko-ssh.pcap: the paramiko client did not get as far as a password attempt"
else
    pk_skip paramiko-ssh.pcap "paramiko is not importable by $PYDEB (Debian package python3-paramiko)"
fi

# ---------------------------------------------------------------- 8. scanner-banners.pcap (python3 sending them)
# Banners of scanner builds Debian does not ship, sent by a python3 socket client (as scanner-ua.pcap in recon/
# does with curl and User-Agents), one connection each: read the server's line, send the banner, read the server's
# KEXINIT, close.  masscan's main branch (src/proto-ssh.c) and nmap with its bundled libssh2 (since 693a2606b) have
# signatures; zgrab2's default (SSH-2.0-Go, every golang.org/x/crypto/ssh client's too) has none.
SCANNER_BANNERS=('SSH-2.0-OPENSSH_7.9' 'SSH-2.0-libssh2_1.11.1_NMAP1' 'SSH-2.0-Go')
cat >"$TMP/send-banner.py" <<'PY'
"""Send one SSH identification string the way a banner-grabbing scanner does: connect, read the server's line,
send ours (CR LF), read what the server sends next (its KEXINIT), close.  argv: server port banner seconds."""
import socket, sys

server, port, banner, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
s = socket.create_connection((server, port), timeout=secs)
line = b""
while not line.endswith(b"\n"):
    chunk = s.recv(1)
    if not chunk:
        break
    line += chunk
s.sendall(banner.encode() + b"\r\n")
print("server:", line.decode(errors="replace").rstrip(), "| sent:", banner, "| then got", len(s.recv(4096)), "bytes")
s.close()
PY
say "capture scanner-banners.pcap (python3 sending masscan's, nmap-bundled libssh2's and zgrab2's banners)"
tcap "$OUT/scanner-banners.pcap"
for b in "${SCANNER_BANNERS[@]}"; do
    run scanner-banners.pcap "python3 as ${b#SSH-2.0-}" 15 python3 "$TMP/send-banner.py" "$SERVER" 22 "$b" 5
done
cap_stop "$OUT/scanner-banners.pcap"

# ---------------------------------------------------------------- 9. ssh-benign.pcap (OpenSSH client)
# An ordinary login with a key the server accepts, running a command; from the workstation address.  -F /dev/null
# and the known-hosts files on /dev/null: no system or user configuration, nothing written to ~/.ssh.
SSHC=(ssh -F /dev/null -b "$WORKSTATION" -i "$K/client_ed25519" -o IdentitiesOnly=yes -o BatchMode=yes
      -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null
      -o ConnectTimeout=5 -o LogLevel=ERROR)
say "capture ssh-benign.pcap (OpenSSH ssh with a key the server accepts: true, then echo)"
tcap "$OUT/ssh-benign.pcap"
run ssh-benign.pcap ssh 20 "${SSHC[@]}" "root@$SERVER" true
run ssh-benign.pcap ssh 20 "${SSHC[@]}" "root@$SERVER" echo picket-ssh-ok
cap_stop "$OUT/ssh-benign.pcap"
grep -qx picket-ssh-ok "$LOG" || die "ssh-benign.pcap: the ssh login did not run its command"

# ---------------------------------------------------------------- 10. curl-sftp-benign.pcap (libssh2)
# An ordinary SFTP download with curl, whose SSH is libssh2: the same library banner as nmap's ssh-auth-methods.
# -k: no known_hosts check (SFTP); -u root: with an empty key passphrase.
say "capture curl-sftp-benign.pcap (curl sftp:// download, libssh2)"
tcap "$OUT/curl-sftp-benign.pcap"
run curl-sftp-benign.pcap curl 20 curl -sS --max-time 10 -k --interface "$WORKSTATION" -u root: \
    --key "$K/client_ed25519" --pubkey "$K/client_ed25519.pub" -o "$TMP/dl/sftp-file.txt" "sftp://$SERVER$K/sftp-file.txt"
cap_stop "$OUT/curl-sftp-benign.pcap"
cmp -s "$TMP/dl/sftp-file.txt" "$K/sftp-file.txt" || die "curl-sftp-benign.pcap: curl did not fetch the file"

# ---------------------------------------------------------------- versions, truth.json, verification
say "truth.json and verification (tshark)"
dpkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true; }
{
    printf 'nmap\t%s\n' "$(nmap --version | sed -n 's/^Nmap version \([^ ]*\).*/\1/p')"
    printf 'nmap_deb\t%s\n' "$(dpkgver nmap)"
    printf 'openssh-server_deb\t%s\n' "$(dpkgver openssh-server)"
    printf 'openssh-client_deb\t%s\n' "$(dpkgver openssh-client)"
    # ssh -V prints its software version and comment exactly as they go into the banner ("OpenSSH_9.2p1 Debian-...")
    printf 'ssh\t%s\n' "$(ssh -V 2>&1 | sed 's/,.*//')"
    printf 'libssh2-1_deb\t%s\n' "$(dpkgver libssh2-1)"
    printf 'libssh-4_deb\t%s\n' "$(dpkgver libssh-4)"
    printf 'curl\t%s\n' "$(curl --version | awk 'NR == 1 {print $2}')"
    printf 'python3\t%s\n' "$(python3 --version | awk '{print $2}')"      # the first on PATH: send-banner.py
    printf 'python3_debian\t%s\n' "$("$PYDEB" --version | awk '{print $2}')"   # /usr/bin/python3: paramiko, truth.json
    printf 'tshark\t%s\n' "$(tshark --version 2>/dev/null | awk 'NR == 1 {print $3}')"
    printf 'tcpdump\t%s\n' "$(tcpdump --version 2>&1 | awk 'NR == 1 {print $3}')"
    if command -v hydra >/dev/null; then
        printf 'hydra\t%s\n' "$(hydra -h 2>&1 | sed -n '1s/^Hydra v\([^ ]*\).*/\1/p')"
        printf 'hydra_deb\t%s\n' "$(dpkgver hydra)"
    fi
    if "$PYDEB" -c 'import paramiko' 2>/dev/null; then
        printf 'paramiko\t%s\n' "$("$PYDEB" -c 'import paramiko; print(paramiko.__version__)')"
        printf 'python3-paramiko_deb\t%s\n' "$(dpkgver python3-paramiko)"
    fi
} >"$TMP/versions.tsv"

cp "$HERE/truthlib.py" "$TMP/truthlib.py"   # next to pkssh.py: importable by any python3 that runs it
cat >"$TMP/pkssh.py" <<'PY'
"""truth.json for make-ssh.sh (the identification strings of each connection as tshark decodes them, checked
against the raw bytes), its checks, and the README tables.  truthlib (pcaps/truthlib.py, copied next to this file):
what this shares with make-recon.sh's program."""
import collections, json, re
import xml.etree.ElementTree as ET

from truthlib import (SEP, Checks, capture_entry, counts, esc, files_table, main, md, nmap_scripts, read_tmp, truthy,
                      tshark, write_truth)

SERVER, SCANNER, WORKSTATION = "10.92.0.1", "10.92.0.66", "10.92.0.10"
OUR_ADDRS = {SERVER, SCANNER, WORKSTATION}
OUR_MACS = {"02:92:00:00:00:01", "02:92:00:00:00:66"}
DEPTH = 255   # RFC 4253 4.2: the identification string is at most 255 bytes; the signatures look that far

RULES = {"probe.scanner_ssh": "an SSH client identification string that names a scanner (rules/signatures.yaml)"}

# The probe.scanner_ssh signatures of rules/signatures.yaml, looked for as picket does: all needles in the first
# DEPTH bytes that the client sends on a connection to port 22.  (id, tool, sent here by, needles, what)
SIGNATURES = [
    ("nmap-ssh2-hostkey", "nmap", "nmap", [b"SSH-2.0-Nmap-SSH2-Hostkey"], "NSE ssh-hostkey, SSH-2 key exchanges (nselib/ssh2.lua)"),
    ("nmap-ssh1-hostkey", "nmap", "nmap", [b"SSH-1.5-Nmap-SSH1-Hostkey"], "NSE ssh-hostkey, SSH-1 host key request (nselib/ssh1.lua)"),
    ("nmap-ssh2-enum-algos", "nmap", "nmap", [b"SSH-2.0-Nmap_SSH2_Enum_Algos"], "NSE ssh2-enum-algos"),
    ("nmap-sshv1", "nmap", "nmap", [b"SSH-1.5-NmapNSE_1.0"], "NSE sshv1 (-sC)"),
    ("nmap-bundled-libssh2", "nmap", "python3", [b"SSH-2.0-libssh2_", b"_NMAP"], "NSE libssh2 scripts with nmap's bundled libssh2 (not Debian's nmap)"),
    ("masscan-ssh", "masscan", "python3", [b"SSH-2.0-OPENSSH_"], "masscan --banners, main branch (not masscan 1.3.2)"),
]

def upstream(deb):
    """1.10.0 for 1.10.0-3+b1, 9.2p1 for 1:9.2p1-2+deb12u10."""
    return re.sub(r"-[^-]*$", "", deb.split(":", 1)[-1])

def expected_banners(v):
    """The client identification strings this machine's tools send, from the installed versions."""
    return {
        "nmap-ssh2-hostkey": "SSH-2.0-Nmap-SSH2-Hostkey",
        "nmap-ssh1-hostkey": "SSH-1.5-Nmap-SSH1-Hostkey",
        "nmap-ssh2-enum-algos": "SSH-2.0-Nmap_SSH2_Enum_Algos",
        "nmap-sshv1": "SSH-1.5-NmapNSE_1.0",
        "libssh2": "SSH-2.0-libssh2_" + upstream(v["libssh2-1_deb"]),
        "libssh": "SSH-2.0-libssh_" + upstream(v["libssh-4_deb"]) if v.get("libssh-4_deb") else None,
        "paramiko": "SSH-2.0-paramiko_" + v["paramiko"] if v.get("paramiko") else None,
        "openssh": "SSH-2.0-" + v["ssh"],
    }

def spec(v):
    """What each file is, what picket should raise ((rule, tool); empty: nothing) and the client banners expected
    (banner -> connections).  'identified_by_banner': whether the banner alone names the tool."""
    b = expected_banners(v)
    return {
        "nmap-ssh-hostkey.pcap": dict(
            kind="nmap NSE ssh-hostkey: a banner check, one SSH-1 host key request, six SSH-2 key exchanges (one per key type)",
            tool="nmap", client=SCANNER, benign=False, identified_by_banner=True,
            expect=[("probe.scanner_ssh", "nmap")], signatures=["nmap-ssh1-hostkey", "nmap-ssh2-hostkey"],
            client_banners={b["nmap-ssh1-hostkey"]: 1, b["nmap-ssh2-hostkey"]: 6}),
        "nmap-ssh2-enum-algos.pcap": dict(
            kind="nmap NSE ssh2-enum-algos: banner and KEXINIT exchange", tool="nmap", client=SCANNER, benign=False,
            identified_by_banner=True, expect=[("probe.scanner_ssh", "nmap")], signatures=["nmap-ssh2-enum-algos"],
            client_banners={b["nmap-ssh2-enum-algos"]: 1}),
        "nmap-ssh-auth-methods.pcap": dict(
            kind="nmap NSE ssh-auth-methods through libssh2 (key exchange, a 'none' authentication request for a random user)",
            tool="nmap", client=SCANNER, benign=False, identified_by_banner=False, expect=[], signatures=[],
            client_banners={b["libssh2"]: 1},
            note="libssh2's own banner, the same bytes as curl's SFTP (curl-sftp-benign.pcap): nothing in the banner names nmap"),
        "nmap-sshv1.pcap": dict(
            kind="nmap NSE sshv1 (a default-category script: nmap -sC runs it): an SSH-1 banner, LF only",
            tool="nmap", client=SCANNER, benign=False, identified_by_banner=True,
            expect=[("probe.scanner_ssh", "nmap")], signatures=["nmap-sshv1"], client_banners={b["nmap-sshv1"]: 1}),
        "nmap-sv-ssh.pcap": dict(
            kind="nmap -sV: SYN scan, then the NULL probe reads the server banner; nmap sends no banner",
            tool="nmap", client=SCANNER, benign=False, identified_by_banner=False, expect=[], signatures=[],
            client_banners={},
            note="nmap sends no bytes at all on the connection: only the server's banner is there to report"),
        "hydra-ssh.pcap": dict(
            kind="THC Hydra ssh module (libssh): user admin, three passwords, one task", tool="hydra", client=SCANNER,
            benign=False, identified_by_banner=False, expect=[], signatures=[], client_banners={b["libssh"]: 2},
            note="libssh's default banner (hydra sets none): the same as any libssh client's"),
        "paramiko-ssh.pcap": dict(
            kind="paramiko client: key exchange (host key), the authentication methods, one password attempt",
            tool="paramiko", client=SCANNER, benign=False, identified_by_banner=False, expect=[], signatures=[],
            client_banners={b["paramiko"]: 1},
            note="paramiko's default banner, as Ansible and other paramiko programs send it"),
        "scanner-banners.pcap": dict(
            kind="python3 sending scanners' banners, one connection each: masscan (main branch), nmap with its bundled "
                 "libssh2, zgrab2 (SSH-2.0-Go, also every golang.org/x/crypto/ssh client's)",
            tool="python3", client=SCANNER, benign=False, identified_by_banner=True,
            expect=[("probe.scanner_ssh", "masscan"), ("probe.scanner_ssh", "nmap")],
            signatures=["masscan-ssh", "nmap-bundled-libssh2"],
            client_banners={"SSH-2.0-OPENSSH_7.9": 1, "SSH-2.0-libssh2_1.11.1_NMAP1": 1, "SSH-2.0-Go": 1},
            note="sent by python3, not by the scanners (Debian ships neither build); SSH-2.0-Go names no tool"),
        "ssh-benign.pcap": dict(
            kind="benign: OpenSSH ssh logging in with a key the server accepts and running a command, twice",
            tool="ssh", client=WORKSTATION, benign=True, identified_by_banner=False, expect=[], signatures=[],
            client_banners={b["openssh"]: 2}),
        "curl-sftp-benign.pcap": dict(
            kind="benign: curl downloading a file over SFTP (libssh2, key authentication)", tool="curl",
            client=WORKSTATION, benign=True, identified_by_banner=False, expect=[], signatures=[],
            client_banners={b["libssh2"]: 1}),
    }

def first_line(b):
    i = b.find(b"\n")
    return b[:i + 1] if i >= 0 else None

def connections(pcap):
    """One entry per TCP connection: who, the banners tshark decodes (ssh.protocol) per side, the raw first line
    of each side, HASSH / HASSHServer, bytes each way, and the server's text after its banner when it is text."""
    rows = tshark(pcap, "tcp", ["frame.number", "tcp.stream", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport",
                                "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset", "tcp.payload", "ssh.protocol",
                                "ssh.kex.hassh", "ssh.kex.hasshserver"])
    conns = collections.OrderedDict()
    for r in rows:
        s = int(r["tcp.stream"])
        to_server = r["tcp.dstport"] == "22"
        c = conns.setdefault(s, {"stream": s, "client": r["ip.src"] if to_server else r["ip.dst"],
                                 "client_port": int(r["tcp.srcport"] if to_server else r["tcp.dstport"]),
                                 "server": r["ip.dst"] if to_server else r["ip.src"], "server_port": 22,
                                 "_c": b"", "_s": b"", "client_banner": None, "server_banner": None,
                                 "hassh": None, "hassh_server": None, "syn_ack": False, "client_reset": False})
        if truthy(r["tcp.flags.syn"]) and truthy(r["tcp.flags.ack"]):
            c["syn_ack"] = True
        if to_server and truthy(r["tcp.flags.reset"]):
            c["client_reset"] = True
        if r["tcp.payload"]:
            c["_c" if to_server else "_s"] += bytes.fromhex(r["tcp.payload"].replace(":", ""))
        if r["ssh.protocol"]:
            c["client_banner" if to_server else "server_banner"] = r["ssh.protocol"].split(SEP)[0]
        if r["ssh.kex.hassh"]:
            c["hassh"] = r["ssh.kex.hassh"].split(SEP)[0]
        if r["ssh.kex.hasshserver"]:
            c["hassh_server"] = r["ssh.kex.hasshserver"].split(SEP)[0]
    out = []
    for c in conns.values():
        cb, sb = c.pop("_c"), c.pop("_s")
        cl, sl = first_line(cb), first_line(sb)
        c["client_line"] = esc(cl) if cl is not None else None
        c["server_line"] = esc(sl) if sl is not None else None
        c["client_bytes"], c["server_bytes"] = len(cb), len(sb)
        # what the server says right after its banner, when it is a line of text (OpenSSH to an SSH-1 client)
        rest = sb[len(sl):] if sl else b""
        m = re.match(rb"([ -~]{8,})\r?\n", rest)
        c["server_text_after_banner"] = m.group(1).decode() if m else None
        c["kind"] = ("half-open (SYN scan)" if c["client_reset"] and not cb and not sb else
                     "banner read, nothing sent" if sb and not cb else
                     "client sent a banner" if cl else "no data")
        c["_client_head"] = cb[:DEPTH]
        out.append(c)
    return out

def nmap_output(xml_path):
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return None
    out = nmap_scripts(root)
    for p in root.iter("port"):
        s = p.find("service")
        if s is not None and s.get("product"):
            out["service"] = " ".join(x for x in (s.get("name"), s.get("product"), s.get("version"), s.get("extrainfo")) if x)
    return out

def link_and_addrs(pcap):
    rows = tshark(pcap, "", ["eth.src", "eth.dst", "ip.src", "ip.dst", "ipv6.src", "tcp.srcport", "tcp.dstport"])
    return {"macs": {m for r in rows for m in (r["eth.src"], r["eth.dst"])},
            "addrs": {a for r in rows for a in (r["ip.src"], r["ip.dst"]) if a},
            "ipv6": sum(1 for r in rows if r["ipv6.src"]),
            "not_port_22": sum(1 for r in rows if "22" not in (r["tcp.srcport"], r["tcp.dstport"]))}

# Each tool's client identification string and where its source sets it (read for this script; README.md has the
# details).  Commits: nmap 7.93 = release merge 9732e6979e2d; libssh 0.10.6 = tag libssh-0.10.6; paramiko 2.12.0 =
# tag 2.12.0 (bbb8d57e917f); hydra 9.4 = tag v9.4; masscan 1.3.2 = tag 1.3.2, main = 2be4093b0526; zgrab2 main =
# e8fbc9eff230; golang.org/x/crypto main = 82adefa711cb; OpenSSH portable 9.2p1 = tag V_9_2_P1 (6dfb65de949c).
def banner_sources(v):
    b = expected_banners(v)
    return [
        {"tool": "nmap NSE ssh-hostkey (SSH-2)", "banner": b["nmap-ssh2-hostkey"], "names_tool": True,
         "source": "nmap/nmap nselib/ssh2.lua:214 fetch_host_key(), socket:send(\"SSH-2.0-Nmap-SSH2-Hostkey\\r\\n\") (nmap 7.93)",
         "seen": "nmap-ssh-hostkey.pcap, 6 connections (one per key type)"},
        {"tool": "nmap NSE ssh-hostkey (SSH-1)", "banner": b["nmap-ssh1-hostkey"], "names_tool": True,
         "source": "nmap/nmap nselib/ssh1.lua:78 fetch_host_key(), sent to every SSH server (nmap 7.93)",
         "seen": "nmap-ssh-hostkey.pcap, 1 connection; OpenSSH answers 'Protocol major versions differ.'"},
        {"tool": "nmap NSE ssh2-enum-algos", "banner": b["nmap-ssh2-enum-algos"], "names_tool": True,
         "source": "nmap/nmap scripts/ssh2-enum-algos.nse:169 (nmap 7.93)", "seen": "nmap-ssh2-enum-algos.pcap"},
        {"tool": "nmap NSE sshv1 (-sC)", "banner": b["nmap-sshv1"], "names_tool": True,
         "source": "nmap/nmap scripts/sshv1.nse:47 socket:send(\"SSH-1.5-NmapNSE_1.0\\n\"), LF only (nmap 7.93)",
         "seen": "nmap-sshv1.pcap"},
        {"tool": "nmap NSE libssh2 scripts (ssh-auth-methods, ssh-brute, ssh-publickey-acceptance, ssh-run), Debian's nmap",
         "banner": b["libssh2"], "names_tool": False,
         "source": "libssh2 include/libssh2.h LIBSSH2_SSH_BANNER \"SSH-2.0-libssh2_\" LIBSSH2_VERSION (nmap 7.93's bundled copy: "
                   "libssh2/include/libssh2.h:231, version 1.10.0; Debian's nmap links Debian's libssh2-1 " + v["libssh2-1_deb"] + ")",
         "seen": "nmap-ssh-auth-methods.pcap; the same bytes as curl-sftp-benign.pcap"},
        {"tool": "nmap NSE libssh2 scripts, nmap builds with the bundled libssh2 since commit 693a2606b",
         "banner": "SSH-2.0-libssh2_1.11.1_NMAP1", "names_tool": True,
         "source": "nmap/nmap libssh2/include/libssh2.h:51 LIBSSH2_VERSION \"1.11.1_NMAP1\" (commit 693a2606b678, "
                   "\"Backport patches for libssh2 CVEs. Bump version string.\"; in tag v7.991)",
         "seen": "scanner-banners.pcap (sent by python3)"},
        {"tool": "nmap -sV", "banner": None, "names_tool": False,
         "source": "nmap/nmap nmap-service-probes: Probe TCP NULL q|| (line 33) sends nothing and waits; the banner "
                   "matches 'match ssh m|^SSH-([\\d.]+)-OpenSSH_([\\w._-]+)[ -]{1,2}Debian[ -_]([^\\r\\n]+)\\r?\\n|' (line 3525, nmap 7.93)",
         "seen": "nmap-sv-ssh.pcap: no client bytes"},
        {"tool": "masscan 1.3.2 (Debian) --banners", "banner": None, "names_tool": False,
         "source": "robertdavidgraham/masscan src/proto-ssh.c banner_ssh = {\"ssh\", 22, 0, 0, 0, ...}: no hello; "
                   "it only parses the server's banner (tag 1.3.2)", "seen": "not captured"},
        {"tool": "masscan main branch --banners", "banner": "SSH-2.0-OPENSSH_7.9", "names_tool": True,
         "source": "robertdavidgraham/masscan src/proto-ssh.c:8 #define PAYLOAD_BANNER \"SSH-2.0-OPENSSH_7.9\\r\\n\", "
                   "sent by ssh_parse() after the server's first line (line 88), followed by a fixed KEXINIT "
                   "(main 2be4093b0526; merged in b246710, 2023-11-15; not in any release tag)",
         "seen": "scanner-banners.pcap (sent by python3)"},
        {"tool": "zgrab2 ssh module", "banner": "SSH-2.0-Go", "names_tool": False,
         "source": "zmap/zgrab2 modules/ssh.go:20 ClientID default:\"SSH-2.0-Go\"; lib/ssh/transport.go:286 "
                   "packageVersion = \"SSH-2.0-Go\" (main e8fbc9eff230)", "seen": "scanner-banners.pcap (sent by python3)"},
        {"tool": "zgrab (v1) xssh", "banner": "SSH-2.0-Go", "names_tool": False,
         "source": "zmap/zgrab ztools/xssh/flag.go: -xssh-client-id defaults to packageVersion, the x/crypto constant",
         "seen": "not captured"},
        {"tool": "Go golang.org/x/crypto/ssh clients", "banner": "SSH-2.0-Go", "names_tool": False,
         "source": "golang/crypto ssh/transport.go:305 const packageVersion = \"SSH-2.0-Go\"; ssh/client.go:123 uses it "
                   "when ClientConfig.ClientVersion is empty (main 82adefa711cb; the constant dates from 2013)",
         "seen": "not captured (zgrab2 sends the same)"},
        {"tool": "ZMap", "banner": None, "names_tool": False,
         "source": "zmap/zmap: a stateless probe sender (SYN for TCP); it completes no TCP handshake, so it never sends an "
                   "SSH banner (its SSH follow-up is zgrab/zgrab2)", "seen": "not captured (see ../scans/zmap.pcap)"},
        {"tool": "hydra ssh module (libssh)", "banner": b["libssh"], "names_tool": False,
         "source": "libssh include/libssh/priv.h:193 CLIENT_BANNER_SSH2 \"SSH-2.0-libssh_\" SSH_STRINGIFY(LIBSSH_VERSION) "
                   "(tag libssh-0.10.6; Debian libssh-4 " + (v.get("libssh-4_deb") or "?") + "); vanhauser-thc/thc-hydra "
                   "hydra-ssh.c sets only port, host, user, timeout and compression (ssh_options_set, lines 44-49, tag v9.4)",
         "seen": "hydra-ssh.pcap"},
        {"tool": "paramiko", "banner": b["paramiko"], "names_tool": False,
         "source": "paramiko/paramiko paramiko/transport.py:146-147 _PROTO_ID = \"2.0\", _CLIENT_ID = \"paramiko_{}\".format("
                   "paramiko.__version__); line 454 local_version = \"SSH-\" + _PROTO_ID + \"-\" + _CLIENT_ID (tag 2.12.0)",
         "seen": "paramiko-ssh.pcap"},
        {"tool": "curl SFTP/SCP (libssh2)", "banner": b["libssh2"], "names_tool": False,
         "source": "libssh2 LIBSSH2_SSH_BANNER, as above (Debian libssh2-1 " + v["libssh2-1_deb"] + ")",
         "seen": "curl-sftp-benign.pcap"},
        {"tool": "OpenSSH ssh (Debian)", "banner": b["openssh"], "names_tool": False,
         "source": "openssh/openssh-portable kex.c:1232 kex_exchange_identification(): \"SSH-%d.%d-%.100s%s%s\\r\\n\" with "
                   "SSH_VERSION (\"OpenSSH_9.2\", version.h) and the version addendum (tag V_9_2_P1); Debian's package "
                   "puts the portable release and its own revision there (\"OpenSSH_9.2p1 Debian-...\", DebianBanner)",
         "seen": "ssh-benign.pcap; every file's server banner (sshd sends the same string)"},
    ]

def build(out, tmp, truth_path):
    versions, cmds, skipped = read_tmp(tmp)
    files = {}
    for name, s in spec(versions).items():
        e = {"kind": s["kind"], "tool": s["tool"], "client": s["client"], "server": SERVER, "benign": s["benign"],
             "identified_by_banner": s["identified_by_banner"],
             "expect": [{"rule": r, "tool": t} for r, t in s["expect"]]}
        if "note" in s:
            e["note"] = s["note"]
        if name in skipped:
            e["skipped"] = skipped[name]
            files[name] = e
            continue
        pcap = f"{out}/{name}"
        capture_entry(e, pcap, cmds[name])
        conns = connections(pcap)
        hits = {}
        for c in conns:
            for sid, _, _, needles, _ in SIGNATURES:
                if all(n in c["_client_head"] for n in needles):
                    hits.setdefault(sid, []).append(c["stream"])
            del c["_client_head"]
        e["ssh"] = {
            "client_banners": counts(c["client_banner"] for c in conns if c["client_banner"]),
            "server_banners": counts(c["server_banner"] for c in conns if c["server_banner"]),
            "connections": len(conns),
            "connections_by_kind": counts(c["kind"] for c in conns),
            "streams": conns,
        }
        if name.startswith("nmap-"):
            e["nmap_output"] = nmap_output(f"{tmp}/xml/{name[:-5]}.xml")
        e["signatures_found"] = {sid: {"streams": v} for sid, v in hits.items()}
        files[name] = e
    doc = {
        "description": "Ground truth for pcaps/ssh/*.pcap, written by pcaps/make-ssh.sh. 'expect' lists the alerts "
                       "picket should raise for the file (rule id and the tool it should name); an empty list means "
                       "none (benign: true marks the ordinary clients; the others are scanner-like clients whose "
                       "banner does not name them: identified_by_banner false). 'ssh.streams' has one entry per TCP "
                       "connection: client_banner / server_banner are tshark's ssh.protocol of each side (null: that "
                       "side sent none), client_line / server_line the raw first line with its line end, hassh / "
                       "hassh_server tshark's ssh.kex.hassh / ssh.kex.hasshserver. 'signatures_found': the "
                       "probe.scanner_ssh signatures (rules/signatures.yaml) whose needles are in the first 255 bytes "
                       "the client sent, per stream. 'banner_sources': each tool's banner and where its source sets it.",
        "rules": RULES,
        "network": {"server": SERVER, "server_mac": "02:92:00:00:00:01", "scanner": SCANNER,
                    "workstation": WORKSTATION, "client_mac": "02:92:00:00:00:66", "services": {"tcp": [22]}},
        "signatures": [{"id": sid, "rule": "probe.scanner_ssh", "tool": tool, "sent_by": sender, "what": what,
                        "needles": [n.decode() for n in needles], "depth": DEPTH}
                       for sid, tool, sender, needles, what in SIGNATURES],
        "banner_sources": banner_sources(versions),
        "versions": versions,
        "files": files,
    }
    write_truth(doc, truth_path)

def check(out, truth_path, rules_path):
    t = json.load(open(truth_path))
    v = t["versions"]
    sp = spec(v)
    chk = Checks()
    ok = chk.ok
    rules_text = open(rules_path).read()
    for sid, _, _, needles, _ in SIGNATURES:
        ok(f"- id: {sid}\n" in rules_text, f"signature {sid} is not in {rules_path}")
        for n in needles:
            ok(f'"{n.decode()}"' in rules_text, f"signature {sid}: needle {n!r} is not in {rules_path}")
    server_banner = "SSH-2.0-" + v["ssh"]   # sshd and ssh come from the same Debian source package
    for name, e in t["files"].items():
        if "skipped" in e:
            continue
        la = chk.capture(name, f"{out}/{name}", 100, link_and_addrs, OUR_MACS, OUR_ADDRS)
        ok(la["ipv6"] == 0 and la["not_port_22"] == 0, f"{name}: {la['ipv6']} IPv6 frames, {la['not_port_22']} not port 22")
        s = e["ssh"]
        want = sp[name]["client_banners"]
        ok(s["client_banners"] == want, f"{name}: client banners {s['client_banners']}, want {want}")
        ok(set(s["server_banners"]) == {server_banner}, f"{name}: server banners {s['server_banners']}, want {server_banner}")
        for c in s["streams"]:
            ok(c["client"] == e["client"] and c["server"] == SERVER, f"{name} stream {c['stream']}: {c['client']} -> {c['server']}")
            # tshark's banner is the raw first line without its line end
            for side in ("client", "server"):
                line, banner = c[side + "_line"], c[side + "_banner"]
                if banner is not None:
                    ok(line is not None and re.sub(r"(\\r)?\\n$", "", line) == banner,
                       f"{name} stream {c['stream']}: {side} line {line!r} vs tshark {banner!r}")
        found = set(e["signatures_found"])
        ok(found == set(sp[name]["signatures"]), f"{name}: signatures {sorted(found)}, want {sp[name]['signatures']}")
        if e["benign"]:
            ok(not found and not e["expect"], f"{name}: benign file with signatures {sorted(found)}")
    F = {n: e for n, e in t["files"].items() if "skipped" not in e}
    hk = F["nmap-ssh-hostkey.pcap"]["ssh"]["streams"]
    ok(any(c["server_text_after_banner"] == "Protocol major versions differ." for c in hk),
       "nmap-ssh-hostkey: OpenSSH did not answer the SSH-1 request with 'Protocol major versions differ.'")
    v1 = F["nmap-sshv1.pcap"]["ssh"]["streams"]
    ok(any(c["client_line"] == "SSH-1.5-NmapNSE_1.0\\n" for c in v1), "nmap-sshv1: the banner does not end in a bare LF")
    sv = F["nmap-sv-ssh.pcap"]
    ok((sv.get("nmap_output") or {}).get("service", "").startswith("ssh OpenSSH"), f"nmap-sv-ssh: nmap found {sv.get('nmap_output')}")
    ok(all(c["client_bytes"] == 0 for c in sv["ssh"]["streams"]), "nmap-sv-ssh: nmap sent bytes")
    am = F.get("nmap-ssh-auth-methods.pcap")
    if am:
        ok("publickey" in (am.get("nmap_output") or {}).get("ssh-auth-methods", ""), f"nmap-ssh-auth-methods: {am.get('nmap_output')}")
    # the library banners are the same bytes from the scanner and from the ordinary client
    if am:
        ok(set(am["ssh"]["client_banners"]) == set(F["curl-sftp-benign.pcap"]["ssh"]["client_banners"]),
           "nmap ssh-auth-methods and curl no longer send the same libssh2 banner")
    chk.done(len(F))

# ---------------------------------------------------------------- README tables
def code(s):
    return "-" if s is None else f"`{md(s)}`"

def readme_tables(truth_path):
    t = json.load(open(truth_path))
    files_table(t, [("connections", lambda e: e["ssh"]["connections"])],
                lambda e: "none (benign)" if e["benign"] else "none (banner names no tool)")
    print("\n### What tshark shows\n")
    print("`tshark -r FILE -Y ssh.protocol -T fields -e tcp.stream -e ip.src -e ssh.protocol`, one row per TCP")
    print("connection (stream), `-` where that side sent no identification string; the raw first line shows the line end.\n")
    print("| file | stream | client | client banner (ssh.protocol) | client's raw first line | server banner (ssh.protocol) | what the connection was |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for n, e in t["files"].items():
        if "skipped" in e:
            continue
        for c in e["ssh"]["streams"]:
            extra = f"; then the server: `{c['server_text_after_banner']}`" if c["server_text_after_banner"] else ""
            print(f"| `{n}` | {c['stream']} | {c['client']}:{c['client_port']} | {code(c['client_banner'])} | "
                  f"{code(c['client_line'])} | {code(c['server_banner'])} | {c['kind']}{extra} |")
    print("\n### HASSH (tshark ssh.kex.hassh / ssh.kex.hasshserver)\n")
    print("| file | client banner | HASSH | HASSHServer |")
    print("| --- | --- | --- | --- |")
    seen = set()
    for n, e in t["files"].items():
        for c in e.get("ssh", {}).get("streams", []):
            k = (n, c["client_banner"], c["hassh"], c["hassh_server"])
            if c["hassh"] and k not in seen:
                seen.add(k)
                print(f"| `{n}` | {code(c['client_banner'])} | `{c['hassh']}` | {code(c['hassh_server'])} |")
    print("\n### Signatures found (first 255 client bytes of each connection)\n")
    print("| signature (`probe.scanner_ssh`) | tool | needles | found in (streams) |")
    print("| --- | --- | --- | --- |")
    for s in t["signatures"]:
        where = [f"`{n}` ({', '.join(map(str, e['signatures_found'][s['id']]['streams']))})"
                 for n, e in t["files"].items() if s["id"] in e.get("signatures_found", {})]
        print(f"| `{s['id']}` | {s['tool']} | {', '.join(code(x) for x in s['needles'])} | {', '.join(where) or '-'} |")

def readme_sources(truth_path):
    t = json.load(open(truth_path))
    print("| tool | client identification string | names the tool? | where the source sets it | seen here |")
    print("| --- | --- | --- | --- | --- |")
    for b in t["banner_sources"]:
        print(f"| {md(b['tool'])} | {code(b['banner'])} | {'yes' if b['names_tool'] else 'no'} | {md(b['source'])} | {md(b['seen'])} |")

if __name__ == "__main__":
    main({"build": (build, 3), "check": (check, 3), "tables": (readme_tables, 1), "sources": (readme_sources, 1)})
PY

"$PYDEB" "$TMP/pkssh.py" build "$OUT" "$TMP" "$OUT/truth.json" || die "building truth.json failed"
"$PYDEB" "$TMP/pkssh.py" check "$OUT" "$OUT/truth.json" "$HERE/../rules/signatures.yaml" || die "verification failed"

# ---------------------------------------------------------------- install
say "installing into $DEST"
chmod 0644 "$OUT"/*.pcap "$OUT/truth.json"
pk_install "$DEST" "${FILES[@]}" truth.json
if [ "$DEST" != "$HERE/ssh" ]; then say "done (README.md not rewritten for PKSSH_DEST)"; exit 0; fi

# ---------------------------------------------------------------- README.md
say "writing README.md"
TABLES=$("$PYDEB" "$TMP/pkssh.py" tables "$DEST/truth.json")
SOURCES=$("$PYDEB" "$TMP/pkssh.py" sources "$DEST/truth.json")
COMMANDS=$(awk -F'\t' '{printf "* `%s` (%s): `%s`\n", $1, $2, $3}' "$TMP/cmds.tsv")
SERVER_BANNER="SSH-2.0-$(awk -F'\t' '$1 == "ssh" {print $2}' "$TMP/versions.tsv")"
{
cat <<EOF
# SSH test captures

Made by [\`../make-ssh.sh\`](../make-ssh.sh) (\`sudo bash pcaps/make-ssh.sh\`, root, under a minute; \`make.sh\` runs it
too; overwrites the captures here, [\`truth.json\`](truth.json) and this README). Real SSH clients against a real
OpenSSH server in network namespaces of their own, for picket's SSH analyzer (it reports the RFC 4253 section 4.2
identification strings, \`SSH-protoversion-softwareversion SP comments CR LF\`, of client and server) and the
\`probe.scanner_ssh\` signatures in [\`rules/signatures.yaml\`](../../rules/signatures.yaml). truth.json says per file
what picket should raise and, per TCP connection, the banners tshark decodes.

## Setup

Two network namespaces joined by one veth pair, IPv4 only, no default route, no route but the connected /24:

| namespace | MAC | addresses | role |
| --- | --- | --- | --- |
| \`pks-sshs-PID\` | 02:92:00:00:00:01 | $SERVER/24 | sshd on $SERVER:22 |
| \`pks-sshc-PID\` | 02:92:00:00:00:66 | $SCANNER/24 (primary), $WORKSTATION/24 (secondary) | the scanner-like clients use the primary address; ssh and curl bind to $WORKSTATION |

The server is Debian's \`/usr/sbin/sshd\` run as \`sshd -D -e -f \$TMP/sshd/sshd_config\` (no system service is
started or used): ed25519, ECDSA P-256 and RSA 2048 host keys made with ssh-keygen in the temp dir, one accepted client
key (ed25519) for root, \`PermitRootLogin prohibit-password\`, \`PasswordAuthentication yes\` (so scanners see it offered;
every password attempt fails), \`UsePAM no\`, \`UseDNS no\`, \`StrictModes no\` (the temp dir is below /tmp), the
internal SFTP server, logs to the script's temp dir. It sends \`$SERVER_BANNER\` on every connection (Debian's
default \`DebianBanner yes\`). Every client is given IP addresses and nmap runs with \`-n\`; \`/etc/netns/<ns>/resolv.conf\`
points at the namespace's own loopback, so no name lookup could leave either namespace.

Captures: \`tcpdump -U --immediate-mode -s 0 -i veth0 tcp port 22\` in the server namespace (only the SSH connections:
no ARP), stopped with SIGINT 1.5 s after the last command; the script fails on any kernel drop. Ethernet link type.
Segmentation offloads are off (frames are wire-sized).

## Files

$(sed '/^### What tshark shows/,$d' <<<"$TABLES")

Commands (in the client namespace, each under \`timeout\`; \$TMP is the script's temporary directory):

$COMMANDS

$(sed -n '/^### What tshark shows/,$p' <<<"$TABLES")

Notes on what the captures show:

* Every nmap file starts with nmap's SYN scan of port 22 (stream 0: SYN, SYN-ACK, RST; no data).
* \`nmap-ssh-hostkey.pcap\`: without \`-sV\`, ssh-hostkey first checks that the port speaks SSH by opening a connection
  and reading the banner (\`comm.opencon\`, scripts/ssh-hostkey.nse \`portaction\`): that connection sends nothing and
  stays open until the script ends. Then one SSH-1 request (\`SSH-1.5-Nmap-SSH1-Hostkey\`, answered by OpenSSH with
  \`Protocol major versions differ.\` and a close) and six SSH-2 key exchanges, one per key type nmap 7.93 asks for
  (ssh-dss, ssh-rsa, ecdsa-sha2-nistp256/384/521, ssh-ed25519). OpenSSH 9.2 offers neither ssh-dss nor SHA-1
  \`ssh-rsa\` host key signatures by default, so nmap reports only the ECDSA and ED25519 keys.
* \`nmap-sshv1.pcap\`: sshv1 sends \`SSH-1.5-NmapNSE_1.0\` with a bare LF (no CR) whatever the server announced; OpenSSH
  answers \`Protocol major versions differ.\` too. sshv1 is in the \`default\` category: \`nmap -sC\` sends it.
* \`nmap-sv-ssh.pcap\`: version detection sends no byte on port 22: the NULL probe waits for the server's banner,
  which nmap-service-probes matches (nmap reports $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"]["nmap-sv-ssh.pcap"].get("nmap_output",{}).get("service","?"))' "$DEST/truth.json")). A sensor sees only the server's banner;
  nothing on the wire names nmap.
* \`nmap-ssh-auth-methods.pcap\` and \`curl-sftp-benign.pcap\` carry the same client banner (libssh2's default,
  Debian's libssh2-1): a banner alone cannot tell nmap's libssh2 scripts from curl, git or PHP.
* \`hydra-ssh.pcap\`: hydra 9.4 opens two connections for three passwords (libssh's banner on both); it sets no
  banner of its own. \`paramiko-ssh.pcap\`: paramiko's default banner, which Ansible and every other paramiko program
  send too.
* \`scanner-banners.pcap\`: python3 sends, one connection each, masscan's main-branch banner (\`SSH-2.0-OPENSSH_7.9\`,
  upper case), the banner of nmap's bundled libssh2 since commit 693a2606b (\`SSH-2.0-libssh2_1.11.1_NMAP1\`) and
  zgrab2's default (\`SSH-2.0-Go\`, the golang.org/x/crypto/ssh default, so every Go SSH client's too). Debian ships
  neither that masscan (its 1.3.2 sends no client banner) nor that libssh2 build; the bytes are the tools', the
  sender is not (as \`../recon/scanner-ua.pcap\` does for User-Agents). The connection after each banner is the
  server's KEXINIT and a close.
* \`ssh-benign.pcap\`: OpenSSH's client banner is the same string as the server's (one Debian source package).
  No scanner signature matches it; picket must raise nothing for it or for \`curl-sftp-benign.pcap\`.

## Client banners and their sources

Read in each tool's source for this capture set (repositories as named on GitHub; versions: the ones Debian 12
packages, which made the captures, unless said otherwise):

$SOURCES

The \`probe.scanner_ssh\` signatures (rules/signatures.yaml) match only the strings that name a scanner (nmap's four NSE
banners, nmap's bundled-libssh2 suffix \`_NMAP\`, masscan's \`SSH-2.0-OPENSSH_\`), each in the first 255 bytes the client
sends to port 22, case-sensitive. Library defaults (libssh2, libssh, paramiko, Go) and OpenSSH's own banner name no
scanner and have no signature.

## truth.json

\`rules\`: the rule ids. \`network\`: addresses and MACs. \`signatures\`: the probe.scanner_ssh signatures as this script
looks for them (needles, depth 255). \`banner_sources\`: the table above. \`versions\`: every tool's version (and the
Debian package versions, \`*_deb\`). \`files.<name>\`: \`kind\`, \`tool\`, \`client\`, \`server\`, \`benign\` (an ordinary
client), \`identified_by_banner\` (whether the client's banner names the tool), \`expect\` (\`[{rule, tool}]\`, empty:
no alert), \`note\`, \`commands\`, \`packets\`, \`bytes\`, \`ssh\` (\`client_banners\` and \`server_banners\`: banner ->
connections; \`connections\`, \`connections_by_kind\`; \`streams\`: per TCP connection \`stream\`, \`client\`,
\`client_port\`, \`server\`, \`server_port\`, \`client_banner\` / \`server_banner\` (tshark's \`ssh.protocol\` of that
side, null when it sent none), \`client_line\` / \`server_line\` (the raw first line, escaped, with its line end),
\`hassh\` / \`hassh_server\`, \`client_bytes\` / \`server_bytes\`, \`server_text_after_banner\`, \`syn_ack\`,
\`client_reset\`, \`kind\`), \`nmap_output\` (nmap's script output and service from its XML), \`signatures_found\`
(signature id -> streams). A skipped file has \`skipped\` (the reason).

The script checks, and fails otherwise: Ethernet link type, each file < 100 KB, only the script's MACs and addresses,
no IPv6, only port 22; per file exactly the expected client banners (with the installed versions: libssh2, libssh,
paramiko and OpenSSH banners are computed from the Debian package versions) and the sshd banner on every connection;
tshark's banner equal to the raw first line; exactly the expected signatures per file (none in benign files); every
signature id and needle present in rules/signatures.yaml; OpenSSH's answer to SSH-1 banners; sshv1's bare LF; nmap -sV
sending no byte and naming OpenSSH; ssh-auth-methods and curl sending the same libssh2 banner.

## Skipped

EOF
pk_skipped_md "* Nothing was skipped: hydra and python3-paramiko are installed, nmap has ssh-auth-methods.nse."
pk_versions_md openssh-server openssh-client nmap hydra libssh-4 libssh2-1 python3-paramiko curl tcpdump tshark iproute2
} >"$DEST/README.md"
say "wrote $DEST/README.md"
