#!/usr/bin/env bash
# Makes sure both live-capture backends are built, whatever was installed first. Run by `npm test` (pretest) after
# scripts/ensure-tools.sh.
#
# Why: on a fresh machine `npm ci` may run before the Debian packages are there. The addon needs no libpcap headers
# (native/pcap_dl.h loads libpcap at run time) but does need a compiler, which ensure-tools may only just have
# installed; the optional `cap` package compiles against libpcap's headers, so npm skipped it if libpcap-dev came
# later. Both are built here once what they need is present, so the order of the README's commands does not matter.
set -euo pipefail
cd "$(dirname "$0")/.."

# Built when missing, and again when its sources changed since (a pull that brings new native code).
if [ ! -e build/Release/pcap_capture.node ] || [ -n "$(find native binding.gyp -newer build/Release/pcap_capture.node -print -quit)" ]; then
  echo "ensure-native: building the live-capture addon" >&2
  npm run --silent install
fi

if ! node -e "require('cap')" >/dev/null 2>&1; then
  version=$(node -p "require('./package-lock.json').packages['node_modules/cap'].version")
  echo "ensure-native: installing the optional cap@$version backend (its build needs libpcap-dev, now present)" >&2
  npm install --no-save --no-audit --no-fund "cap@$version" >/dev/null
fi
