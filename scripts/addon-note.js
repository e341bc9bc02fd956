#!/usr/bin/env node
'use strict';
// Run by `npm ci` / `npm install` when node-gyp could not build the live-capture addon (native/pcap_capture.c).
// The install goes on: replay needs no native code, and `picket capture` falls back to the optional `cap`
// package (slower, no drop counters; see native-notes/capture.md).
process.stderr.write(
  'picket: the live-capture addon was not built (node-gyp failed above). Replay works as usual; ' +
  '"picket capture" will use the npm "cap" package if it installed.\n' +
  'picket: to build the addon: apt-get install g++ make python3 && npm rebuild picket (no libpcap headers needed: libpcap0.8 is loaded at run time)\n',
);
process.exit(0);
