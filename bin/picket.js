#!/usr/bin/env node
'use strict';
// V8 lets the heap grow to several times its live set between full collections: under a flood of new sources
// picket's live heap stays under ~100 MB, yet peak RSS reached 330-400 MB inline and more with workers
// (bench/RESULTS.md, "Peak RSS under floods"). A smaller growing factor keeps the heap near its live set without a
// hard cap, which would end a sensor whose rules are large (a million intel domains take ~150 MB). Unlike
// --max-old-space-size, this flag is read at each collection, so setting it here works, for worker threads too.
// A --heap-growing-percent given to node (or in NODE_OPTIONS) wins.
const GROWING_PERCENT = 20;
if (![...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)].some((a) => a.startsWith('--heap-growing-percent'))) {
  require('node:v8').setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
}
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
