#!/usr/bin/env bash
# Builds picket_<version>_<arch>.deb with dpkg-deb alone (no debhelper): `npm run package [-- --out DIR]`, which
# compiles first. The tree is staged in a temporary directory from this checkout's dist/src, rules, the built
# capture addon and the production node_modules; the man page and completion are generated from the option tables
# into it. Default output directory: dist/. Layout and choices: native-notes/capture.md, "The Debian package".
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

OUT=$REPO/dist
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift 2 ;;
    --out=*) OUT=${1#--out=}; shift ;;
    *) echo "build-deb: unknown argument $1 (usage: build-deb.sh [--out DIR])" >&2; exit 2 ;;
  esac
done

die() { echo "build-deb: $*" >&2; exit 1; }
for tool in dpkg-deb dpkg objdump gzip; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (apt-get install -y dpkg-dev binutils gzip)"
done
[ -f dist/src/cli/main.js ] || die "dist/src is not built: npx tsc -p tsconfig.json (npm run package does it)"
ADDON=build/Release/pcap_capture.node
[ -f "$ADDON" ] || die "$ADDON is not built: npm ci, or bash scripts/ensure-native.sh"

NAME=$(node -p 'require("./package.json").name')
VERSION=$(node -p 'require("./package.json").version')
DESCRIPTION=$(node -p 'require("./package.json").description')
ARCH=$(dpkg --print-architecture)
MAINTAINER="picket developers <picket@example.org>"
# Reproducible dates: the last commit's, not the build's.
EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
export SOURCE_DATE_EPOCH=$EPOCH

STAGE=$(mktemp -d "${TMPDIR:-/tmp}/picket-deb.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
ROOT=$STAGE/root
LIB=$ROOT/usr/lib/picket
DOC=$ROOT/usr/share/doc/picket
mkdir -p "$LIB/bin" "$LIB/dist" "$LIB/build/Release" "$LIB/node_modules" "$ROOT/usr/bin" "$ROOT/etc/picket/rules.d" \
  "$ROOT/lib/systemd/system" "$ROOT/usr/lib/sysusers.d" "$ROOT/usr/share/man/man1" \
  "$ROOT/usr/share/bash-completion/completions" "$DOC" "$ROOT/DEBIAN"

# ---------- /usr/lib/picket: the program ----------
cp bin/picket.js "$LIB/bin/"
# Source maps are left out: node does not read them unless told to, and they double the size.
(cd dist && find src -type f -name '*.js' -exec cp --parents -t "$LIB/dist" {} +)
cp -r rules "$LIB/"
cp package.json "$LIB/"
# The Elasticsearch index template, for the SIEM team to install (elastic/README.md says how).
mkdir -p "$DOC/elastic" && cp elastic/index-template.json elastic/README.md "$DOC/elastic/"
cp packaging/launch.js "$LIB/"
cp "$ADDON" "$LIB/build/Release/"

# Production dependencies exactly as the lock file resolved them (no registry access here): every package that
# is not a dev dependency. nan is C++ headers that cap compiles against; nothing requires it at run time.
# The optional cap backend goes in only where it was built.
mapfile -t MODULES < <(node -e '
  const lock = require("./package-lock.json");
  for (const [key, p] of Object.entries(lock.packages)) {
    if (key === "" || p.dev) continue;
    if (key === "node_modules/nan") continue;
    console.log(key);
  }')
SHIPPED=()
for m in "${MODULES[@]}"; do
  [ -d "$m" ] || { [ "$m" = node_modules/cap ] && continue; die "$m is in package-lock.json but not installed: npm ci"; }
  if [ "$m" = node_modules/cap ]; then
    [ -f node_modules/cap/build/Release/cap.node ] || { echo "build-deb: the optional cap backend is not built; packaging without it" >&2; continue; }
    mkdir -p "$LIB/node_modules/cap/build/Release"
    cp -r node_modules/cap/lib node_modules/cap/package.json node_modules/cap/LICENSE node_modules/cap/README.md "$LIB/node_modules/cap/"
    cp node_modules/cap/build/Release/cap.node "$LIB/node_modules/cap/build/Release/"
  else
    mkdir -p "$LIB/$(dirname "$m")"
    cp -r "$m" "$LIB/$m"
  fi
  SHIPPED+=("$m")
done
# Type declarations and source maps are for developers and debuggers, not for running; the modules' licences
# are in the copyright file and their READMEs are for their developers.
find "$LIB/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' \
  -o -iname 'README*' -o -iname 'LICENSE*' -o -iname 'CHANGELOG*' \) -delete
# Native code without its debugging symbols, as Debian ships shared objects.
find "$LIB" -name '*.node' -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +

# ---------- commands, configuration, service, documentation ----------
install -m 0755 packaging/picket.sh "$ROOT/usr/bin/picket"
install -m 0644 packaging/picket.yaml "$ROOT/etc/picket/picket.yaml"
install -m 0644 packaging/picket.service "$ROOT/lib/systemd/system/picket.service"
install -m 0644 packaging/sysusers.conf "$ROOT/usr/lib/sysusers.d/picket.conf"
node scripts/gen-docs.js "$STAGE/docs" >/dev/null
gzip -9n <"$STAGE/docs/picket.1" >"$ROOT/usr/share/man/man1/picket.1.gz"
install -m 0644 "$STAGE/docs/picket.bash-completion" "$ROOT/usr/share/bash-completion/completions/picket"
install -m 0644 packaging/README.Debian "$DOC/README.Debian"
mkdir -p "$ROOT/usr/share/lintian/overrides"
grep -v '^#' packaging/lintian-overrides >"$ROOT/usr/share/lintian/overrides/picket"

# copyright: picket's own terms, then each shipped module's licence as its package.json and LICENSE give it.
{
  # The years of the repository's history.
  first=$(git log --reverse --format=%ad --date=format:%Y 2>/dev/null | head -n1) || first=
  last=$(date -u -d "@$EPOCH" +%Y)
  years=${first:-$last}
  [ "$years" = "$last" ] || years="$years-$last"
  sed "s/@YEARS@/$years/" packaging/copyright
  for m in "${SHIPPED[@]}"; do
    node -e '
      const fs = require("fs"), path = require("path");
      const dir = process.argv[1];
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
      const lic = pkg.license ?? (pkg.licenses ?? []).map((l) => l.type).join(" or ");
      const file = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)(\.md|\.txt)?$/i.test(f));
      if (!lic || !file) { console.error(`build-deb: ${dir}: no licence name or file`); process.exit(1); }
      const text = fs.readFileSync(path.join(dir, file), "utf8").replace(/\s+$/, "");
      const holder = (text.match(/^.*copyright.*\S.*$/im) ?? [`the ${pkg.name} authors`])[0].replace(/^[#\s]*/, "").replace(/^copyright:?\s*(\(c\)\s*)?/i, "");
      console.log(`\nFiles: usr/lib/picket/${dir}/*\nCopyright: ${holder}\nLicense: ${lic}`);
      console.log(text.split("\n").map((l) => (l.trim() === "" ? " ." : ` ${l}`)).join("\n"));
    ' "$m"
  done
} >"$DOC/copyright"

{
  echo "$NAME ($VERSION) unstable; urgency=medium"
  echo
  echo "  * Built from the picket repository$(git rev-parse --short HEAD >/dev/null 2>&1 && echo " at commit $(git rev-parse --short HEAD)")."
  echo
  echo " -- $MAINTAINER  $(date -u -R -d "@$EPOCH")"
} | gzip -9n >"$DOC/changelog.gz"

# ---------- modes: what dpkg installs, root-owned (dpkg-deb --root-owner-group) ----------
find "$ROOT" -type d -exec chmod 0755 {} +
find "$ROOT" -type f -exec chmod 0644 {} +
chmod 0755 "$ROOT/usr/bin/picket" "$LIB/bin/picket.js"
# The dependencies' own command-line tools (their package.json "bin"): picket never runs them.
node -e '
  const fs = require("fs"), path = require("path");
  const top = process.argv[1];
  for (const dir of process.argv.slice(2)) {
    const pkg = JSON.parse(fs.readFileSync(path.join(top, dir, "package.json"), "utf8"));
    const bins = typeof pkg.bin === "string" ? [pkg.bin] : Object.values(pkg.bin ?? {});
    for (const b of bins) fs.rmSync(path.join(top, dir, b), { force: true });
  }' "$LIB" "${SHIPPED[@]}"

# ---------- DEBIAN/ ----------
# Shared libraries the native modules link (libpcap is also dlopen()ed by the addon, so it is listed by name),
# and libc at the newest symbol version they use: what dpkg-shlibdeps would find, without a debian/ tree.
declare -A DEPS=([libpcap0.8]=libpcap0.8 [passwd]=passwd)
# (Whole outputs are read before they are searched: a reader that stops early would SIGPIPE the writer, which
# pipefail turns into a failure.)
ldconfig -p >"$STAGE/ld.so.cache.txt"
owner() { # the package that owns a file, or nothing
  local out
  out=$(dpkg -S "$1" 2>/dev/null) || return 0
  out=${out%%$'\n'*}
  echo "${out%%:*}"
}
GLIBC=0
while IFS= read -r so; do
  while IFS= read -r lib; do
    path=$(awk -v l="$lib" '$1 == l && !p { print $NF; p = 1 }' "$STAGE/ld.so.cache.txt")
    [ -n "$path" ] || die "$so needs $lib, which this machine does not have"
    pkg=$(owner "$(readlink -f "$path")")
    [ -n "$pkg" ] || pkg=$(owner "$path")
    [ -n "$pkg" ] || die "no Debian package owns $path (needed by $so)"
    DEPS[$pkg]=$pkg
  done < <(objdump -p "$so" | awk '$1 == "NEEDED" { print $2 }')
  v=$(objdump -T "$so" | grep -o 'GLIBC_[0-9.]*' | sed 's/GLIBC_//' | sort -V | tail -n1)
  [ -n "$v" ] && GLIBC=$(printf '%s\n%s\n' "$GLIBC" "$v" | sort -V | tail -n1)
done < <(find "$LIB" -name '*.node')
[ -n "${DEPS[libc6]:-}" ] && [ "$GLIBC" != 0 ] && DEPS[libc6]="libc6 (>= $GLIBC)"
DEPENDS=$(printf '%s\n' "${DEPS[@]}" | sort | paste -sd, | sed 's/,/, /g')

SIZE=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat >"$ROOT/DEBIAN/control" <<EOF
Package: $NAME
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE
Depends: $DEPENDS
Section: net
Priority: optional
Description: network sensor for reconnaissance: intel lookups and scans
$(echo "$DESCRIPTION." | fold -s -w 72 | sed 's/ *$//; s/^/ /')
 .
 picket reads packets live from interfaces through libpcap, or replayed from
 pcap/pcapng files, names the tools behind scans and probes (nmap, masscan,
 zmap, hping3, sqlmap, ...), and writes ECS alerts as NDJSON to files, syslog
 or Elasticsearch. The picket service captures as its own user with
 CAP_NET_RAW and CAP_NET_ADMIN only.
 .
 It needs Node.js 20 or later, which Debian 12 does not ship: see
 /usr/share/doc/picket/README.Debian.
EOF
echo /etc/picket/picket.yaml >"$ROOT/DEBIAN/conffiles"
install -m 0755 packaging/postinst packaging/prerm packaging/postrm "$ROOT/DEBIAN/"
(cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) >"$ROOT/DEBIAN/md5sums"
chmod 0644 "$ROOT/DEBIAN/control" "$ROOT/DEBIAN/conffiles" "$ROOT/DEBIAN/md5sums"

mkdir -p "$OUT"
DEB=$OUT/${NAME}_${VERSION}_${ARCH}.deb
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "build-deb: $DEB ($(du -k "$DEB" | cut -f1) KiB; Depends: $DEPENDS)"
