/**
 * The HTTP head parser on its worst case: request heads of 99 header lines without ':' (test/repro/
 * http-nocolon-1000.pcap), and the same heads with a ':' in every line for comparison. Each packet's head is parsed
 * where it lies in the read window, with the packets after it behind it, as the engine parses it. Prints µs per
 * packet (median of the runs); used for bench/RESULTS.md.
 *   node dist/bench/http-worst.js [FILE] [runs]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseHttpRequest } from '../src/app/http/http';
import { readCaptureFile } from '../src/capture/file';
import { decodePacket } from '../src/decode/decode';
import { createDecodedPacket } from '../src/core/packet';

const REPEAT = 20;

/** µs per packet parsing every packet's head REPEAT times, and how many heads parsed as requests. */
async function measure(file: string): Promise<{ us: number; requests: number; packets: number }> {
  const pkt = createDecodedPacket();
  let ns = 0;
  let parsed = 0;
  let requests = 0;
  let packets = 0;
  await readCaptureFile(file, (b) => {
    const offs: number[] = [];
    const ends: number[] = [];
    for (let i = 0; i < b.count; i++) {
      decodePacket(b.data, b.offset[i], b.caplen[i], b.origlen[i], b.linktype[i], pkt);
      if (pkt.payloadLen === 0) continue;
      offs.push(pkt.payloadOff);
      ends.push(pkt.payloadOff + pkt.payloadLen);
    }
    packets += offs.length;
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < REPEAT; r++) {
      for (let k = 0; k < offs.length; k++) if (parseHttpRequest(b.data, offs[k], ends[k]).kind === 'request' && r === 0) requests++;
    }
    ns += Number(process.hrtime.bigint() - t0);
    parsed += offs.length * REPEAT;
  }, { firstOrdinal: 0 });
  return { us: ns / 1000 / parsed, requests, packets };
}

/** A copy of the capture whose header lines "abcdefgh" read "abcd:fgh": the same sizes, a ':' in every line. */
function withColons(file: string): string {
  const b = Buffer.from(fs.readFileSync(file));
  const from = Buffer.from('\r\nabcdefgh\r\n');
  for (let p = b.indexOf(from); p >= 0; p = b.indexOf(from, p + 10)) b[p + 6] = 0x3a;
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'picket-http-worst-')), 'colons.pcap');
  fs.writeFileSync(out, b);
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, c) => a - c);
  return s[Math.floor(s.length / 2)];
}

async function main(): Promise<void> {
  const file = process.argv[2] ?? path.join(__dirname, '..', '..', 'test', 'repro', 'http-nocolon-1000.pcap');
  const runs = Number(process.argv[3] ?? 5);
  const colons = withColons(file);
  for (const [label, f] of [['no colons', file], ['colons', colons]] as const) {
    const us: number[] = [];
    let last = { us: 0, requests: 0, packets: 0 };
    for (let r = 0; r < runs; r++) {
      last = await measure(f);
      us.push(last.us);
    }
    console.log(`${label.padEnd(10)} ${median(us).toFixed(2)} µs/packet (median of ${runs}; runs ${us.map((u) => u.toFixed(2)).join(' ')}), ${last.requests}/${last.packets} heads parsed as requests`);
  }
  fs.rmSync(path.dirname(colons), { recursive: true });
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
