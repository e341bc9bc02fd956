#!/usr/bin/env bash
# Installs the Debian packages the test suite, the capture script and the benchmark use, if any is missing.
# Run by `npm test` (pretest) and by .ci/run, so the README's two commands work on a fresh Debian machine.
set -euo pipefail

# command -> Debian package
declare -A PKG=(
  [tshark]=tshark           # the reference decoder the tests compare against
  [editcap]=wireshark-common
  [tcpdump]=tcpdump         # pcaps/make.sh captures; bench peer
  [nmap]=nmap               # pcaps/make.sh scans
  [masscan]=masscan
  [hping3]=hping3
  [dig]=bind9-dnsutils
  [nsupdate]=bind9-dnsutils # pcaps/make-dnsupdate.sh: real DNS UPDATEs
  [dnsmasq]=dnsmasq         # local DNS server inside the capture namespaces
  [ip]=iproute2
  [curl]=curl
  [openssl]=openssl
  [ndpiReader]=libndpi-bin  # bench peer
  [capinfos]=wireshark-common
  [gtlsclient]=ngtcp2-client  # pcaps/make-quic.sh: QUIC client and server
  [gtlsserver]=ngtcp2-server
  [zmap]=zmap               # pcaps/make-scans.sh, pcaps/make-halfopen.sh
  [ethtool]=ethtool
  [smbd]=samba              # pcaps/make-recon.sh: SMB server for nmap's smb scripts and smbclient
  [smbclient]=smbclient
  [named]=bind9             # pcaps/make-recon.sh: authoritative server that refuses zone transfers
  [rsyslogd]=rsyslog        # test/sinks: the syslog sink against a real rsyslog
  [promtool]=prometheus     # test/metrics: the exposition format checked by Prometheus's own parser
  [nats-server]=nats-server # test/fleet: a three-node JetStream cluster on loopback, its own config (the Debian service is not used)
  [tcpreplay]=tcpreplay     # bench/live: offered load for the capture-loss benchmark
  [tcprewrite]=tcpreplay    # test/fleet: one real scan's scanner given other addresses (sources in every partition)
  [mergecap]=wireshark-common
  [trafgen]=netsniff-ng
  [sqlmap]=sqlmap           # pcaps/make-recon.sh: a real scanner User-Agent
  [sshd]=openssh-server     # pcaps/make-ssh.sh: the SSH server (run by the script itself, not as a service)
  [ssh]=openssh-client      # pcaps/make-ssh.sh: the benign client; ssh-keygen for the keys
  [hydra]=hydra             # pcaps/make-ssh.sh: a real SSH password guesser (libssh)
  [nc]=netcat-openbsd       # pcaps/make-http.sh: bare-LF request heads written with printf | nc
  [iptables]=iptables       # pcaps/make-linktypes.sh: the NFLOG rule that tcpdump -i nflog:N captures from
  [pgrep]=procps
  [python3]=python3         # capture scripts and the live-capture test's sender
  [setpriv]=util-linux      # test/live-capture: capture as an unprivileged user
  [taskset]=util-linux      # bench/live: CPU pinning
  [g++]=g++                 # node-gyp builds the live-capture addon on npm ci
  [make]=make
  [groff]=groff-base        # test/docs: the man page renders without warnings
  [man]=man-db
  [systemd-analyze]=systemd # test/package: the packaged unit passes systemd-analyze verify
  [chromium]=chromium       # test/report: the HTML report opened in a real browser (headless, driven by playwright-core)
)
# Not commands: headers for the native capture path, and a Python module.
HEADERS=(/usr/include/pcap/pcap.h:libpcap-dev /usr/bin/time:time
  /usr/lib/python3/dist-packages/paramiko/__init__.py:python3-paramiko)   # pcaps/make-ssh.sh: a paramiko client

missing=()
for cmd in "${!PKG[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PKG[$cmd]}")
done
for pair in "${HEADERS[@]}"; do
  [ -e "${pair%%:*}" ] || missing+=("${pair##*:}")
done
# rsyslog's OpenSSL network stream driver (test/sinks-tls: syslog over TLS, RFC 5425), in the multiarch directory.
compgen -G '/usr/lib/*/rsyslog/lmnsd_ossl.so' >/dev/null || missing+=(rsyslog-openssl)
[ ${#missing[@]} -eq 0 ] && exit 0

mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "ensure-tools: installing ${missing[*]}" >&2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO=(sudo -n); else
    echo "ensure-tools: missing ${missing[*]}; install them as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
