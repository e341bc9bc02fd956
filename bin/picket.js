#!/usr/bin/env node
'use strict';
/** Sets a V8 flag unless node was given it (on its command line or in NODE_OPTIONS): the user's value wins. */
function v8Default(flag, value) {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS || '').split(/\s+/)].some((a) => a.startsWith(`--${flag}`));
  if (!given) require('node:v8').setFlagsFromString(`--${flag}=${value}`);
}
// V8 lets the heap grow to several times its live set between full collections: under a flood of new sources
// picket's live heap stays under ~100 MB, yet peak RSS reached 330-400 MB inline and more with workers
// (bench/RESULTS.md, "Peak RSS under floods"). A smaller growing factor keeps the heap near its live set without a
// hard cap, which would end a sensor whose rules are large (a million intel domains take ~150 MB). Unlike
// --max-old-space-size, this flag is read at each collection, so setting it here works, for worker threads too.
const GROWING_PERCENT = 20;
v8Default('heap-growing-percent', GROWING_PERCENT);
// Less inlining into one optimised function (V8's default budget is 920 bytes of bytecode): the engine's batch loop
// inlined most of the packet path, so each first use of a rare branch (an ICMP error, a tunnel, a new protocol)
// deoptimised the whole of it and TurboFan compiled it again, 11-21 times a run. At 250, TurboFan's background CPU
// on the bench mix fell from 1.14 s to 0.69 s of compile time inline, and the run's CPU by 9 % inline and with two
// workers (wall -8 % with workers). The price: the main thread's steady-state code is ~2 % slower, which a long
// inline run pays (bench/RESULTS.md, "Inlining budget"). Read at each compilation, so setting it here works, for
// worker threads too.
const INLINE_BUDGET = 250;
v8Default('max-inlined-bytecode-size-cumulative', INLINE_BUDGET);
// The young generation starts at 1 MB a semi-space and doubles while much of what it collects survives, up to its
// usual cap: at start-up (module code, the rules, the intel index: ~33 MB before the first packet) that is many
// small scavenges. Growing fourfold reaches the working size in fewer: on the bench mix scavenges 17-19 -> 11, their
// time 39-45 -> 29-31 ms, garbage collection 3.4-4.4 % -> 2.7-3.0 % of the CPU profile, peak RSS unchanged (floods
// too: the cap is the same). The size itself (--min-semi-space-size) is fixed when the isolate is made; this
// factor is read at each growth, so setting it here works, for worker threads too.
const YOUNG_GROWTH = 4;
v8Default('semi-space-growth-factor', YOUNG_GROWTH);
require('../dist/src/cli/main.js').main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
