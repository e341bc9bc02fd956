#!/usr/bin/env bash
# The README's fresh-machine path, run in a fresh Debian 12 root (CI step; run as root).
#
# .ci/run's machine already has every tool and library, so it cannot show a missing install step. This script
# debootstraps a minimal bookworm root with only what the README assumes a fresh machine has (Node 20 and npm,
# copied from this machine; ca-certificates, git, python3, make, g++; nothing libpcap-related), clones the
# repository into it and, chrooted there as root:
#   readme   `npm ci && npx picket replay pcaps/intel-dns.pcap --format text` exits 0 and prints intel.dns alerts
#   addon    npm ci built build/Release/pcap_capture.node although no libpcap headers exist in the root
#   nolib    `npx picket capture -i lo --count 1` exits 2 naming libpcap0.8 (the library is not installed)
#   libpcap  `apt-get install -y libpcap0.8` (the runtime library only, no headers)
#   capture  without rebuilding anything, a live capture on lo sees packets through picket's libpcap addon
# One verdict line per step on stdout; exit status 1 if any step failed.
#
# The debootstrapped root is cached as a tarball in $PICKET_FRESH_ROOT_CACHE (default /var/cache/picket-fresh-root),
# keyed by suite, variant, architecture, mirror and package list, so later runs skip the download. Chroot shares
# this machine's network namespace: the only traffic the check sends itself goes to 127.0.0.1.
# PICKET_FRESH_ROOT_LOGS=DIR keeps every step's output there (it is removed with the root otherwise).
set -uo pipefail

SUITE=bookworm
VARIANT=minbase
INCLUDE=ca-certificates,git,python3,make,g++
CACHE_DIR=${PICKET_FRESH_ROOT_CACHE:-/var/cache/picket-fresh-root}
REPO=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel) || exit 1

failed=0
START=$SECONDS
verdict() { # PASS|FAIL|SKIP step detail
  printf 'fresh-root-check: %-4s %-8s %s\n' "$1" "$2" "$3"
  [ "$1" = PASS ] || failed=1
}
# Prints the last lines of a log on stderr (why a step failed).
show() {
  local f
  for f in "$@"; do
    [ -s "$f" ] || continue
    echo "---- ${f##*/} (last 40 lines) ----" >&2
    tail -n 40 "$f" >&2
  done
}

if [ "$(id -u)" -ne 0 ]; then
  verdict FAIL setup "must run as root (debootstrap, chroot, mount)"
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/picket-fresh-root.XXXXXX") || exit 1
ROOT=$WORK/root
LOG=$WORK/log
mkdir -p "$ROOT" "$LOG"

# Mount points still mounted at or under $1, deepest first.
mounts_under() {
  awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# Runs "$@" bounded by $1 seconds, in the background so that an INT or TERM reaches the trap at once (bash runs
# traps only after a foreground command ends); cleanup stops it by its id.
BG=
bounded() {
  local secs=$1 rc
  shift
  timeout -k 10 "$secs" "$@" &
  BG=$!
  wait "$BG"
  rc=$?
  BG=
  return "$rc"
}

cleanup() {
  local rc=$? pid m left i
  trap - EXIT INT TERM
  if [ -n "$BG" ]; then
    kill -TERM "$BG" 2>/dev/null # timeout passes it on to its command, and kills it 10 s later if need be
    for i in $(seq 150); do kill -0 "$BG" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$CACHE_DIR/$SUITE"-*.tar.tmp.$$
  if [ -n "${PICKET_FRESH_ROOT_LOGS:-}" ]; then
    mkdir -p "$PICKET_FRESH_ROOT_LOGS" && cp -a "$LOG/." "$PICKET_FRESH_ROOT_LOGS/"
  fi
  # Whatever the check started inside the root and is still running (every step is bounded by timeout, so normally
  # nothing): those processes, by id.
  for pid in $(ls /proc | grep -E '^[0-9]+$'); do
    [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -KILL "$pid" 2>/dev/null
  done
  for m in $(mounts_under "$ROOT"); do
    timeout 20 umount "$m" 2>/dev/null || timeout 20 umount -l "$m" 2>/dev/null
  done
  left=$(mounts_under "$ROOT")
  if [ -n "$left" ]; then
    # Never rm -rf through a bind mount of the host's /dev, /proc or /sys.
    echo "fresh-root-check: could not unmount $(echo $left); leaving $WORK in place" >&2
  else
    timeout 300 rm -rf --one-file-system "$WORK" || echo "fresh-root-check: could not remove $WORK" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------- 1. the root: debootstrap, or the cached tarball of an earlier one ----------

# The Debian mirror this machine already uses, from its apt sources (one-line .list and deb822 .sources).
# Prints "suite uri" for every `deb` entry, in file order.
apt_entries() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -r "$f" ] || continue
    awk '$1 == "deb" {
      i = 2
      if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
      if (i + 1 <= NF) print $(i + 1), $i
    }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    awk 'function flush(  n, s, u, i) {
        if ((" " types " ") ~ / deb / && enabled != "no") {
          n = split(suites, s, " "); split(uris, u, " ")
          for (i = 1; i <= n; i++) if (u[1] != "") print s[i], u[1]
        }
        types = suites = uris = ""; enabled = "yes"
      }
      BEGIN { enabled = "yes" }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[A-Za-z-]+:/ {
        key = tolower($1); sub(/:$/, "", key); $1 = ""; sub(/^[ \t]+/, "")
        if (key == "types") types = $0; else if (key == "suites") suites = $0
        else if (key == "uris") uris = $0; else if (key == "enabled") enabled = tolower($0)
      }
      END { flush() }' "$f"
  done
}
MIRROR=$(apt_entries | awk -v s="$SUITE" '$1 == s { print $2; exit }')
# A machine on another release: the same mirror host serves bookworm too (never a security or updates suite's URI).
[ -n "$MIRROR" ] || MIRROR=$(apt_entries | awk '$1 !~ /-(security|updates|backports)$/ && $1 !~ /\// { print $2; exit }')

t0=$SECONDS
root_ok=0
ARCH=$(dpkg --print-architecture)
if [ -z "$MIRROR" ]; then
  verdict FAIL root "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/"
else
  key=$(printf '%s\n' "$SUITE" "$VARIANT" "$ARCH" "$MIRROR" "$INCLUDE" | sha256sum | cut -c1-16)
  TARBALL=$CACHE_DIR/$SUITE-$key.tar
  if [ -s "$TARBALL" ] && bounded 300 tar -C "$ROOT" --numeric-owner -xpf "$TARBALL" 2>"$LOG/untar.err"; then
    root_ok=1
    verdict PASS root "$SUITE $VARIANT from the cache $TARBALL ($((SECONDS - t0)) s)"
  else
    [ -s "$TARBALL" ] && { echo "fresh-root-check: the cached root $TARBALL is unreadable; debootstrapping again" >&2; rm -rf "$ROOT"; mkdir -p "$ROOT"; }
    if ! command -v debootstrap >/dev/null 2>&1; then
      export DEBIAN_FRONTEND=noninteractive
      bounded 600 apt-get install -y debootstrap >"$LOG/debootstrap-install.log" 2>&1 \
        || { bounded 300 apt-get update >>"$LOG/debootstrap-install.log" 2>&1 && bounded 600 apt-get install -y debootstrap >>"$LOG/debootstrap-install.log" 2>&1; }
    fi
    if ! command -v debootstrap >/dev/null 2>&1; then
      verdict FAIL root "debootstrap is not installed and apt-get install -y debootstrap failed"
      show "$LOG/debootstrap-install.log"
    elif bounded 1800 debootstrap --variant="$VARIANT" --arch="$ARCH" --include="$INCLUDE" "$SUITE" "$ROOT" "$MIRROR" >"$LOG/debootstrap.log" 2>&1; then
      root_ok=1
      mkdir -p "$CACHE_DIR"
      # The downloaded .debs are not part of a fresh machine (nor worth caching twice).
      timeout 120 chroot "$ROOT" apt-get clean >>"$LOG/debootstrap.log" 2>&1
      # Only a root no mount is left in, written whole before it replaces anything.
      if [ -z "$(mounts_under "$ROOT")" ] && bounded 300 tar -C "$ROOT" --numeric-owner --one-file-system -cpf "$TARBALL.tmp.$$" . 2>"$LOG/tar.err"; then
        mv -f "$TARBALL.tmp.$$" "$TARBALL"
        cached="cached as $TARBALL"
      else
        rm -f "$TARBALL.tmp.$$"
        cached="not cached (see $LOG/tar.err)"
      fi
      verdict PASS root "$SUITE $VARIANT debootstrapped from $MIRROR with $INCLUDE, $cached ($((SECONDS - t0)) s)"
    else
      verdict FAIL root "debootstrap $SUITE from $MIRROR failed ($((SECONDS - t0)) s)"
      show "$LOG/debootstrap.log"
      [ -s "$ROOT/debootstrap/debootstrap.log" ] && show "$ROOT/debootstrap/debootstrap.log"
    fi
  fi
fi
if [ "$root_ok" -ne 1 ]; then
  for s in node repo readme addon nolib libpcap capture; do verdict SKIP "$s" "no root"; done
  exit 1
fi
# Nothing libpcap-related may be in the root, whatever the package list pulled in.
pcap_files() { find "$ROOT/usr/include" "$ROOT/usr/lib" "$ROOT/lib" -maxdepth 3 \( -name 'pcap.h' -o -name 'libpcap*' \) 2>/dev/null; }
if [ -n "$(pcap_files)" ]; then
  verdict FAIL root "the fresh root already has libpcap files: $(pcap_files | tr '\n' ' ')"
  for s in node repo readme addon nolib libpcap capture; do verdict SKIP "$s" "the root is not libpcap-free"; done
  exit 1
fi

# ---------- 2. Node and npm, as installed on this machine, and npm's configuration ----------

t0=$SECONDS
node_ok=0
PREFIX=$(npm prefix -g 2>/dev/null)
NODE=$(readlink -f "$(command -v node)")
if [ -z "$PREFIX" ] || [ ! -x "$NODE" ] || [ ! -d "$PREFIX/lib/node_modules/npm" ]; then
  verdict FAIL node "no node (command -v node: '$NODE') or npm under the global prefix '$PREFIX' on this machine"
else
  mkdir -p "$ROOT$PREFIX/bin" "$ROOT$PREFIX/lib/node_modules" "$ROOT$PREFIX/include"
  cp "$NODE" "$ROOT$PREFIX/bin/node"
  cp -a "$PREFIX/lib/node_modules/npm" "$ROOT$PREFIX/lib/node_modules/"
  [ -d "$PREFIX/include/node" ] && cp -a "$PREFIX/include/node" "$ROOT$PREFIX/include/"
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$ROOT$PREFIX/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$ROOT$PREFIX/bin/npx"
  # The registry is reached as from this machine: its npmrc files (user config as root's in the root; the global
  # one at the same path, under the same prefix), and the CA file they name (e.g. an egress proxy's CA).
  copied=()
  userconfig=$(npm config get userconfig 2>/dev/null)
  globalconfig=$(npm config get globalconfig 2>/dev/null)
  if [ -n "$userconfig" ] && [ -f "$userconfig" ]; then
    install -m 600 "$userconfig" "$ROOT/root/.npmrc" && copied+=("$userconfig")
  fi
  if [ -n "$globalconfig" ] && [ -f "$globalconfig" ]; then
    mkdir -p "$ROOT$(dirname "$globalconfig")" && cp "$globalconfig" "$ROOT$globalconfig" && copied+=("$globalconfig")
  fi
  cafile=$(npm config get cafile 2>/dev/null)
  if [ -n "$cafile" ] && [ "$cafile" != null ] && [ "$cafile" != undefined ] && [ -f "$cafile" ]; then
    mkdir -p "$ROOT$(dirname "$cafile")" && cp -L "$cafile" "$ROOT$cafile" && copied+=("cafile $cafile")
  fi
  # Name resolution as on this machine.
  cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null
  cp -L /etc/hosts "$ROOT/etc/hosts" 2>/dev/null
  CHROOT_PATH=$PREFIX/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  ENV=(HOME=/root USER=root LOGNAME=root PATH="$CHROOT_PATH" LANG=C.UTF-8 TERM=dumb DEBIAN_FRONTEND=noninteractive)
  for v in http_proxy https_proxy no_proxy HTTP_PROXY HTTPS_PROXY NO_PROXY; do
    [ -n "${!v:-}" ] && ENV+=("$v=${!v}")
  done
  host_v="$(node -v) / npm $(npm -v)"
  root_v=$(timeout 60 chroot "$ROOT" /usr/bin/env -i "${ENV[@]}" /bin/sh -c 'echo "$(node -v) / npm $(npm -v)"' 2>"$LOG/node.err")
  if [ "$root_v" = "$host_v" ]; then
    node_ok=1
    verdict PASS node "node $root_v from $PREFIX; npm config: ${copied[*]:-none} ($((SECONDS - t0)) s)"
  else
    verdict FAIL node "node in the root says '$root_v', this machine '$host_v'"
    show "$LOG/node.err"
  fi
fi
if [ "$node_ok" -ne 1 ]; then
  for s in repo readme addon nolib libpcap capture; do verdict SKIP "$s" "no node"; done
  exit 1
fi

# ---------- 3. the repository, and /proc, /sys, /dev ----------

t0=$SECONDS
repo_ok=1
mkdir -p "$ROOT/src"
if ! bounded 300 git clone -q --no-hardlinks "$REPO" "$ROOT/src/picket" >"$LOG/clone.log" 2>&1; then
  repo_ok=0
  verdict FAIL repo "git clone --no-hardlinks $REPO failed"
  show "$LOG/clone.log"
else
  for m in proc sys dev; do
    mkdir -p "$ROOT/$m"
    timeout 30 mount --bind "/$m" "$ROOT/$m" 2>>"$LOG/mount.log" || repo_ok=0
  done
  if [ "$repo_ok" -eq 1 ]; then
    verdict PASS repo "$REPO at $(git -C "$ROOT/src/picket" log -1 --format=%h) cloned into the root; /proc /sys /dev bound ($((SECONDS - t0)) s)"
  else
    verdict FAIL repo "could not bind /proc, /sys, /dev into the root"
    show "$LOG/mount.log"
  fi
fi
if [ "$repo_ok" -ne 1 ]; then
  for s in readme addon nolib libpcap capture; do verdict SKIP "$s" "no repository in the root"; done
  exit 1
fi

# Runs a command line in the root, as root, in the clone, with a clean environment; bounded by $1 seconds.
in_root() {
  local secs=$1
  shift
  bounded "$secs" chroot "$ROOT" /usr/bin/env -i "${ENV[@]}" /bin/bash -c "cd /src/picket && $1"
}

# ---------- 4. the README's first command ----------

t0=$SECONDS
in_root 1500 'npm ci && npx picket replay pcaps/intel-dns.pcap --format text' >"$LOG/readme.out" 2>"$LOG/readme.err"
rc=$?
alerts=$(grep -c ' ALERT intel\.dns ' "$LOG/readme.out")
readme_ok=0
if [ "$rc" -eq 0 ] && [ "$alerts" -ge 1 ]; then
  readme_ok=1
  verdict PASS readme "npm ci && npx picket replay pcaps/intel-dns.pcap --format text: exit 0, $alerts intel.dns alert lines ($((SECONDS - t0)) s)"
else
  verdict FAIL readme "npm ci && npx picket replay pcaps/intel-dns.pcap --format text: exit $rc, $alerts intel.dns alert lines ($((SECONDS - t0)) s)"
  show "$LOG/readme.out" "$LOG/readme.err"
fi

ADDON=$ROOT/src/picket/build/Release/pcap_capture.node
addon_ok=0
if [ -f "$ADDON" ] && [ -z "$(pcap_files)" ]; then
  addon_ok=1
  addon_sum=$(sha256sum "$ADDON" | cut -c1-16)
  verdict PASS addon "npm ci built build/Release/pcap_capture.node (sha256 $addon_sum...) with no libpcap headers or library in the root"
elif [ -f "$ADDON" ]; then
  verdict FAIL addon "libpcap files appeared in the root during npm ci: $(pcap_files | tr '\n' ' ')"
else
  verdict FAIL addon "npm ci did not build build/Release/pcap_capture.node"
  grep -n -i -E 'gyp|pcap|addon' "$LOG/readme.err" | tail -n 40 >&2
fi
if [ "$readme_ok" -ne 1 ] || [ "$addon_ok" -ne 1 ]; then
  for s in nolib libpcap capture; do verdict SKIP "$s" "the README's first command or the addon build failed"; done
  exit 1
fi

# ---------- 5. live capture before libpcap is installed: a clear error ----------

t0=$SECONDS
in_root 120 'npx picket capture -i lo --count 1' >"$LOG/nolib.out" 2>"$LOG/nolib.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q 'libpcap0\.8' "$LOG/nolib.err" && grep -q 'libpcap is not installed' "$LOG/nolib.err"; then
  verdict PASS nolib "npx picket capture -i lo --count 1: exit 2, \"$(grep -m1 -o 'libpcap is not installed.*libpcap0\.8' "$LOG/nolib.err")\" ($((SECONDS - t0)) s)"
else
  verdict FAIL nolib "npx picket capture -i lo --count 1 without libpcap: exit $rc (want 2 and a message naming libpcap0.8)"
  show "$LOG/nolib.out" "$LOG/nolib.err"
fi

# ---------- 6. the runtime library only ----------

t0=$SECONDS
in_root 900 'apt-get update -q && apt-get install -y libpcap0.8' >"$LOG/libpcap.log" 2>&1
rc=$?
libpcap_ok=0
if [ "$rc" -eq 0 ] && ls "$ROOT"/usr/lib/*/libpcap.so.0.8 >/dev/null 2>&1 && [ ! -e "$ROOT/usr/include/pcap.h" ] && [ ! -e "$ROOT/usr/include/pcap" ]; then
  libpcap_ok=1
  verdict PASS libpcap "apt-get install -y libpcap0.8: $(chroot "$ROOT" dpkg-query -W -f='${Version}' libpcap0.8 2>/dev/null), no headers ($((SECONDS - t0)) s)"
else
  verdict FAIL libpcap "apt-get install -y libpcap0.8 in the root: exit $rc"
  show "$LOG/libpcap.log"
fi
if [ "$libpcap_ok" -ne 1 ]; then
  verdict SKIP capture "libpcap0.8 not installed"
  exit 1
fi

# ---------- 7. live capture on lo through the addon, nothing rebuilt ----------

t0=$SECONDS
rm -f "$ROOT/tmp/capture.out" "$ROOT/tmp/capture.err"
in_root 60 '
  npx picket capture -i lo --count 20 --duration 10s >/tmp/capture.out 2>/tmp/capture.err &
  cap=$!
  for _ in $(seq 150); do grep -q "capturing on" /tmp/capture.err 2>/dev/null && break; kill -0 $cap 2>/dev/null || break; sleep 0.1; done
  # Loopback only: 50 datagrams to the discard port of 127.0.0.1.
  python3 -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(50):
    try:
        s.sendto(b\"picket fresh-root check %d\" % i, (\"127.0.0.1\", 9))
    except OSError:
        pass
    time.sleep(0.02)
"
  wait $cap
' >"$LOG/capture.sh.log" 2>&1
rc=$?
cp "$ROOT/tmp/capture.out" "$LOG/capture.out" 2>/dev/null
cp "$ROOT/tmp/capture.err" "$LOG/capture.err" 2>/dev/null
# The final stats document: the last line with event.kind metric.
counts=$(node -e '
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
  let doc = null;
  for (const l of lines) { try { const d = JSON.parse(l); if (d.event && d.event.kind === "metric") doc = d; } catch {} }
  const st = doc && doc.picket && doc.picket.stats;
  if (!st) { console.log("none"); process.exit(0); }
  console.log(st.packets, (st.capture && st.capture.lo && st.capture.lo.received) || 0);
' "$LOG/capture.out" 2>/dev/null || echo none)
packets=${counts%% *}
received=${counts##* }
now_sum=$(sha256sum "$ADDON" 2>/dev/null | cut -c1-16)
if [ "$rc" -eq 0 ] && [ "$counts" != none ] && [ "$packets" -gt 0 ] && grep -q "with picket's libpcap addon" "$LOG/capture.err" && [ "$now_sum" = "$addon_sum" ]; then
  verdict PASS capture "npx picket capture -i lo --count 20 --duration 10s: exit 0, $packets packets ($received received on lo) with picket's libpcap addon, addon unchanged ($((SECONDS - t0)) s)"
else
  verdict FAIL capture "live capture on lo after installing libpcap0.8: exit $rc, stats '$counts', addon backend: $(grep -q "with picket's libpcap addon" "$LOG/capture.err" && echo yes || echo no), addon $([ "$now_sum" = "$addon_sum" ] && echo unchanged || echo CHANGED)"
  show "$LOG/capture.sh.log" "$LOG/capture.err" "$LOG/capture.out"
fi

# ---------- 8. the Debian package: build, install, run as the service does, purge ----------
# Issue 11: `npm run package` in the fresh root, `dpkg -i` with only libpcap0.8 added (a missing Depends fails it),
# then a capture as picket.service runs it (user picket, CAP_NET_RAW and CAP_NET_ADMIN only: a chroot has no
# systemd), the unprivileged error naming the service, and a purge that leaves nothing behind.

t0=$SECONDS
cat >"$ROOT/tmp/pkg-capture.sh" <<'PKG'
set -u
sed -i -e 's/interfaces: \[CHANGE-ME\]/interfaces: [lo]/' -e 's/127\.0\.0\.1:9464/127.0.0.1:0/' /etc/picket/picket.yaml
setpriv --reuid=picket --regid=picket --init-groups --inh-caps=-all,+net_raw,+net_admin --ambient-caps=-all,+net_raw,+net_admin \
  --bounding-set=-all,+net_raw,+net_admin --no-new-privs \
  picket capture --config /etc/picket/picket.yaml --duration 8s --stats-interval 0 >/tmp/svc.out 2>/tmp/svc.err &
cap=$!
for _ in $(seq 100); do grep -q "capturing on" /tmp/svc.err 2>/dev/null && break; kill -0 $cap 2>/dev/null || break; sleep 0.1; done
# Loopback only: two DNS queries for intel names to 127.0.0.1:53 (nothing needs to answer).
python3 -c "
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, name in enumerate(['shodan.io', 'api.censys.io']):
    q = struct.pack('>HHHHHH', 0x4000 + i, 0x0100, 1, 0, 0, 0) + b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0' + struct.pack('>HH', 1, 1)
    s.sendto(q, ('127.0.0.1', 53))
"
wait $cap || exit 1
grep -q "with picket's libpcap addon" /tmp/svc.err || exit 1
test "$(grep -c '"id":"intel.dns"' /var/log/picket/alerts.ndjson)" -ge 2
PKG
pkg_steps=(
  "300|npm run package -- --out /tmp/deb"
  "180|dpkg -i /tmp/deb/picket_*_amd64.deb"
  "30|getent passwd picket && test -d /var/lib/picket && test -d /var/log/picket && picket --version"
  "60|bash /tmp/pkg-capture.sh"
  "30|setpriv --reuid=picket --regid=picket --init-groups --inh-caps=-all --bounding-set=-all picket capture -i lo --quiet 2>/tmp/noperm.err; test \$? -eq 2 && grep -q 'picket service' /tmp/noperm.err"
  "60|dpkg -P picket && ! test -e /etc/picket && ! test -e /var/lib/picket && ! test -e /var/log/picket"
)
pkg_ok=1
for entry in "${pkg_steps[@]}"; do
  secs=${entry%%|*}
  cmd=${entry#*|}
  if ! in_root "$secs" "$cmd" >>"$LOG/package.log" 2>&1; then
    verdict FAIL package "$cmd ($((SECONDS - t0)) s)"
    show "$LOG/package.log"
    pkg_ok=0
    break
  fi
done
[ "$pkg_ok" -eq 1 ] && verdict PASS package "npm run package, dpkg -i with libpcap0.8 only, a capture as the service runs it (2 intel.dns alerts), the permission error naming the service, dpkg -P clean ($((SECONDS - t0)) s)"

echo "fresh-root-check: $([ "$failed" -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - START)) s"
exit "$failed"
