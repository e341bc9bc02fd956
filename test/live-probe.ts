/**
 * A live capture in a child process, for test/live-capture.test.ts and bench/live.ts: they run it with
 * `ip netns exec NS node dist/test/live-probe.js ...` so that it captures inside the namespace that holds the
 * interface. It prints one JSON object a line on stdout:
 *   {"type":"open", backend, iface, linktype}      then {"type":"ready"} once start() has returned
 *   {"type":"batch", count, firstOrdinal, packets: [[tsSec, tsNsec, caplen, origlen, linktype, hex], ...]}
 *   {"type":"stopping", reason}                    when it calls stop() (after --count packets, SIGTERM, --max-seconds)
 *   {"type":"error", message}                      from onError
 *   {"type":"end", stats, again}                   stop()'s result, and that of a second stop() (idempotence)
 *   {"type":"open-error", message}                 openLive threw (exit status 2)
 *   {"type":"interfaces", list}                    with --list
 * Options: --iface I --backend auto|addon|cap --bpf F --count N --batch-packets N --flush-ms N --snaplen N
 *          --buffer-mb N --promisc --max-seconds N --quiet (batches as counts only: no packet lines) --list
 *          --stall-until FILE (block the JS thread in the first batch until FILE exists: {"type":"stalling"}, then
 *          {"type":"resumed"}) --decode (decode every packet with picket's decoder) --spin-ns N (busy N ns a packet)
 *
 * The test runner runs every .js file under dist/test; run that way (no arguments) this file does nothing.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { openLive, listInterfaces, type LiveOptions } from '../src/capture/live';
import type { PacketBatch } from '../src/capture/batch';
import { decodePacket } from '../src/decode/decode';
import { createDecodedPacket } from '../src/core/packet';

function out(o: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : undefined;
}

function num(name: string): number | undefined {
  const v = arg(name);
  return v === undefined ? undefined : Number(v);
}

function main(): void {
  if (process.argv.includes('--list')) {
    out({ type: 'interfaces', list: listInterfaces() });
    return;
  }
  const iface = arg('iface');
  if (iface === undefined) {
    // Started by `node --test dist/test/` as if it were a test file, or by hand without arguments.
    process.stdout.write('live-probe: a helper of test/live-capture.test.ts and bench/live.ts (see the comment at the top)\n');
    return;
  }
  const opts: LiveOptions = {
    iface,
    backend: (arg('backend') ?? 'auto') as LiveOptions['backend'],
    bpf: arg('bpf'),
    snaplen: num('snaplen'),
    bufferMb: num('buffer-mb'),
    batchPackets: num('batch-packets'),
    flushMs: num('flush-ms'),
    promisc: process.argv.includes('--promisc'),
  };
  const want = num('count') ?? Infinity;
  const maxSeconds = num('max-seconds') ?? 60;
  const quiet = process.argv.includes('--quiet');
  // Blocks the JavaScript thread in the first batch's callback until this file exists (60 s at most): JavaScript
  // "falls behind", as a slow consumer would, without depending on how long anything takes.
  let stallUntil = arg('stall-until');
  // For bench/live.ts: a consumer that does work per packet, so that JavaScript can fall behind for real.
  const decode = process.argv.includes('--decode');
  const spinNs = num('spin-ns') ?? 0;
  const pkt = createDecodedPacket();
  let decoded = 0;
  // The longest wait between two batches as JavaScript saw it: where a consumer stall would show.
  let lastBatchAt = 0;
  let maxGapMs = 0;

  let src;
  try {
    src = openLive(opts);
  } catch (e) {
    out({ type: 'open-error', name: (e as Error).name, message: (e as Error).message });
    process.exitCode = 2;
    return;
  }
  const source = src;
  out({ type: 'open', backend: source.backend, iface: source.iface, linktype: source.linktype });

  let seen = 0;
  let stopping = false;
  const stop = (reason: string): void => {
    if (stopping) return;
    stopping = true;
    out({ type: 'stopping', reason, seen });
    void (async () => {
      const stats = await source.stop();
      const again = await source.stop();
      out({ type: 'end', stats, again, seen, decoded, maxGapMs: Math.round(maxGapMs) });
      clearTimeout(limit);
      process.exit(0);
    })();
  };
  const limit = setTimeout(() => stop('max-seconds'), maxSeconds * 1000);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  source.start(
    (b: PacketBatch) => {
      seen += b.count;
      const now = performance.now();
      if (lastBatchAt > 0 && now - lastBatchAt > maxGapMs) maxGapMs = now - lastBatchAt;
      lastBatchAt = now;
      if (decode) {
        for (let i = 0; i < b.count; i++) if (decodePacket(b.data, b.offset[i], b.caplen[i], b.origlen[i], b.linktype[i], pkt) === 0) decoded++;
      }
      if (spinNs > 0) {
        const until = process.hrtime.bigint() + BigInt(Math.round(spinNs * b.count));
        while (process.hrtime.bigint() < until);
      }
      if (quiet) {
        out({ type: 'batch', count: b.count, firstOrdinal: b.firstOrdinal });
      } else {
        const packets: Array<[number, number, number, number, number, string]> = [];
        for (let i = 0; i < b.count; i++) {
          const off = b.offset[i];
          packets.push([b.tsSec[i], b.tsNsec[i], b.caplen[i], b.origlen[i], b.linktype[i], b.data.toString('hex', off, off + b.caplen[i])]);
        }
        out({ type: 'batch', count: b.count, firstOrdinal: b.firstOrdinal, packets });
      }
      if (stallUntil !== undefined) {
        const file = stallUntil;
        stallUntil = undefined;
        out({ type: 'stalling' });
        const deadline = Date.now() + 60_000;
        while (!fs.existsSync(file) && Date.now() < deadline) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
        out({ type: 'resumed' });
      }
      if (seen >= want) stop('count');
    },
    (err: Error) => {
      out({ type: 'error', name: err.name, message: err.message });
      stop('error');
    },
  );
  out({ type: 'ready' });
}

main();
