/**
 * Capture readers compared on one file: picket's framer (4 MiB reads framed in place into batches), the
 * pcap-parser package the design card names (a stream parser emitting one event and one object per packet), and
 * a bare read loop (the I/O floor). Prints packets/s for each; used for bench/RESULTS.md.
 *   node dist/bench/readers.js FILE [runs]
 */
import * as fs from 'node:fs';
import { readCaptureFile } from '../src/capture/file';

interface PcapParserPacket {
  header: { capturedLength: number };
}
interface PcapParserEmitter {
  on(ev: 'packet', cb: (p: PcapParserPacket) => void): PcapParserEmitter;
  on(ev: 'end', cb: () => void): PcapParserEmitter;
  on(ev: 'error', cb: (e: Error) => void): PcapParserEmitter;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pcapParser = require('pcap-parser') as { parse(file: string): PcapParserEmitter };

async function picketFramer(file: string): Promise<[number, number]> {
  let packets = 0;
  let bytes = 0;
  await readCaptureFile(file, (b) => {
    packets += b.count;
    for (let i = 0; i < b.count; i++) bytes += b.caplen[i];
  }, { firstOrdinal: 0 });
  return [packets, bytes];
}

function pcapParserRead(file: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    let packets = 0;
    let bytes = 0;
    pcapParser.parse(file)
      .on('packet', (p) => {
        packets++;
        bytes += p.header.capturedLength;
      })
      .on('end', () => resolve([packets, bytes]))
      .on('error', reject);
  });
}

async function readLoop(file: string): Promise<[number, number]> {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  let bytes = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, 0, buf.length, null);
    if (n === 0) break;
    bytes += n;
  }
  fs.closeSync(fd);
  return [0, bytes];
}

async function main(): Promise<void> {
  const file = process.argv[2];
  const runs = Number(process.argv[3] ?? 3);
  if (file === undefined) throw new Error('usage: node dist/bench/readers.js FILE [runs]');
  const [packets] = await picketFramer(file); // warm the page cache
  const size = fs.statSync(file).size;
  const rows: string[] = [];
  for (const [name, fn] of [['picket framer (readCaptureFile)', picketFramer], ['pcap-parser 0.2.1', pcapParserRead], ['read loop, 4 MiB reads (I/O floor)', readLoop]] as const) {
    const times: number[] = [];
    let got = 0;
    for (let r = 0; r < runs; r++) {
      const t0 = process.hrtime.bigint();
      [got] = await fn(file);
      times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
    times.sort((a, b) => a - b);
    const t = times[Math.floor(times.length / 2)];
    if (got !== 0 && got !== packets) throw new Error(`${name} read ${got} packets, expected ${packets}`);
    rows.push(`| ${name} | ${t.toFixed(3)} | ${(packets / t / 1e6).toFixed(2)} | ${((size * 8) / t / 1e9).toFixed(2)} |`);
  }
  process.stdout.write(`file: ${file}, ${packets} packets, ${size} bytes, median of ${runs} runs\n\n`);
  process.stdout.write('| reader | wall s | Mpackets/s | Gbit/s |\n| --- | --- | --- | --- |\n');
  process.stdout.write(rows.join('\n') + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
});
