/**
 * Deterministic generator of a large, realistic classic pcap for benchmarking (and smoke-testing) picket.
 *
 *   node dist/bench/gen.js --packets 2000000 --seed 1 --out bench/data/mix-2m.pcap
 *
 * writes the pcap (Ethernet, little-endian, microsecond, snaplen 65535) and, next to it, `<name>.truth.json`
 * describing exactly what was put in the file (counts, intel look-ups, embedded scans, deliberate malformed frames).
 *
 * Model. The capture is a sequence of packet "slots" with a global clock (exponential inter-arrival at a rate that
 * drifts between ~0.5x and ~2x of --pps). Each slot is filled, in priority order, by: a deliberate malformed frame,
 * a slow-scan probe that is due, a scheduled probe of one of the fast scans, a deferred one-shot reply (DNS answer,
 * ICMP reply, scan answer) that is due, or else a new DNS query / ICMP exchange / the next packet of a TCP flow.
 * TCP flows live in a min-heap keyed by the slot at which their next packet is due (delays are real-time delays,
 * converted to slots through --pps); a TCP slot serves the most overdue flow or, if none is due, opens a new flow.
 * Concurrency therefore settles where Little's law puts it (tens of thousands of flows at the default settings).
 * The first seconds are pre-populated with flows that are already established, so the capture starts mid-stream
 * instead of with a burst of SYNs.
 *
 * Speed. Every frame is written straight into one large reused Buffer (flushed with fs.writeSync in multi-MB
 * chunks); random payload is copied from a pre-generated pool whose 16-bit prefix sums make TCP/UDP checksums of
 * bulk payload O(1). All IPv4, TCP, UDP and ICMP checksums are correct (UDP over IPv4 included).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { pcapFileHeader } from '../src/capture/pcap';

// ------------------------------------------------------------------------------------------------ PRNG

/** mulberry32 with a scrambled seed: fast, 32-bit state, good enough for traffic synthesis. */
export class Rng {
  private a: number;

  constructor(seed: number) {
    let z = (seed ^ 0x9e3779b9) | 0;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    this.a = (z ^ (z >>> 16)) | 0;
  }

  u32(): number {
    let t = (this.a = (this.a + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** [0, 1) */
  f(): number {
    return this.u32() / 4294967296;
  }

  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.f() * n);
  }

  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + Math.floor(this.f() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.f() < p;
  }

  exp(mean: number): number {
    return -Math.log(1 - this.f()) * mean;
  }

  normal(): number {
    const u = 1 - this.f();
    const v = this.f();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  logn(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  pick<T>(arr: readonly T[]): T {
    return arr[Math.floor(this.f() * arr.length)];
  }
}

// ------------------------------------------------------------------------------------------------ byte helpers

function w16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

function w32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

function w32le(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}

/**
 * Un-folded one's-complement sum of b[start, end) as big-endian 16-bit words. `odd` says that `start` sits at an odd
 * offset relative to the start of the checksummed region, i.e. b[start] is the low byte of its word.
 */
export function sumBytes(b: Uint8Array, start: number, end: number, odd: boolean): number {
  let s = 0;
  let i = start;
  if (odd && i < end) {
    s += b[i];
    i++;
  }
  for (; i + 1 < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i < end) s += b[i] << 8;
  return s;
}

/** Checksum field for an un-folded sum (never returns 0, so it is also valid as a UDP checksum). */
export function csumFinish(s: number): number {
  return 0xffff - (s % 65535);
}

function ipStr(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

function ipNum(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

// ------------------------------------------------------------------------------------------------ pcap writer

const RING_BUFS = 4;
const RING_BUF_SIZE = 8 << 20;
const FRAME_HEADROOM = 70000;

/**
 * The writer thread: waits for ring buffer i to be handed over (ctl[i] = length), writes it with fs.writeSync, hands it
 * back (ctl[i] = 0). ctl[i] = -1 ends the stream. ctl[RING_BUFS] = 1 when done, ctl[RING_BUFS + 1] = 1 on error.
 */
const WRITER_SRC = `
const { workerData } = require('worker_threads');
const fs = require('fs');
const { sab, ctlSab, fd, n, size } = workerData;
const ctl = new Int32Array(ctlSab);
let i = 0;
try {
  for (;;) {
    Atomics.wait(ctl, i, 0);
    const len = Atomics.load(ctl, i);
    if (len < 0) break;
    const buf = Buffer.from(sab, i * size, len);
    let off = 0;
    while (off < len) off += fs.writeSync(fd, buf, off, len - off);
    Atomics.store(ctl, i, 0);
    Atomics.notify(ctl, i);
    i = (i + 1) % n;
  }
} catch (e) {
  Atomics.store(ctl, n + 1, 1);
  process.stderr.write('pcap writer: ' + (e && e.message ? e.message : String(e)) + '\\n');
}
Atomics.store(ctl, n, 1);
Atomics.notify(ctl, n);
`;

/**
 * Frames are built straight into one of a few reused 8 MiB shared buffers; a full buffer is handed to a writer
 * thread that flushes it with fs.writeSync while generation continues in the next one (on this class of VM the
 * kernel side of writing a GB costs 1-4 s, which would otherwise add to generation time). Output goes to FILE.tmp
 * and is renamed to FILE when complete, so an interrupted run never leaves a plausible-looking pcap behind.
 */
class PcapOut {
  /** The whole shared memory (ring buffers, then `extra` bytes for the caller); frame offsets are absolute. */
  readonly buf: Buffer;
  readonly u8: Uint8Array;
  readonly dv: DataView;
  /** Offset of the caller's extra area in buf. */
  readonly extraBase: number;
  pos = 0;
  fileBytes = 0;
  private cur = 0;
  private base = 0;
  private readonly ctl: Int32Array;
  private readonly worker: Worker;
  private readonly tmp: string;
  private readonly fd: number;

  constructor(private readonly file: string, extra: number) {
    this.tmp = file === '/dev/null' ? file : `${file}.tmp`;
    const fd = fs.openSync(this.tmp, 'w');
    this.fd = fd;
    this.extraBase = RING_BUFS * RING_BUF_SIZE;
    const sab = new SharedArrayBuffer(this.extraBase + extra);
    const ctlSab = new SharedArrayBuffer(4 * (RING_BUFS + 2));
    this.ctl = new Int32Array(ctlSab);
    this.buf = Buffer.from(sab);
    this.u8 = new Uint8Array(sab);
    this.dv = new DataView(sab);
    this.worker = new Worker(WRITER_SRC, { eval: true, workerData: { sab, ctlSab, fd, n: RING_BUFS, size: RING_BUF_SIZE } });
    this.worker.unref();
    const b = this.buf;
    this.pos = pcapFileHeader(1, false).copy(b, 0);
  }

  /** Offset at which the next frame's bytes go (its 16-byte record header is written by commit). */
  frame(): number {
    if (this.pos + 16 + FRAME_HEADROOM > this.base + RING_BUF_SIZE) this.flush();
    return this.pos + 16;
  }

  commit(tsUs: number, caplen: number, origlen: number): void {
    const dv = this.dv;
    const p = this.pos;
    const sec = Math.floor(tsUs / 1e6);
    dv.setUint32(p, sec, true);
    dv.setUint32(p + 4, tsUs - sec * 1e6, true);
    dv.setUint32(p + 8, caplen, true);
    dv.setUint32(p + 12, origlen, true);
    this.pos = p + 16 + caplen;
  }

  private checkError(): void {
    if (Atomics.load(this.ctl, RING_BUFS + 1) !== 0) throw new Error(`writing ${this.tmp} failed`);
  }

  /** Hands the current buffer to the writer thread and waits until the next one is free. */
  flush(): void {
    const ctl = this.ctl;
    this.checkError();
    const len = this.pos - this.base;
    if (len > 0) {
      Atomics.store(ctl, this.cur, len);
      Atomics.notify(ctl, this.cur);
      this.fileBytes += len;
      this.cur = (this.cur + 1) % RING_BUFS;
    }
    for (;;) {
      const v = Atomics.load(ctl, this.cur);
      if (v === 0) break;
      this.checkError();
      Atomics.wait(ctl, this.cur, v, 1000);
    }
    this.base = this.cur * RING_BUF_SIZE;
    this.pos = this.base;
  }

  close(): void {
    this.flush();
    const ctl = this.ctl;
    Atomics.store(ctl, this.cur, -1);
    Atomics.notify(ctl, this.cur);
    while (Atomics.load(ctl, RING_BUFS) === 0) Atomics.wait(ctl, RING_BUFS, 0, 1000);
    void this.worker.terminate();
    fs.closeSync(this.fd);
    this.checkError();
    if (this.tmp !== this.file) fs.renameSync(this.tmp, this.file);
  }
}

// ------------------------------------------------------------------------------------------------ min-heap

class MinHeap {
  private keys: Float64Array;
  private vals: Int32Array;
  size = 0;

  constructor(cap: number) {
    this.keys = new Float64Array(cap);
    this.vals = new Int32Array(cap);
  }

  topKey(): number {
    return this.keys[0];
  }

  push(key: number, val: number): void {
    if (this.size === this.keys.length) {
      const k = new Float64Array(this.size * 2);
      k.set(this.keys);
      this.keys = k;
      const v = new Int32Array(this.size * 2);
      v.set(this.vals);
      this.vals = v;
    }
    const keys = this.keys;
    const vals = this.vals;
    let i = this.size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (keys[p] <= key) break;
      keys[i] = keys[p];
      vals[i] = vals[p];
      i = p;
    }
    keys[i] = key;
    vals[i] = val;
  }

  pop(): number {
    const keys = this.keys;
    const vals = this.vals;
    const top = vals[0];
    const n = --this.size;
    if (n > 0) {
      const key = keys[n];
      const val = vals[n];
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && keys[c + 1] < keys[c]) c++;
        if (keys[c] >= key) break;
        keys[i] = keys[c];
        vals[i] = vals[c];
        i = c;
      }
      keys[i] = key;
      vals[i] = val;
    }
    return top;
  }
}

// ------------------------------------------------------------------------------------------------ constants

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

const ROUTER_MAC_HI = 0x001c;
const ROUTER_MAC_LO = 0x73a1b2c3;

const POOL_SIZE = 1 << 22;
const SCRATCH_SIZE = 1 << 16;

const OS_WINDOWS = 0;
const OS_LINUX = 1;
const OS_MAC = 2;

// TCP option layouts
const OPT_NONE = 0;
const OPT_TS = 1; // NOP NOP TS
const OPT_SYN_LINUX = 2; // MSS SACKP TS NOP WS
const OPT_SYN_WIN = 3; // MSS NOP WS NOP NOP SACKP
const OPT_SYN_MAC = 4; // MSS NOP WS NOP NOP TS SACKP EOL EOL
const OPT_SYNACK_NOTS = 5; // MSS NOP NOP SACKP NOP WS
const OPT_MSS = 6; // MSS only (nmap)
const TCP_HLEN = [20, 32, 40, 32, 44, 32, 24];

const TH_FIN = 0x01;
const TH_SYN = 0x02;
const TH_RST = 0x04;
const TH_PSH = 0x08;
const TH_ACK = 0x10;

// flow app
const APP_OTHER = 0;
const APP_TLS = 1;
const APP_HTTP = 2;

// flow flags
const F_V6 = 1;
const F_TS = 2;
const F_EXT = 4;
const F_PQ = 8;
const F_TLS13 = 16;
const F_SRV_CLOSE = 32;
const F_RST_CLOSE = 64;
const F_PREFIX = 128; // server must start its next segment with SH/CCS (TLS round 0) or HTTP response headers
const F_INTEL = 256;
const F_PREEXIST = 512;
const F_FIN_SEEN = 1024;
const F_SEEN = 2048; // has emitted at least one packet
const F_RECS = 4096; // payload framed in TLS records (TLS flows, and TLS-based apps on other ports)

// flow states
const S_SYN = 0;
const S_SYNACK = 1;
const S_ACK = 2;
const S_REQ = 3;
const S_REQ2 = 4;
const S_DATA = 5;
const S_CACK = 6;
const S_FIN1 = 7;
const S_FIN2 = 8;
const S_FIN3 = 9;

// deferred one-shot events
const EV_DNS_RESP = 1;
const EV_DNS_QUERY = 2;
const EV_ECHO_REPLY = 3;
const EV_PORT_UNREACH = 4;
const EV_SCAN_REPLY = 5;
const EV_SCANNER_RST = 6;

const FLOW_CAP = 1 << 18;

/**
 * Ports >= 32768 with a port-registered dissector in Wireshark 4.0 (`tshark -G decodes`). Random ephemeral ports
 * avoid them, so random payload is never handed to a port-based dissector (which would report it as malformed).
 */
const REGISTERED_HIGH_PORTS = new Set([
  34962, 34980, 37008, 41170, 44321, 44322, 44818, 45564, 47000, 47808, 48049, 48898, 49999, 54328, 56000, 56001, 56500, 56501, 57000, 57001, 57032,
  57033, 57500, 57501, 57532, 57533, 59000, 59001, 59032, 59033, 59500, 59501, 59532, 59533, 60001,
]);

// ------------------------------------------------------------------------------------------------ names

export const INTEL_DOMAINS = ['shodan.io', 'censys.io', 'ipinfo.io', 'whois.arin.net', 'bgp.he.net', 'greynoise.io'];

/** [name, weight] — names whose DNS look-up is an IP-intelligence look-up. */
const INTEL_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['shodan.io', 5],
  ['api.shodan.io', 6],
  ['www.shodan.io', 3],
  ['exploits.shodan.io', 1],
  ['censys.io', 3],
  ['search.censys.io', 4],
  ['api.platform.censys.io', 1],
  ['ipinfo.io', 6],
  ['api.ipinfo.io', 1],
  ['whois.arin.net', 3],
  ['bgp.he.net', 3],
  ['greynoise.io', 2],
  ['api.greynoise.io', 2],
  ['viz.greynoise.io', 1],
];

/** Look-alikes that must NOT be reported as intel look-ups (no dot boundary, or intel name not a suffix). */
const DECOY_NAMES = ['shodan.io.example', 'notshodan.io', 'ipinfo.io.cdn7.example', 'mycensys.io'];

const TLS_INTEL_NAMES = ['api.shodan.io', 'www.shodan.io', 'search.censys.io', 'ipinfo.io', 'api.greynoise.io', 'viz.greynoise.io'];
const HTTP_INTEL_NAMES = ['ipinfo.io', 'whois.arin.net', 'bgp.he.net', 'api.shodan.io'];

const SUBDOMAINS = ['www', 'api', 'cdn', 'img', 'static', 'mail', 'login', 'm', 'assets', 'media', 'auth', 'files'];

const USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'curl/7.88.1',
  'python-requests/2.31.0',
  'Wget/1.21.3',
  'Go-http-client/1.1',
];

const HTTP_PATHS = ['/', '/index.html', '/favicon.ico', '/api/v1/items', '/static/js/app.js', '/images/logo.png', '/login', '/search?q=weather', '/robots.txt', '/feed.xml'];

function domainOf(name: string): string | null {
  let best: string | null = null;
  for (const d of INTEL_DOMAINS) {
    if ((name === d || name.endsWith('.' + d)) && (best === null || d.length > best.length)) best = d;
  }
  return best;
}

interface NameRec {
  name: string;
  ascii: Buffer;
  /** DNS wire format (labels + root). */
  wire: Buffer;
  /** Offset of the "example" label inside `wire`, or -1. Used as a compression target. */
  exampleOff: number;
  /** Labels (no terminator) of the CNAME target that precede ".example", or null if the name has no CNAME. */
  cnamePrefix: Buffer | null;
  server: number;
  nx: boolean;
  intel: boolean;
  decoy: boolean;
}

function encodeLabels(name: string): Buffer {
  const parts = name.split('.').filter((p) => p.length > 0);
  let n = 0;
  for (const p of parts) n += 1 + p.length;
  const b = Buffer.alloc(n);
  let o = 0;
  for (const p of parts) {
    b[o++] = p.length;
    o += b.write(p, o, 'latin1');
  }
  return b;
}

// ------------------------------------------------------------------------------------------------ truth

export interface ScanTruth {
  kind: string;
  tool: string;
  source: string;
  sourcePort: number;
  ports: number[];
  targets: number;
  targetNet: string;
  targetHosts?: string[];
  probes: number;
  synAck: number;
  rst: number;
  noAnswer: number;
  scannerRst: number;
  openPorts?: number[];
  ttl: string;
  window: number;
  firstTs: number | null;
  lastTs: number | null;
  notes?: string;
}

export interface Truth {
  generator: string;
  seed: number;
  packets: number;
  bytes: number;
  fileBytes: number;
  ppsNominal: number;
  firstTs: number;
  lastTs: number;
  firstIso: string;
  lastIso: string;
  durationS: number;
  linktype: number;
  snaplen: number;
  counts: Record<string, number>;
  frameSizes: { le127: number; from128to1023: number; ge1024: number; meanOrigLen: number };
  tcpFlows: { started: number; preexisting: number; closed: number; reset: number; maxConcurrent: number; concurrentAtEnd: number };
  intelDnsQueries: Record<string, number>;
  intelDnsByDomain: Record<string, number>;
  intelDnsClients: Record<string, Record<string, number>>;
  decoyDnsQueries: Record<string, number>;
  intelTlsSni: Record<string, number>;
  intelTlsClients: Record<string, Record<string, number>>;
  intelHttpHost: Record<string, number>;
  intelHttpClients: Record<string, Record<string, number>>;
  analystClients: string[];
  scans: ScanTruth[];
  malformed: number;
  malformedByKind: Record<string, number>;
  malformedFrames: Array<{ frame: number; kind: string }>;
  notes: string[];
}

function bump(m: Record<string, number>, k: string, n = 1): void {
  m[k] = (m[k] ?? 0) + n;
}

function bump2(m: Record<string, Record<string, number>>, k1: string, k2: string): void {
  let inner = m[k1];
  if (inner === undefined) {
    inner = {};
    m[k1] = inner;
  }
  inner[k2] = (inner[k2] ?? 0) + 1;
}

function sortedRecord(m: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(m).sort()) out[k] = m[k];
  return out;
}

// ------------------------------------------------------------------------------------------------ generator

export interface GenOptions {
  packets: number;
  seed: number;
  out: string;
  truthOut?: string;
  /** Nominal packet rate in packet time (packets per second). */
  pps?: number;
  /** Capture start, seconds since the epoch. */
  startSec?: number;
  quiet?: boolean;
}

class Hdr {
  v6 = false;
  src = 0;
  dst = 0;
  smacHi = 0;
  smacLo = 0;
  dmacHi = 0;
  dmacLo = 0;
  vlan = 0;
  outer = 0;
  ttl = 64;
  ipid = 0;
  df = true;
  fl = 0;
  /** 0 none, 1 hop-by-hop, 2 destination options (IPv6 only; one 8-byte PadN header). */
  ext = 0;
}

interface ScanDef {
  truth: ScanTruth;
  srcIp: number;
  sport: number;
  /** probe targets: ip, port */
  tIp: Uint32Array;
  tPort: Uint16Array;
  next: number;
  pSynAck: number;
  pRst: number;
  masscan: boolean;
  open: Set<number> | null;
}

type MalKind = 'truncated-ipv4-header' | 'bad-ihl' | 'tcp-doff-beyond-packet' | 'snaplen-cut';
const MAL_KINDS: MalKind[] = ['truncated-ipv4-header', 'bad-ihl', 'tcp-doff-beyond-packet', 'snaplen-cut'];

class Generator {
  private readonly rng: Rng;
  private readonly N: number;
  private readonly pps: number;
  private readonly slotsPerUs: number;
  private readonly out: PcapOut;
  private readonly h = new Hdr();

  // clock
  private tUs: number;
  private readonly t0Us: number;
  private slot = 0;
  private frameNo = 0;

  // payload pool and scratch area, both inside the output's shared memory so that copies are copyWithin calls
  private readonly mem: Uint8Array;
  private readonly dv: DataView;
  private readonly pool: Buffer;
  private readonly poolBase: number;
  private readonly poolPre: Float64Array;

  // payload pieces of the packet being built
  private readonly scr: Buffer;
  private readonly scrBase: number;
  private scrPos = 0;
  private readonly pcKind = new Uint8Array(64);
  private readonly pcA = new Int32Array(64);
  private readonly pcLen = new Int32Array(64);
  private pcN = 0;

  // IPv6 address store
  private v6bytes = new Uint8Array(16 * 32768);
  private v6sum = new Float64Array(32768);
  private v6n = 0;

  // hosts
  private readonly nClients = 4000;
  private readonly cIp: Uint32Array;
  private readonly cV6: Int32Array;
  private readonly cOs: Uint8Array;
  private readonly cMacHi: Uint16Array;
  private readonly cMacLo: Uint32Array;
  private readonly cVlan: Uint16Array;
  private readonly cOuter: Uint16Array;
  private readonly cIpId: Uint16Array;
  private readonly nServers = 12000;
  private readonly sIp: Uint32Array;
  private readonly sV6: Int32Array;
  private readonly sTtl: Uint8Array;
  private readonly analysts: number[] = [];
  private readonly resolvers4: number[];
  private readonly resolvers6: number[];
  private readonly resolverV6Internal: boolean[];

  // names
  private readonly names: NameRec[] = [];
  private nBenign = 0;
  private readonly intelIdx: number[] = [];
  private readonly intelW: number[] = [];
  private intelWSum = 0;
  private readonly decoyIdx: number[] = [];
  private readonly nameByString = new Map<string, number>();

  // TCP flows (struct of arrays)
  private readonly flowHeap = new MinHeap(1 << 16);
  private readonly freeFlows: Int32Array;
  private freeTop: number;
  private live = 0;
  private readonly fApp = new Uint8Array(FLOW_CAP);
  private readonly fFlags = new Uint16Array(FLOW_CAP);
  private readonly fState = new Uint8Array(FLOW_CAP);
  private readonly fCli = new Uint16Array(FLOW_CAP);
  private readonly fSrv = new Uint16Array(FLOW_CAP);
  private readonly fName = new Uint16Array(FLOW_CAP);
  private readonly fCport = new Uint16Array(FLOW_CAP);
  private readonly fSport = new Uint16Array(FLOW_CAP);
  private readonly fCseq = new Uint32Array(FLOW_CAP);
  private readonly fSseq = new Uint32Array(FLOW_CAP);
  private readonly fCtsBase = new Uint32Array(FLOW_CAP);
  private readonly fStsBase = new Uint32Array(FLOW_CAP);
  private readonly fCtsLast = new Uint32Array(FLOW_CAP);
  private readonly fStsLast = new Uint32Array(FLOW_CAP);
  private readonly fCid = new Uint16Array(FLOW_CAP);
  private readonly fSid = new Uint16Array(FLOW_CAP);
  private readonly fCwin = new Uint16Array(FLOW_CAP);
  private readonly fSwin = new Uint16Array(FLOW_CAP);
  private readonly fFlC = new Uint32Array(FLOW_CAP);
  private readonly fFlS = new Uint32Array(FLOW_CAP);
  private readonly fRtt = new Float64Array(FLOW_CAP);
  private readonly fRounds = new Uint16Array(FLOW_CAP);
  private readonly fRoundIdx = new Uint16Array(FLOW_CAP);
  private readonly fRemain = new Int32Array(FLOW_CAP);
  private readonly fRec = new Int32Array(FLOW_CAP);
  private readonly fUnacked = new Uint8Array(FLOW_CAP);
  private readonly pendingCh = new Map<number, Buffer>();

  // deferred events
  private readonly evHeap = new MinHeap(1 << 12);
  private evCap = 1 << 12;
  private eKind = new Uint8Array(this.evCap);
  private eA = new Uint32Array(this.evCap);
  private eB = new Uint32Array(this.evCap);
  private eC = new Uint32Array(this.evCap);
  private eD = new Uint32Array(this.evCap);
  private eE = new Uint32Array(this.evCap);
  private eT = new Float64Array(this.evCap);
  private evFree: number[] = [];
  private evN = 0;

  // scans
  private readonly scans: ScanDef[] = [];
  private probeSlots = new Float64Array(0);
  private probeScan = new Uint8Array(0);
  private slow: ScanDef | null = null;
  private nextSlowUs = Infinity;
  private readonly slowPorts = [21, 22, 23, 25, 80, 110, 139, 443, 445, 1433, 3306, 3389, 5900, 8080];

  // malformed
  private malSlots = new Float64Array(0);
  private malNext = 0;

  // truth
  private readonly counts: Record<string, number> = {};
  private bytes = 0;
  private firstUs = -1;
  private lastUs = 0;
  private sizeSmall = 0;
  private sizeMed = 0;
  private sizeLarge = 0;
  private readonly intelDns: Record<string, number> = {};
  private readonly intelDnsDom: Record<string, number> = {};
  private readonly intelDnsCli: Record<string, Record<string, number>> = {};
  private readonly decoyDns: Record<string, number> = {};
  private readonly intelSni: Record<string, number> = {};
  private readonly intelSniCli: Record<string, Record<string, number>> = {};
  private readonly intelHttp: Record<string, number> = {};
  private readonly intelHttpCli: Record<string, Record<string, number>> = {};
  private readonly malByKind: Record<string, number> = {};
  private readonly malFrames: Array<{ frame: number; kind: string }> = [];
  private flowsStarted = 0;
  private flowsPre = 0;
  private flowsClosed = 0;
  private flowsReset = 0;
  private maxLive = 0;

  // counters kept as fields in the hot path (copied into `counts` at the end)
  private nTcp4 = 0;
  private nTcp6 = 0;
  private nUdp4 = 0;
  private nUdp6 = 0;
  private nIcmp = 0;
  private nVlan = 0;
  private nQinq = 0;
  private nExt = 0;

  constructor(private readonly opts: GenOptions) {
    this.rng = new Rng(opts.seed);
    this.N = opts.packets;
    this.pps = opts.pps ?? 100000;
    this.slotsPerUs = this.pps / 1e6;
    const startSec = opts.startSec ?? 1715673600; // 2024-05-14T08:00:00Z
    this.t0Us = startSec * 1e6 + this.rng.int(1000000);
    this.tUs = this.t0Us;
    this.out = new PcapOut(opts.out, POOL_SIZE + SCRATCH_SIZE);
    this.mem = this.out.u8;
    this.dv = this.out.dv;
    this.poolBase = this.out.extraBase;
    this.pool = this.out.buf.subarray(this.poolBase, this.poolBase + POOL_SIZE);
    this.scrBase = this.poolBase + POOL_SIZE;
    this.scr = this.out.buf.subarray(this.scrBase, this.scrBase + SCRATCH_SIZE);

    // payload pool + prefix sums of its 16-bit words
    for (let i = 0; i < POOL_SIZE; i += 4) w32(this.pool, i, this.rng.u32());
    this.poolPre = new Float64Array(POOL_SIZE / 2 + 1);
    let acc = 0;
    for (let k = 0; k < POOL_SIZE / 2; k++) {
      this.poolPre[k] = acc;
      acc += (this.pool[2 * k] << 8) | this.pool[2 * k + 1];
    }
    this.poolPre[POOL_SIZE / 2] = acc;

    this.freeFlows = new Int32Array(FLOW_CAP);
    for (let i = 0; i < FLOW_CAP; i++) this.freeFlows[i] = FLOW_CAP - 1 - i;
    this.freeTop = FLOW_CAP;

    // ---- clients
    const rng = this.rng;
    const used = new Set<number>();
    const nc = this.nClients;
    this.cIp = new Uint32Array(nc);
    this.cV6 = new Int32Array(nc);
    this.cOs = new Uint8Array(nc);
    this.cMacHi = new Uint16Array(nc);
    this.cMacLo = new Uint32Array(nc);
    this.cVlan = new Uint16Array(nc);
    this.cOuter = new Uint16Array(nc);
    this.cIpId = new Uint16Array(nc);
    const ouis = [[0xf48e38, 0x001b21, 0x3c7c3f], [0x525400, 0x001b21, 0xb827eb], [0x3c22fb, 0xa4c361, 0xf01898]];
    for (let i = 0; i < nc; i++) {
      let ip: number;
      do {
        ip = rng.chance(0.85) ? ipNum(10, rng.int(16), rng.int(256), rng.range(1, 254)) : ipNum(192, 168, rng.int(10), rng.range(1, 254));
      } while (used.has(ip) || (ip >>> 8) === ((10 << 16) | 0) /* keep 10.0.0.x for infrastructure */);
      used.add(ip);
      this.cIp[i] = ip;
      const r = rng.f();
      const os = r < 0.55 ? OS_WINDOWS : r < 0.85 ? OS_LINUX : OS_MAC;
      this.cOs[i] = os;
      const oui = rng.pick(ouis[os]);
      this.cMacHi[i] = oui >>> 8;
      this.cMacLo[i] = (((oui & 0xff) << 24) | rng.int(1 << 24)) >>> 0;
      if (i % 20 === 7) {
        this.cVlan[i] = 100 + (i % 7) * 10;
        if (i % 400 === 7) this.cOuter[i] = 1000 + (i % 3);
      }
      this.cIpId[i] = rng.int(65536);
      // 2001:db8:<site>:<subnet>::/64 + random interface id
      const v6 = new Uint8Array(16);
      w16(v6, 0, 0x2001);
      w16(v6, 2, 0x0db8);
      w16(v6, 4, 0x0100 + ((ip >>> 16) & 0xff));
      w16(v6, 6, (ip >>> 8) & 0xff);
      for (let k = 8; k < 16; k++) v6[k] = rng.int(256);
      this.cV6[i] = this.addV6(v6);
    }
    while (this.analysts.length < 4) {
      const c = rng.int(nc);
      if (!this.analysts.includes(c)) this.analysts.push(c);
    }

    // ---- servers
    const ns = this.nServers;
    this.sIp = new Uint32Array(ns);
    this.sV6 = new Int32Array(ns);
    this.sTtl = new Uint8Array(ns);
    const firstOctets = [
      13, 17, 20, 23, 31, 34, 35, 37, 40, 45, 52, 54, 62, 64, 66, 69, 72, 74, 77, 78, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89,
      90, 91, 93, 95, 104, 107, 108, 116, 142, 146, 151, 157, 162, 176, 178, 185, 188, 195, 199, 204, 205, 206, 208, 209, 212, 213, 216, 217,
    ];
    const v6Prefixes = [0x2a00, 0x2a03, 0x2606, 0x2604, 0x2a02, 0x2001, 0x2620, 0x2a01];
    for (let i = 0; i < ns; i++) {
      let ip: number;
      do {
        ip = ipNum(rng.pick(firstOctets), rng.int(256), rng.int(256), rng.range(1, 254));
      } while (used.has(ip));
      used.add(ip);
      this.sIp[i] = ip;
      const r = rng.f();
      this.sTtl[i] = r < 0.75 ? 64 - rng.range(6, 20) : r < 0.9 ? 128 - rng.range(6, 18) : 255 - rng.range(8, 20);
      const v6 = new Uint8Array(16);
      w16(v6, 0, rng.pick(v6Prefixes));
      for (let k = 2; k < 8; k++) v6[k] = rng.int(256);
      v6[15] = rng.range(1, 255);
      if (rng.chance(0.5)) v6[14] = rng.int(256);
      this.sV6[i] = this.addV6(v6);
    }

    // ---- resolvers: index into server-like address lists (kept separately)
    this.resolvers4 = [ipNum(10, 0, 0, 53), ipNum(10, 0, 0, 54), ipNum(8, 8, 8, 8), ipNum(1, 1, 1, 1), ipNum(9, 9, 9, 9)];
    const r6a = new Uint8Array(16);
    w16(r6a, 0, 0xfd00);
    w16(r6a, 14, 0x53);
    const r6b = new Uint8Array(16);
    w16(r6b, 0, 0x2001);
    w16(r6b, 2, 0x4860);
    w16(r6b, 4, 0x4860);
    w16(r6b, 14, 0x8888);
    this.resolvers6 = [this.addV6(r6a), this.addV6(r6b)];
    this.resolverV6Internal = [true, false];

    // ---- names
    this.buildNames();
  }

  private addV6(bytes: Uint8Array): number {
    if (this.v6n * 16 >= this.v6bytes.length) {
      const nb = new Uint8Array(this.v6bytes.length * 2);
      nb.set(this.v6bytes);
      this.v6bytes = nb;
      const ns = new Float64Array(this.v6sum.length * 2);
      ns.set(this.v6sum);
      this.v6sum = ns;
    }
    const id = this.v6n++;
    this.v6bytes.set(bytes, id * 16);
    this.v6sum[id] = sumBytes(bytes, 0, 16, false);
    return id;
  }

  private addName(name: string, server: number, opts: { cname?: string | null; nx?: boolean; intel?: boolean; decoy?: boolean }): number {
    const wire = Buffer.concat([encodeLabels(name), Buffer.from([0])]);
    const ex = name.endsWith('.example') ? wire.length - 9 : -1;
    let cnamePrefix: Buffer | null = null;
    if (opts.cname && ex >= 0) cnamePrefix = encodeLabels(opts.cname);
    const rec: NameRec = {
      name,
      ascii: Buffer.from(name, 'latin1'),
      wire,
      exampleOff: ex,
      cnamePrefix,
      server,
      nx: opts.nx ?? false,
      intel: opts.intel ?? false,
      decoy: opts.decoy ?? false,
    };
    const idx = this.names.length;
    this.names.push(rec);
    this.nameByString.set(name, idx);
    return idx;
  }

  private buildNames(): void {
    const rng = this.rng;
    const sites = 1400;
    const tmp: Array<[string, boolean]> = [];
    for (let i = 0; i < sites; i++) {
      const base = `site${i}.example`;
      tmp.push([`www.${base}`, false]);
      if (rng.chance(0.3)) tmp.push([base, false]);
      const extra = rng.chance(0.5) ? rng.range(1, 3) : 0;
      const seen = new Set<string>();
      for (let k = 0; k < extra; k++) {
        const sd = rng.pick(SUBDOMAINS);
        if (sd === 'www' || seen.has(sd)) continue;
        seen.add(sd);
        tmp.push([`${sd}.${base}`, false]);
      }
      if (rng.chance(0.02)) tmp.push([`wpad.site${i}.example`, true]);
    }
    // shuffle so that popularity (Zipf on index) is not correlated with site number
    for (let i = tmp.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = tmp[i];
      tmp[i] = tmp[j];
      tmp[j] = t;
    }
    for (const [name, nx] of tmp) {
      const cname = !nx && rng.chance(0.3) ? `e${rng.int(10000)}.cdn${rng.int(20)}` : null;
      // the 400 first (most popular) servers are shared by many names, like CDNs
      const server = rng.chance(0.5) ? rng.int(400) : 400 + rng.int(this.nServers - 2000);
      this.addName(name, server, { cname, nx });
    }
    this.nBenign = this.names.length;
    // intel names get dedicated servers at the end of the server table
    let srv = this.nServers - 64;
    for (const [name, w] of INTEL_NAMES) {
      this.intelIdx.push(this.addName(name, srv++, { intel: true }));
      this.intelW.push(w);
      this.intelWSum += w;
    }
    for (const name of DECOY_NAMES) this.decoyIdx.push(this.addName(name, srv++, { decoy: true }));
    for (const name of [...TLS_INTEL_NAMES, ...HTTP_INTEL_NAMES]) {
      if (!this.nameByString.has(name)) this.addName(name, srv++, { intel: true });
    }
  }

  private zipfName(): number {
    const u = this.rng.f();
    return Math.floor(this.nBenign * u * u * u);
  }

  private pickIntel(): number {
    let r = this.rng.f() * this.intelWSum;
    for (let i = 0; i < this.intelIdx.length; i++) {
      r -= this.intelW[i];
      if (r < 0) return this.intelIdx[i];
    }
    return this.intelIdx[this.intelIdx.length - 1];
  }

  private ephemeral(lo: number, hi: number): number {
    for (;;) {
      const p = this.rng.range(lo, hi);
      if (!REGISTERED_HIGH_PORTS.has(p)) return p;
    }
  }

  private pickClient(): number {
    const u = this.rng.f();
    return Math.floor(this.nClients * u * u);
  }

  // -------------------------------------------------------------------------------------------- payload pieces

  private resetPieces(): void {
    this.pcN = 0;
    this.scrPos = 0;
  }

  private addScratch(start: number, len: number): void {
    if (len <= 0) return;
    const i = this.pcN++;
    this.pcKind[i] = 0;
    this.pcA[i] = start;
    this.pcLen[i] = len;
  }

  private addRand(len: number): void {
    if (len <= 0) return;
    const i = this.pcN++;
    this.pcKind[i] = 1;
    this.pcLen[i] = len;
  }

  /** Writes the pieces at b[o..]; returns [length, un-folded sum] through fields (avoids allocating). */
  private pLen = 0;

  private writePieces(b: Buffer, o: number): number {
    let s = 0;
    let len = 0;
    for (let i = 0; i < this.pcN; i++) {
      const n = this.pcLen[i];
      const odd = (len & 1) === 1;
      if (this.pcKind[i] === 0) {
        const a = this.scrBase + this.pcA[i];
        const d = o + len;
        if (n <= 24) {
          const m = this.mem;
          for (let k = 0; k < n; k++) m[d + k] = m[a + k];
        } else {
          this.mem.copyWithin(d, a, a + n);
        }
        s += sumBytes(b, d, d + n, odd);
      } else {
        s += this.fillRand(b, o + len, n, odd);
      }
      len += n;
    }
    this.pLen = len;
    return s;
  }

  /** Copies `len` pool bytes to b[o..] and returns their un-folded sum (relative word alignment given by `odd`). */
  private fillRand(b: Buffer, o: number, len: number, odd: boolean): number {
    let p = (this.rng.int(POOL_SIZE - len - 4) & ~1) | (odd ? 1 : 0);
    this.mem.copyWithin(o, this.poolBase + p, this.poolBase + p + len);
    void b;
    const pool = this.pool;
    let s = 0;
    let n = len;
    if (p & 1) {
      s = pool[p];
      p++;
      n--;
    }
    if (n > 0) {
      const w = n >> 1;
      s += this.poolPre[(p >> 1) + w] - this.poolPre[p >> 1];
      if (n & 1) s += pool[p + 2 * w] << 8;
    }
    return s;
  }

  private randScratch(n: number): void {
    const st = this.poolBase + this.rng.int(POOL_SIZE - n - 1);
    this.mem.copyWithin(this.scrBase + this.scrPos, st, st + n);
    this.scrPos += n;
  }

  // -------------------------------------------------------------------------------------------- frame building

  private writeEth(b: Buffer, o: number, etype: number): number {
    const dv = this.dv;
    const h = this.h;
    dv.setUint16(o, h.dmacHi);
    dv.setUint32(o + 2, h.dmacLo);
    dv.setUint16(o + 6, h.smacHi);
    dv.setUint32(o + 8, h.smacLo);
    o += 12;
    if (h.outer !== 0) {
      dv.setUint16(o, 0x88a8);
      dv.setUint16(o + 2, h.outer);
      dv.setUint16(o + 4, 0x8100);
      dv.setUint16(o + 6, h.vlan);
      o += 8;
      this.nQinq++;
      this.nVlan++;
    } else if (h.vlan !== 0) {
      dv.setUint16(o, 0x8100);
      dv.setUint16(o + 2, h.vlan);
      o += 4;
      this.nVlan++;
    }
    dv.setUint16(o, etype);
    return o + 2;
  }

  private writeIpv4(b: Buffer, o: number, totalLen: number, proto: number): void {
    const dv = this.dv;
    const h = this.h;
    const src = h.src;
    const dst = h.dst;
    const ff = h.df ? 0x4000 : 0;
    b[o] = 0x45;
    b[o + 1] = 0;
    dv.setUint16(o + 2, totalLen);
    dv.setUint16(o + 4, h.ipid);
    dv.setUint16(o + 6, ff);
    b[o + 8] = h.ttl;
    b[o + 9] = proto;
    b[o + 10] = 0;
    b[o + 11] = 0;
    dv.setUint32(o + 12, src);
    dv.setUint32(o + 16, dst);
    const s = 0x4500 + totalLen + h.ipid + ff + ((h.ttl << 8) | proto) + (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
    dv.setUint16(o + 10, csumFinish(s));
  }

  /** Writes the IPv6 header (+ optional extension header); returns the offset of the upper-layer header. */
  private writeIpv6(b: Buffer, o: number, upperLen: number, proto: number): number {
    const h = this.h;
    const extLen = h.ext !== 0 ? 8 : 0;
    b[o] = 0x60;
    b[o + 1] = (h.fl >>> 16) & 0x0f;
    w16(b, o + 2, h.fl & 0xffff);
    w16(b, o + 4, upperLen + extLen);
    b[o + 6] = h.ext === 1 ? 0 : h.ext === 2 ? 60 : proto;
    b[o + 7] = h.ttl;
    const v6 = this.v6bytes;
    const sa = h.src * 16;
    const da = h.dst * 16;
    for (let k = 0; k < 16; k++) {
      b[o + 8 + k] = v6[sa + k];
      b[o + 24 + k] = v6[da + k];
    }
    o += 40;
    if (extLen !== 0) {
      b[o] = proto;
      b[o + 1] = 0;
      b[o + 2] = 1; // PadN
      b[o + 3] = 4;
      b[o + 4] = 0;
      b[o + 5] = 0;
      b[o + 6] = 0;
      b[o + 7] = 0;
      o += 8;
      this.nExt++;
    }
    return o;
  }

  private pseudoSum(proto: number, len: number): number {
    const h = this.h;
    if (h.v6) return this.v6sum[h.src] + this.v6sum[h.dst] + proto + len;
    return (h.src >>> 16) + (h.src & 0xffff) + (h.dst >>> 16) + (h.dst & 0xffff) + proto + len;
  }

  private l3Size(): number {
    const h = this.h;
    return h.v6 ? 40 + (h.ext !== 0 ? 8 : 0) : 20;
  }

  private commitFrame(frameLen: number, caplen = frameLen): void {
    this.out.commit(this.tUs, caplen, frameLen);
    this.bytes += caplen;
    this.frameNo++;
    if (frameLen <= 127) this.sizeSmall++;
    else if (frameLen < 1024) this.sizeMed++;
    else this.sizeLarge++;
    if (this.firstUs < 0) this.firstUs = this.tUs;
    this.lastUs = this.tUs;
  }

  /** Emits one TCP segment with the current header (this.h) and payload pieces. */
  private emitTcp(sport: number, dport: number, seq: number, ack: number, flags: number, win: number, opt: number, tsval: number, tsecr: number, mss: number, ws: number, caplenCut = 0): void {
    const dv = this.dv;
    const h = this.h;
    const b = this.out.buf;
    const fo = this.out.frame();
    const l3 = this.writeEth(b, fo, h.v6 ? ETH_IPV6 : ETH_IPV4);
    const l4 = l3 + this.l3Size();
    const thl = TCP_HLEN[opt];
    const po = l4 + thl;
    const ps = this.writePieces(b, po);
    const plen = this.pLen;
    const segLen = thl + plen;
    // header
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint32(l4 + 4, seq);
    dv.setUint32(l4 + 8, ack);
    b[l4 + 12] = (thl >> 2) << 4;
    b[l4 + 13] = flags;
    dv.setUint16(l4 + 14, win);
    b[l4 + 16] = 0;
    b[l4 + 17] = 0;
    b[l4 + 18] = 0;
    b[l4 + 19] = 0;
    let o = l4 + 20;
    switch (opt) {
      case OPT_NONE:
        break;
      case OPT_TS:
        b[o] = 1;
        b[o + 1] = 1;
        b[o + 2] = 8;
        b[o + 3] = 10;
        dv.setUint32(o + 4, tsval);
        dv.setUint32(o + 8, tsecr);
        break;
      case OPT_SYN_LINUX: // also the SYN-ACK layout of a Linux server answering a TS-capable client
        b[o] = 2;
        b[o + 1] = 4;
        dv.setUint16(o + 2, mss);
        b[o + 4] = 4;
        b[o + 5] = 2;
        b[o + 6] = 8;
        b[o + 7] = 10;
        dv.setUint32(o + 8, tsval);
        dv.setUint32(o + 12, tsecr);
        b[o + 16] = 1;
        b[o + 17] = 3;
        b[o + 18] = 3;
        b[o + 19] = ws;
        break;
      case OPT_SYN_WIN:
        b[o] = 2;
        b[o + 1] = 4;
        dv.setUint16(o + 2, mss);
        b[o + 4] = 1;
        b[o + 5] = 3;
        b[o + 6] = 3;
        b[o + 7] = ws;
        b[o + 8] = 1;
        b[o + 9] = 1;
        b[o + 10] = 4;
        b[o + 11] = 2;
        break;
      case OPT_SYN_MAC:
        b[o] = 2;
        b[o + 1] = 4;
        dv.setUint16(o + 2, mss);
        b[o + 4] = 1;
        b[o + 5] = 3;
        b[o + 6] = 3;
        b[o + 7] = ws;
        b[o + 8] = 1;
        b[o + 9] = 1;
        b[o + 10] = 8;
        b[o + 11] = 10;
        dv.setUint32(o + 12, tsval);
        dv.setUint32(o + 16, tsecr);
        b[o + 20] = 4;
        b[o + 21] = 2;
        b[o + 22] = 0;
        b[o + 23] = 0;
        break;
      case OPT_SYNACK_NOTS:
        b[o] = 2;
        b[o + 1] = 4;
        dv.setUint16(o + 2, mss);
        b[o + 4] = 1;
        b[o + 5] = 1;
        b[o + 6] = 4;
        b[o + 7] = 2;
        b[o + 8] = 1;
        b[o + 9] = 3;
        b[o + 10] = 3;
        b[o + 11] = ws;
        break;
      case OPT_MSS:
        b[o] = 2;
        b[o + 1] = 4;
        dv.setUint16(o + 2, mss);
        break;
      default:
        break;
    }
    // header words computed from the fields (options other than plain timestamps are summed from the bytes)
    let hs = sport + dport + (seq >>> 16) + (seq & 0xffff) + (ack >>> 16) + (ack & 0xffff) + (((thl >> 2) << 12) | flags) + win;
    if (opt === OPT_TS) hs += 0x0101 + 0x080a + (tsval >>> 16) + (tsval & 0xffff) + (tsecr >>> 16) + (tsecr & 0xffff);
    else if (opt !== OPT_NONE) hs += sumBytes(b, l4 + 20, po, false);
    const s = this.pseudoSum(6, segLen) + hs + ps;
    dv.setUint16(l4 + 16, csumFinish(s));
    if (h.v6) {
      this.writeIpv6(b, l3, segLen, 6);
      this.nTcp6++;
    } else {
      this.writeIpv4(b, l3, 20 + segLen, 6);
      this.nTcp4++;
    }
    const frameLen = po + plen - fo;
    this.commitFrame(frameLen, caplenCut > 0 && caplenCut < frameLen ? caplenCut : frameLen);
  }

  private emitUdp(sport: number, dport: number): void {
    const dv = this.dv;
    const h = this.h;
    const b = this.out.buf;
    const fo = this.out.frame();
    const l3 = this.writeEth(b, fo, h.v6 ? ETH_IPV6 : ETH_IPV4);
    const l4 = l3 + this.l3Size();
    const ps = this.writePieces(b, l4 + 8);
    const ulen = 8 + this.pLen;
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint16(l4 + 4, ulen);
    dv.setUint16(l4 + 6, 0);
    const s = this.pseudoSum(17, ulen) + sport + dport + ulen + ps;
    dv.setUint16(l4 + 6, csumFinish(s));
    if (h.v6) {
      this.writeIpv6(b, l3, ulen, 17);
      this.nUdp6++;
    } else {
      this.writeIpv4(b, l3, 20 + ulen, 17);
      this.nUdp4++;
    }
    this.commitFrame(l4 + ulen - fo);
  }

  private emitIcmp4(type: number, code: number, rest: number): void {
    const b = this.out.buf;
    const fo = this.out.frame();
    const l3 = this.writeEth(b, fo, ETH_IPV4);
    const l4 = l3 + 20;
    const ps = this.writePieces(b, l4 + 8);
    const len = 8 + this.pLen;
    b[l4] = type;
    b[l4 + 1] = code;
    w16(b, l4 + 2, 0);
    w32(b, l4 + 4, rest);
    const s = ((type << 8) | code) + (rest >>> 16) + (rest & 0xffff) + ps;
    w16(b, l4 + 2, csumFinish(s));
    this.writeIpv4(b, l3, 20 + len, 1);
    this.nIcmp++;
    this.commitFrame(l4 + len - fo);
  }

  // -------------------------------------------------------------------------------------------- deferred events

  private newEvent(kind: number, delayUs: number): number {
    let e: number;
    if (this.evFree.length > 0) e = this.evFree.pop() as number;
    else {
      if (this.evN === this.evCap) this.growEvents();
      e = this.evN++;
    }
    this.eKind[e] = kind;
    this.evHeap.push(this.slot + Math.max(1, delayUs * this.slotsPerUs), e);
    return e;
  }

  private growEvents(): void {
    const n = this.evCap * 2;
    const g8 = (a: Uint8Array): Uint8Array<ArrayBuffer> => {
      const x = new Uint8Array(n);
      x.set(a);
      return x;
    };
    const g32 = (a: Uint32Array): Uint32Array<ArrayBuffer> => {
      const x = new Uint32Array(n);
      x.set(a);
      return x;
    };
    const gf = new Float64Array(n);
    gf.set(this.eT);
    this.eKind = g8(this.eKind);
    this.eA = g32(this.eA);
    this.eB = g32(this.eB);
    this.eC = g32(this.eC);
    this.eD = g32(this.eD);
    this.eE = g32(this.eE);
    this.eT = gf;
    this.evCap = n;
  }

  private runEvent(e: number): void {
    this.evFree.push(e);
    switch (this.eKind[e]) {
      case EV_DNS_RESP:
      case EV_DNS_QUERY:
        this.dnsEvent(e);
        break;
      case EV_ECHO_REPLY:
        this.echoReply(e);
        break;
      case EV_PORT_UNREACH:
        this.portUnreach(e);
        break;
      case EV_SCAN_REPLY:
      case EV_SCANNER_RST:
        this.scanEvent(e);
        break;
      default:
        throw new Error('bad event');
    }
  }

  // -------------------------------------------------------------------------------------------- DNS

  private setHostClient(c: number, v6: boolean, toInternal: boolean): void {
    // client -> something: src = client
    const h = this.h;
    h.v6 = v6;
    h.src = v6 ? this.cV6[c] : this.cIp[c];
    h.smacHi = this.cMacHi[c];
    h.smacLo = this.cMacLo[c];
    if (toInternal) {
      h.dmacHi = 0x0050;
      h.dmacLo = 0x56000000 | (this.rng.int(4) + 0x5300);
    } else {
      h.dmacHi = ROUTER_MAC_HI;
      h.dmacLo = ROUTER_MAC_LO;
    }
    h.vlan = this.cVlan[c];
    h.outer = this.cOuter[c];
    h.ttl = this.cOs[c] === OS_WINDOWS ? 128 : 64;
    h.ext = 0;
    h.fl = 0;
    h.df = false;
    h.ipid = this.cOs[c] === OS_WINDOWS ? this.cIpId[c]++ : this.rng.int(65536);
  }

  private swapHdr(): void {
    const h = this.h;
    let t = h.src;
    h.src = h.dst;
    h.dst = t;
    t = h.smacHi;
    h.smacHi = h.dmacHi;
    h.dmacHi = t;
    t = h.smacLo;
    h.smacLo = h.dmacLo;
    h.dmacLo = t;
  }

  private startDns(): void {
    const rng = this.rng;
    const u = rng.f();
    let name: number;
    let c: number;
    if (u < 0.003) {
      name = this.pickIntel();
      c = rng.chance(0.75) ? rng.pick(this.analysts) : this.pickClient();
    } else if (u < 0.0036) {
      name = rng.pick(this.decoyIdx);
      c = this.pickClient();
    } else {
      name = this.zipfName();
      c = this.pickClient();
    }
    const v6 = rng.chance(0.1);
    const res = v6 ? rng.int(2) : rng.f() < 0.7 ? rng.int(2) : 2 + rng.int(3);
    const qtype = this.names[name].intel || this.names[name].decoy ? (rng.chance(0.75) ? 1 : 28) : rng.f() < 0.62 ? 1 : rng.f() < 0.85 ? 28 : 65;
    const sport = this.ephemeral(1024, 65535);
    const id = rng.int(65536);
    let fl = 0;
    if (v6) fl |= 1;
    if (rng.chance(0.7)) fl |= 2; // EDNS
    if (v6 && rng.chance(0.25)) fl |= 4; // hop-by-hop header
    this.sendDns(false, c, res, name, qtype, id, sport, fl);
    // happy eyeballs: A is often followed by AAAA (same name, same client)
    if (qtype === 1 && rng.chance(0.5)) {
      const e = this.newEvent(EV_DNS_QUERY, rng.range(20, 400));
      this.eA[e] = c;
      this.eB[e] = res;
      this.eC[e] = name;
      this.eD[e] = (28 << 16) | rng.int(65536);
      this.eE[e] = (this.ephemeral(1024, 65535) << 8) | fl;
    }
  }

  private dnsEvent(e: number): void {
    const c = this.eA[e];
    const res = this.eB[e];
    const name = this.eC[e];
    const qtype = this.eD[e] >>> 16;
    const id = this.eD[e] & 0xffff;
    const sport = this.eE[e] >>> 8;
    const fl = this.eE[e] & 0xff;
    this.sendDns(this.eKind[e] === EV_DNS_RESP, c, res, name, qtype, id, sport, fl);
  }

  private sendDns(resp: boolean, c: number, res: number, name: number, qtype: number, id: number, sport: number, fl: number): void {
    const rng = this.rng;
    const v6 = (fl & 1) !== 0;
    const internal = v6 ? this.resolverV6Internal[res] : res < 2;
    this.setHostClient(c, v6, internal);
    const h = this.h;
    h.dst = v6 ? this.resolvers6[res] : this.resolvers4[res];
    if (v6) {
      h.ext = (fl & 4) !== 0 ? 1 : 0;
      h.fl = (c * 2654435761 + sport) & 0xfffff;
      h.ttl = 64;
    }
    this.resetPieces();
    const rec = this.names[name];
    const s = this.scr;
    let o = 0;
    w16(s, 0, id);
    w16(s, 2, resp ? (rec.nx ? 0x8183 : 0x8180) : 0x0100);
    w16(s, 4, 1);
    w16(s, 6, 0);
    w16(s, 8, 0);
    w16(s, 10, (fl & 2) !== 0 ? 1 : 0);
    o = 12;
    rec.wire.copy(s, o);
    o += rec.wire.length;
    w16(s, o, qtype);
    w16(s, o + 2, 1);
    o += 4;
    if (resp) {
      let an = 0;
      let ns = 0;
      if (rec.nx || qtype === 65) {
        if (rec.exampleOff >= 0) {
          // SOA in the authority section: owner "example", mname ns1.example, rname hostmaster.example
          const exPtr = 0xc000 | (12 + rec.exampleOff);
          w16(s, o, exPtr);
          w16(s, o + 2, 6);
          w16(s, o + 4, 1);
          w32(s, o + 8, 900);
          w16(s, o + 10, 39);
          o += 12;
          s[o++] = 3;
          o += s.write('ns1', o, 'latin1');
          w16(s, o, exPtr);
          o += 2;
          s[o++] = 10;
          o += s.write('hostmaster', o, 'latin1');
          w16(s, o, exPtr);
          o += 2;
          w32(s, o, 2024051401);
          w32(s, o + 4, 7200);
          w32(s, o + 8, 3600);
          w32(s, o + 12, 1209600);
          w32(s, o + 16, 300);
          o += 20;
          ns = 1;
        }
      } else {
        let owner = 0xc00c;
        if (rec.cnamePrefix !== null) {
          w16(s, o, 0xc00c);
          w16(s, o + 2, 5);
          w16(s, o + 4, 1);
          w32(s, o + 6, rng.range(60, 3600));
          const rdlen = rec.cnamePrefix.length + 2;
          w16(s, o + 10, rdlen);
          o += 12;
          owner = 0xc000 | o;
          rec.cnamePrefix.copy(s, o);
          o += rec.cnamePrefix.length;
          w16(s, o, 0xc000 | (12 + rec.exampleOff));
          o += 2;
          an++;
        }
        const n = qtype === 1 ? rng.range(1, 3) : qtype === 28 ? rng.range(1, 2) : 0;
        const ttl = rng.range(20, 3600);
        for (let k = 0; k < n; k++) {
          const srv = (rec.server + k * 7) % this.nServers;
          w16(s, o, owner);
          w16(s, o + 2, qtype);
          w16(s, o + 4, 1);
          w32(s, o + 6, ttl);
          if (qtype === 1) {
            w16(s, o + 10, 4);
            w32(s, o + 12, this.sIp[srv]);
            o += 16;
          } else {
            w16(s, o + 10, 16);
            s.set(this.v6bytes.subarray(this.sV6[srv] * 16, this.sV6[srv] * 16 + 16), o + 12);
            o += 28;
          }
          an++;
        }
      }
      w16(s, 6, an);
      w16(s, 8, ns);
    }
    if ((fl & 2) !== 0) {
      s[o] = 0;
      w16(s, o + 1, 41);
      w16(s, o + 3, resp ? 1232 : 4096);
      w32(s, o + 5, 0);
      w16(s, o + 9, 0);
      o += 11;
    }
    this.addScratch(0, o);
    if (resp) {
      this.swapHdr();
      h.ttl = internal ? 64 : 64 - 9;
      h.ipid = rng.int(65536);
      this.emitUdp(53, sport);
      bump(this.counts, 'dnsResponses');
      if (rec.nx) bump(this.counts, 'dnsNxdomain');
    } else {
      this.emitUdp(sport, 53);
      bump(this.counts, 'dnsQueries');
      if (rec.intel) {
        bump(this.intelDns, rec.name);
        bump(this.intelDnsDom, domainOf(rec.name) ?? '?');
        bump2(this.intelDnsCli, ipStr(this.cIp[c]) + (v6 ? ' (v6 src)' : ''), rec.name);
      } else if (rec.decoy) {
        bump(this.decoyDns, rec.name);
      }
      if (rng.chance(0.985)) {
        const e = this.newEvent(EV_DNS_RESP, internal ? rng.logn(600, 0.8) : rng.logn(15000, 0.6));
        this.eA[e] = c;
        this.eB[e] = res;
        this.eC[e] = name;
        this.eD[e] = (qtype << 16) | id;
        this.eE[e] = (sport << 8) | fl;
      }
    }
    bump(this.counts, v6 ? 'dns6' : 'dns4');
  }

  // -------------------------------------------------------------------------------------------- ICMP

  private startIcmp(): void {
    const rng = this.rng;
    const c = this.pickClient();
    const srv = rng.int(this.nServers);
    this.resetPieces();
    if (rng.chance(0.7)) {
      // echo request
      const win = this.cOs[c] === OS_WINDOWS;
      const id = win ? 1 : rng.int(65536);
      const seq = rng.range(1, 200);
      this.setHostClient(c, false, false);
      this.h.dst = this.sIp[srv];
      this.h.df = !win;
      this.echoPayload(win, this.tUs);
      this.emitIcmp4(8, 0, ((id << 16) | seq) >>> 0);
      bump(this.counts, 'icmpEchoRequest');
      if (rng.chance(0.9)) {
        const e = this.newEvent(EV_ECHO_REPLY, rng.logn(25000, 0.7));
        this.eA[e] = c;
        this.eB[e] = srv;
        this.eC[e] = ((id << 16) | seq) >>> 0;
        this.eT[e] = this.tUs;
      }
    } else {
      // UDP probe to a closed port (traceroute-like last hop) -> ICMP port unreachable quoting it
      const sport = this.ephemeral(50000, 60999);
      const dport = 33434 + rng.int(30);
      const ipid = rng.int(65536);
      this.udpProbe(c, srv, sport, dport, ipid);
      bump(this.counts, 'udpProbe');
      if (rng.chance(0.8)) {
        const e = this.newEvent(EV_PORT_UNREACH, rng.logn(25000, 0.7));
        this.eA[e] = c;
        this.eB[e] = srv;
        this.eC[e] = sport;
        this.eD[e] = dport;
        this.eE[e] = ipid;
      }
    }
  }

  private echoPayload(win: boolean, reqUs: number): void {
    const s = this.scr;
    const st = this.scrPos;
    if (win) {
      for (let i = 0; i < 32; i++) s[st + i] = 0x61 + (i % 23);
      this.scrPos += 32;
      this.addScratch(st, 32);
    } else {
      const sec = Math.floor(reqUs / 1e6);
      w32le(s, st, sec);
      w32le(s, st + 4, 0);
      w32le(s, st + 8, reqUs - sec * 1e6);
      w32le(s, st + 12, 0);
      for (let i = 16; i < 56; i++) s[st + i] = i;
      this.scrPos += 56;
      this.addScratch(st, 56);
    }
  }

  private echoReply(e: number): void {
    const c = this.eA[e];
    const srv = this.eB[e];
    const win = this.cOs[c] === OS_WINDOWS;
    this.resetPieces();
    this.setHostClient(c, false, false);
    this.h.dst = this.sIp[srv];
    this.swapHdr();
    this.h.ttl = this.sTtl[srv];
    this.h.ipid = this.rng.int(65536);
    this.h.df = false;
    this.echoPayload(win, this.eT[e]);
    this.emitIcmp4(0, 0, this.eC[e]);
    bump(this.counts, 'icmpEchoReply');
  }

  private hops(srv: number): number {
    const t = this.sTtl[srv];
    return t > 128 ? 255 - t : t > 64 ? 128 - t : 64 - t;
  }

  private udpProbeBytes(s: Buffer, o: number, c: number, srv: number, sport: number, dport: number, ipid: number, ttl: number): number {
    // IPv4 header + UDP header + 32 bytes of traceroute payload; returns end offset
    const src = this.cIp[c];
    const dst = this.sIp[srv];
    const tot = 20 + 8 + 32;
    s[o] = 0x45;
    s[o + 1] = 0;
    w16(s, o + 2, tot);
    w16(s, o + 4, ipid);
    w16(s, o + 6, 0);
    s[o + 8] = ttl;
    s[o + 9] = 17;
    w16(s, o + 10, 0);
    w32(s, o + 12, src);
    w32(s, o + 16, dst);
    w16(s, o + 10, csumFinish(sumBytes(s, o, o + 20, false)));
    const u = o + 20;
    w16(s, u, sport);
    w16(s, u + 2, dport);
    w16(s, u + 4, 40);
    w16(s, u + 6, 0);
    for (let i = 0; i < 32; i++) s[u + 8 + i] = 0x40 + i;
    const ps = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 17 + 40;
    w16(s, u + 6, csumFinish(ps + sumBytes(s, u, u + 40, false)));
    return u + 40;
  }

  private udpProbe(c: number, srv: number, sport: number, dport: number, ipid: number): void {
    // emitted through emitUdp so that counters/checksums follow the common path
    this.resetPieces();
    const s = this.scr;
    for (let i = 0; i < 32; i++) s[i] = 0x40 + i;
    this.scrPos = 32;
    this.addScratch(0, 32);
    this.setHostClient(c, false, false);
    this.h.dst = this.sIp[srv];
    this.h.ipid = ipid;
    this.h.ttl = 64;
    this.emitUdp(sport, dport);
  }

  private portUnreach(e: number): void {
    const c = this.eA[e];
    const srv = this.eB[e];
    this.resetPieces();
    const end = this.udpProbeBytes(this.scr, 0, c, srv, this.eC[e], this.eD[e], this.eE[e], Math.max(1, 64 - this.hops(srv)));
    this.scrPos = end;
    this.addScratch(0, end);
    this.setHostClient(c, false, false);
    this.h.dst = this.sIp[srv];
    this.swapHdr();
    this.h.ttl = this.sTtl[srv];
    this.h.ipid = this.rng.int(65536);
    this.h.df = false;
    this.emitIcmp4(3, 3, 0);
    bump(this.counts, 'icmpPortUnreachable');
  }

  // -------------------------------------------------------------------------------------------- TCP flows

  private sched(f: number, us: number): void {
    this.flowHeap.push(this.slot + Math.max(1, us * this.slotsPerUs), f);
  }

  private allocFlow(): number {
    return this.freeFlows[--this.freeTop];
  }

  private freeFlow(f: number): void {
    this.freeFlows[this.freeTop++] = f;
    if ((this.fFlags[f] & F_SEEN) !== 0) this.live--;
  }

  private tsNow(base: number): number {
    return (base + Math.floor(this.tUs / 1000)) >>> 0;
  }

  /** Initialises a flow's addressing and app; returns it (no packet emitted). */
  private initFlow(preexisting: boolean): number {
    const rng = this.rng;
    const f = this.allocFlow();
    const r = rng.f();
    const app = r < 0.6 ? APP_TLS : r < 0.75 ? APP_HTTP : APP_OTHER;
    let flags = 0;
    let c = this.pickClient();
    let name = 0;
    let srv: number;
    let port: number;
    if (app === APP_TLS) {
      if (!preexisting && rng.chance(0.002)) {
        name = this.nameByString.get(rng.pick(TLS_INTEL_NAMES)) as number;
        flags |= F_INTEL;
        if (rng.chance(0.75)) c = rng.pick(this.analysts);
      } else {
        do name = this.zipfName();
        while (this.names[name].nx);
      }
      srv = this.names[name].server;
      port = rng.chance(0.97) ? 443 : rng.pick([8443, 4443, 9443, 10443, 2083]);
      flags |= F_RECS;
      if (rng.chance(0.8)) flags |= F_TLS13;
      if ((flags & F_TLS13) !== 0 && rng.chance(0.05)) flags |= F_PQ;
    } else if (app === APP_HTTP) {
      if (!preexisting && rng.chance(0.006)) {
        name = this.nameByString.get(rng.pick(HTTP_INTEL_NAMES)) as number;
        flags |= F_INTEL;
        if (rng.chance(0.75)) c = rng.pick(this.analysts);
      } else {
        do name = this.zipfName();
        while (this.names[name].nx);
      }
      srv = this.names[name].server;
      port = rng.chance(0.85) ? 80 : 8080;
    } else {
      srv = rng.int(this.nServers - 64);
      port = rng.pick([5228, 9001, 8883, 5223, 4070, 5938]);
      // long-lived encrypted sessions (FCM, Tor, MQTT/TLS, APNs, ...): TLS application-data records, one starting
      // each segment, no visible handshake. Never raw random bytes: tshark's heuristic dissectors (Thrift, XML, ...)
      // misparse those now and then and report them as malformed.
      flags |= F_RECS;
    }
    const os = this.cOs[c];
    if (rng.chance(0.045)) {
      flags |= F_V6;
      if (rng.chance(0.2)) flags |= F_EXT;
    }
    if (os !== OS_WINDOWS) flags |= F_TS;
    if (rng.chance(0.4)) flags |= F_SRV_CLOSE;
    else if (rng.chance(0.08)) flags |= F_RST_CLOSE;
    this.fApp[f] = app;
    this.fFlags[f] = flags;
    this.fCli[f] = c;
    this.fSrv[f] = srv;
    this.fName[f] = name;
    this.fSport[f] = port;
    this.fCport[f] = this.ephemeral(os === OS_LINUX ? 32768 : 49152, os === OS_LINUX ? 60999 : 65535);
    this.fCseq[f] = rng.u32();
    this.fSseq[f] = rng.u32();
    this.fCtsBase[f] = rng.u32();
    this.fStsBase[f] = rng.u32();
    this.fCtsLast[f] = 0;
    this.fStsLast[f] = 0;
    this.fCid[f] = rng.int(65536);
    this.fSid[f] = rng.int(65536);
    this.fCwin[f] = os === OS_WINDOWS ? rng.range(255, 1026) : rng.range(500, 2052);
    this.fSwin[f] = rng.range(200, 1200);
    this.fFlC[f] = rng.int(1 << 20);
    this.fFlS[f] = rng.int(1 << 20);
    this.fRtt[f] = Math.min(400000, Math.max(800, rng.logn(25000, 0.9)));
    this.fRounds[f] = 1 + Math.min(200, Math.floor(rng.exp(2)));
    this.fRoundIdx[f] = 0;
    this.fRemain[f] = 0;
    this.fRec[f] = 0;
    this.fUnacked[f] = 0;
    return f;
  }

  private startFlow(): void {
    const f = this.initFlow(false);
    this.flowsStarted++;
    this.fState[f] = S_SYN;
    this.stepFlow(f);
  }

  /** Flows that were established before the capture started. */
  private preloadFlows(n: number, spreadUs: number): void {
    const rng = this.rng;
    for (let i = 0; i < n; i++) {
      const f = this.initFlow(true);
      this.flowsPre++;
      this.fFlags[f] |= F_PREEXIST;
      this.fRoundIdx[f] = 1 + rng.int(5);
      const r = rng.f();
      this.fCtsLast[f] = (this.fCtsBase[f] + Math.floor(this.tUs / 1000) - rng.int(5000)) >>> 0;
      this.fStsLast[f] = (this.fStsBase[f] + Math.floor(this.tUs / 1000) - rng.int(5000)) >>> 0;
      // (HTTP flows are not picked up mid-body: tshark would parse random body bytes as headers)
      if (r < 0.3 && this.fApp[f] !== APP_HTTP) {
        this.fState[f] = S_DATA;
        this.fRemain[f] = this.responseSize(f);
      } else if (r < 0.9) {
        this.fState[f] = S_REQ;
      } else {
        this.fState[f] = S_FIN1;
      }
      this.sched(f, rng.f() * spreadUs);
    }
  }

  private maxPayload(f: number): number {
    const fl = this.fFlags[f];
    const tcpH = (fl & F_TS) !== 0 ? 32 : 20;
    const ipH = (fl & F_V6) !== 0 ? 40 + ((fl & F_EXT) !== 0 ? 8 : 0) : 20;
    return 1500 - ipH - tcpH;
  }

  private responseSize(f: number): number {
    const rng = this.rng;
    const app = this.fApp[f];
    // heavy-tailed: median ~3 kB, mean ~10 kB, occasional multi-MB transfer
    let n = Math.floor(rng.logn(3000, 1.6));
    if (n < 60) n = 60 + rng.int(100);
    if (n > 4000000) n = 4000000;
    if (app === APP_TLS) n += 22;
    return n;
  }

  private setFlowHdr(f: number, fromClient: boolean): void {
    const h = this.h;
    const fl = this.fFlags[f];
    const c = this.fCli[f];
    const s = this.fSrv[f];
    const v6 = (fl & F_V6) !== 0;
    h.v6 = v6;
    h.vlan = this.cVlan[c];
    h.outer = this.cOuter[c];
    h.ext = (fl & F_EXT) !== 0 ? 2 : 0;
    h.df = true;
    if (fromClient) {
      h.src = v6 ? this.cV6[c] : this.cIp[c];
      h.dst = v6 ? this.sV6[s] : this.sIp[s];
      h.smacHi = this.cMacHi[c];
      h.smacLo = this.cMacLo[c];
      h.dmacHi = ROUTER_MAC_HI;
      h.dmacLo = ROUTER_MAC_LO;
      h.ttl = this.cOs[c] === OS_WINDOWS ? 128 : 64;
      if (this.cOs[c] === OS_WINDOWS) h.ipid = this.cIpId[c]++;
      else h.ipid = this.fCid[f]++;
      h.fl = this.fFlC[f];
    } else {
      h.src = v6 ? this.sV6[s] : this.sIp[s];
      h.dst = v6 ? this.cV6[c] : this.cIp[c];
      h.smacHi = ROUTER_MAC_HI;
      h.smacLo = ROUTER_MAC_LO;
      h.dmacHi = this.cMacHi[c];
      h.dmacLo = this.cMacLo[c];
      h.ttl = this.sTtl[s];
      h.ipid = this.fSid[f]++;
      h.fl = this.fFlS[f];
    }
    if (v6) h.ipid = 0;
  }

  /** Emits a segment of flow f from one side, with the current payload pieces. */
  private flowSeg(f: number, fromClient: boolean, flags: number): void {
    this.setFlowHdr(f, fromClient);
    const ts = (this.fFlags[f] & F_TS) !== 0;
    let tsval = 0;
    let tsecr = 0;
    if (ts) {
      if (fromClient) {
        tsval = this.tsNow(this.fCtsBase[f]);
        tsecr = this.fStsLast[f];
        this.fCtsLast[f] = tsval;
      } else {
        tsval = this.tsNow(this.fStsBase[f]);
        tsecr = this.fCtsLast[f];
        this.fStsLast[f] = tsval;
      }
    }
    const seq = fromClient ? this.fCseq[f] : this.fSseq[f];
    const ack = (flags & TH_ACK) !== 0 ? (fromClient ? this.fSseq[f] : this.fCseq[f]) : 0;
    const win = fromClient ? this.fCwin[f] : this.fSwin[f];
    this.emitTcp(fromClient ? this.fCport[f] : this.fSport[f], fromClient ? this.fSport[f] : this.fCport[f], seq, ack, flags, (flags & TH_RST) !== 0 ? 0 : win, ts ? OPT_TS : OPT_NONE, tsval, tsecr, 0, 0);
    const adv = this.pLen + ((flags & (TH_SYN | TH_FIN)) !== 0 ? 1 : 0);
    if (fromClient) this.fCseq[f] = (seq + adv) >>> 0;
    else this.fSseq[f] = (seq + adv) >>> 0;
  }

  /** Emits the next packet of flow f and reschedules (or frees) it. */
  private stepFlow(f: number): void {
    const rng = this.rng;
    const rtt = this.fRtt[f];
    const fl = this.fFlags[f];
    const c = this.fCli[f];
    if ((fl & F_SEEN) === 0) {
      this.fFlags[f] = fl | F_SEEN;
      if (++this.live > this.maxLive) this.maxLive = this.live;
    }
    this.resetPieces();
    switch (this.fState[f]) {
      case S_SYN: {
        this.setFlowHdr(f, true);
        const os = this.cOs[c];
        const v6 = (fl & F_V6) !== 0;
        const mss = v6 ? 1440 : 1460;
        const tsval = this.tsNow(this.fCtsBase[f]);
        this.fCtsLast[f] = tsval;
        const opt = os === OS_WINDOWS ? OPT_SYN_WIN : os === OS_MAC ? OPT_SYN_MAC : OPT_SYN_LINUX;
        const win = os === OS_WINDOWS ? 64240 : os === OS_MAC ? 65535 : v6 ? 64800 : 64240;
        this.emitTcp(this.fCport[f], this.fSport[f], this.fCseq[f], 0, TH_SYN, win, opt, tsval, 0, mss, os === OS_WINDOWS ? 8 : os === OS_MAC ? 6 : 7);
        this.fCseq[f] = (this.fCseq[f] + 1) >>> 0;
        bump(this.counts, 'tcpSyn');
        this.fState[f] = S_SYNACK;
        this.sched(f, rtt);
        return;
      }
      case S_SYNACK: {
        this.setFlowHdr(f, false);
        const v6 = (fl & F_V6) !== 0;
        const ts = (fl & F_TS) !== 0;
        if (!v6) this.h.ipid = 0;
        const tsval = this.tsNow(this.fStsBase[f]);
        this.fStsLast[f] = tsval;
        this.emitTcp(this.fSport[f], this.fCport[f], this.fSseq[f], this.fCseq[f], TH_SYN | TH_ACK, v6 ? 64800 : 65160, ts ? OPT_SYN_LINUX : OPT_SYNACK_NOTS, tsval, this.fCtsLast[f], v6 ? 1440 : 1460, 7);
        this.fSseq[f] = (this.fSseq[f] + 1) >>> 0;
        bump(this.counts, 'tcpSynAck');
        this.fState[f] = S_ACK;
        this.sched(f, 50 + rng.exp(300));
        return;
      }
      case S_ACK:
        this.flowSeg(f, true, TH_ACK);
        this.fState[f] = S_REQ;
        this.sched(f, 20 + rng.exp(300));
        return;
      case S_REQ: {
        const split = this.clientRequest(f);
        this.flowSeg(f, true, TH_PSH | TH_ACK);
        this.fRemain[f] = this.responseSize(f);
        this.fRec[f] = 0;
        this.fUnacked[f] = 0;
        if (this.fRoundIdx[f] === 0 || this.fApp[f] === APP_HTTP) this.fFlags[f] |= F_PREFIX;
        this.fRoundIdx[f]++;
        if (split) {
          this.fState[f] = S_REQ2;
          this.sched(f, 5 + rng.exp(40));
        } else {
          this.fState[f] = S_DATA;
          this.sched(f, rtt + rng.exp(3000));
        }
        return;
      }
      case S_REQ2: {
        const rest = this.pendingCh.get(f);
        if (rest !== undefined) {
          rest.copy(this.scr, 0);
          this.scrPos = rest.length;
          this.addScratch(0, rest.length);
          this.pendingCh.delete(f);
        }
        this.flowSeg(f, true, TH_PSH | TH_ACK);
        this.fState[f] = S_DATA;
        this.sched(f, rtt + rng.exp(3000));
        return;
      }
      case S_DATA: {
        this.serverSegment(f);
        const done = this.fRemain[f] <= 0;
        this.fUnacked[f]++;
        this.flowSeg(f, false, done ? TH_PSH | TH_ACK : TH_ACK);
        // delayed ACK every second segment, quick ACKs for a good share of single segments
        if (done || this.fUnacked[f] >= 2 || rng.chance(0.7)) {
          this.fState[f] = S_CACK;
          this.sched(f, done && this.fUnacked[f] < 2 ? 200 + rng.exp(20000) : 10 + rng.exp(150));
        } else {
          this.sched(f, this.interSeg(f));
        }
        return;
      }
      case S_CACK:
        this.flowSeg(f, true, TH_ACK);
        this.fUnacked[f] = 0;
        if (this.fRemain[f] > 0) {
          this.fState[f] = S_DATA;
          this.sched(f, this.interSeg(f));
        } else if (this.fRounds[f] > 1) {
          this.fRounds[f]--;
          this.fState[f] = S_REQ;
          this.sched(f, rng.chance(0.5) ? rng.exp(150000) : rng.exp(8000000));
        } else {
          // keep-alive idle before the close (servers and browsers keep idle connections for 5-120 s)
          this.fState[f] = S_FIN1;
          this.sched(f, rng.exp(15000000));
        }
        return;
      case S_FIN1: {
        if ((fl & F_RST_CLOSE) !== 0) {
          this.flowSeg(f, true, TH_RST | TH_ACK);
          bump(this.counts, 'tcpRst');
          this.flowsReset++;
          this.pendingCh.delete(f);
          this.freeFlow(f);
          return;
        }
        this.flowSeg(f, (fl & F_SRV_CLOSE) === 0, TH_FIN | TH_ACK);
        bump(this.counts, 'tcpFin');
        this.fState[f] = S_FIN2;
        this.sched(f, (fl & F_SRV_CLOSE) === 0 ? rtt : 100 + rng.exp(2000));
        return;
      }
      case S_FIN2:
        this.flowSeg(f, (fl & F_SRV_CLOSE) !== 0, TH_FIN | TH_ACK);
        bump(this.counts, 'tcpFin');
        this.fState[f] = S_FIN3;
        this.sched(f, (fl & F_SRV_CLOSE) !== 0 ? rtt : 50 + rng.exp(300));
        return;
      case S_FIN3:
        this.flowSeg(f, (fl & F_SRV_CLOSE) === 0, TH_ACK);
        this.flowsClosed++;
        this.fFlags[f] |= F_FIN_SEEN;
        this.freeFlow(f);
        return;
      default:
        throw new Error('bad flow state');
    }
  }

  private interSeg(f: number): number {
    const rtt = this.fRtt[f];
    // back-to-back within a window, an RTT gap now and then (cwnd-limited)
    return this.rng.chance(0.1) ? rtt : 12 + this.rng.exp(Math.min(2000, rtt / 20));
  }

  /** Puts the client's request for the current round in the payload pieces; true if a second segment follows. */
  private clientRequest(f: number): boolean {
    const rng = this.rng;
    const app = this.fApp[f];
    const name = this.names[this.fName[f]];
    const fl = this.fFlags[f];
    if (app === APP_TLS || (fl & F_RECS) !== 0) {
      if (app === APP_TLS && this.fRoundIdx[f] === 0) {
        const len = this.buildClientHello(name.ascii, (fl & F_TLS13) !== 0, (fl & F_PQ) !== 0);
        bump(this.counts, 'tlsClientHello');
        if (this.fSport[f] !== 443) bump(this.counts, 'tlsClientHelloOddPort');
        if ((fl & F_PQ) !== 0) bump(this.counts, 'tlsClientHelloPq');
        if ((fl & F_INTEL) !== 0) {
          bump(this.intelSni, name.name);
          bump2(this.intelSniCli, ipStr(this.cIp[this.fCli[f]]) + ((fl & F_V6) !== 0 ? ' (v6 src)' : ''), name.name);
        }
        const mp = this.maxPayload(f);
        if (len > mp) {
          this.addScratch(0, mp);
          this.pendingCh.set(f, Buffer.from(this.scr.subarray(mp, len)));
          bump(this.counts, 'tlsClientHelloSplit');
          return true;
        }
        this.addScratch(0, len);
        return false;
      }
      const n = 30 + Math.floor(rng.exp(300));
      const rl = Math.min(n, this.maxPayload(f) - 5);
      const s = this.scr;
      s[0] = 0x17;
      s[1] = 3;
      s[2] = 3;
      w16(s, 3, rl);
      this.scrPos = 5;
      this.addScratch(0, 5);
      this.addRand(rl);
      return false;
    }
    if (app === APP_HTTP) {
      let p = rng.pick(HTTP_PATHS);
      let ua = rng.pick(USER_AGENTS);
      if ((fl & F_INTEL) !== 0) {
        p = name.name === 'ipinfo.io' ? rng.pick(['/', '/json', `/${ipStr(this.sIp[rng.int(this.nServers)])}/json`]) : name.name === 'whois.arin.net' ? `/rest/ip/${ipStr(this.sIp[rng.int(this.nServers)])}` : name.name === 'bgp.he.net' ? `/AS${rng.range(1000, 65000)}` : `/shodan/host/${ipStr(this.sIp[rng.int(this.nServers)])}?key=x`;
        ua = rng.pick(['curl/7.88.1', 'python-requests/2.31.0', 'Wget/1.21.3']);
        bump(this.intelHttp, name.name);
        bump2(this.intelHttpCli, ipStr(this.cIp[this.fCli[f]]) + ((fl & F_V6) !== 0 ? ' (v6 src)' : ''), name.name);
      }
      const extra = ua.startsWith('Mozilla') ? 'Accept: text/html,application/xhtml+xml,*/*;q=0.8\r\nAccept-Language: en-US,en;q=0.5\r\nConnection: keep-alive\r\n' : 'Accept: */*\r\n';
      const req = `GET ${p} HTTP/1.1\r\nHost: ${name.name}${this.fSport[f] === 80 ? '' : ':' + this.fSport[f]}\r\nUser-Agent: ${ua}\r\n${extra}\r\n`;
      const n = this.scr.write(req, 0, 'latin1');
      this.scrPos = n;
      this.addScratch(0, n);
      bump(this.counts, 'httpRequests');
      return false;
    }
    this.addRand(Math.min(this.maxPayload(f), 10 + Math.floor(rng.exp(250))));
    return false;
  }

  /** Puts the next server segment's payload in the pieces (and consumes fRemain). */
  private serverSegment(f: number): void {
    const rng = this.rng;
    const mp = this.maxPayload(f);
    // IMIX-like size classes for the segment (the last segment of a response takes the remainder)
    const r = rng.f();
    let room = r < 0.2 ? mp : r < 0.86 ? 480 + rng.int(80) : 1 + rng.int(100);
    const app = this.fApp[f];
    const fl = this.fFlags[f];
    const s = this.scr;
    if ((fl & F_PREFIX) !== 0) {
      this.fFlags[f] = fl & ~F_PREFIX;
      if (app === APP_TLS) {
        const st = this.scrPos;
        this.buildServerHello((fl & F_TLS13) !== 0, (fl & F_PQ) !== 0);
        const n = this.scrPos - st;
        this.addScratch(st, n);
        room = Math.max(room - n, 0);
        if (n > mp) throw new Error('server hello too large');
      } else if (app === APP_HTTP) {
        const body = this.fRemain[f];
        const hdr = `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body}\r\nConnection: keep-alive\r\n\r\n`;
        const st = this.scrPos;
        const n = s.write(hdr, st, 'latin1');
        this.scrPos += n;
        this.addScratch(st, n);
        room = Math.max(mp - n, 0);
      }
    }
    if ((fl & F_RECS) !== 0) {
      // perSegment: every segment starts with a record header (records never straddle segments)
      const perSegment = app === APP_OTHER;
      if (perSegment) room = Math.max(room, Math.min(this.fRemain[f], 64));
      while (room > 0 && this.fRemain[f] > 0) {
        if (this.fRec[f] === 0) {
          if (room < 6 || this.pcN >= 60) break;
          const rem = this.fRemain[f];
          let recLen = rem - 5 > 16401 + 64 ? 16401 : rem - 5;
          if (perSegment && recLen + 5 > room) {
            // the record ends with this segment; never leave a tail too short for a record header + 1 byte
            recLen = rem - room < 6 ? room - 11 : room - 5;
            if (recLen < 1) break;
          }
          const st = this.scrPos;
          s[st] = 0x17;
          s[st + 1] = 3;
          s[st + 2] = 3;
          w16(s, st + 3, recLen);
          this.scrPos += 5;
          this.addScratch(st, 5);
          room -= 5;
          this.fRemain[f] = rem - 5;
          this.fRec[f] = recLen;
        }
        const n = Math.min(room, this.fRec[f]);
        this.addRand(n);
        room -= n;
        this.fRec[f] -= n;
        this.fRemain[f] -= n;
      }
    } else {
      const n = Math.min(room, this.fRemain[f]);
      this.addRand(n);
      this.fRemain[f] -= n;
    }
  }

  // -------------------------------------------------------------------------------------------- TLS builders

  private grease(): number {
    const g = (this.rng.int(16) << 4) | 0x0a;
    return (g << 8) | g;
  }

  private readonly extOrder = new Int8Array(16);

  /** Builds a ClientHello record at scr[0..]; returns its length. */
  private buildClientHello(sni: Buffer, tls13: boolean, pq: boolean): number {
    const rng = this.rng;
    const s = this.scr;
    let o = 0;
    s[o++] = 0x16;
    s[o++] = 3;
    s[o++] = 1;
    const recLenOff = o;
    o += 2;
    s[o++] = 1;
    const hsLenOff = o;
    o += 3;
    s[o++] = 3;
    s[o++] = 3;
    this.scrPos = o;
    this.randScratch(32);
    o = this.scrPos;
    const sid = tls13 || rng.chance(0.5) ? 32 : 0;
    s[o++] = sid;
    this.scrPos = o;
    this.randScratch(sid);
    o = this.scrPos;
    const g1 = this.grease();
    const suites = tls13
      ? [g1, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035]
      : [0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b, 0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014, 0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f, 0x00ff];
    w16(s, o, suites.length * 2);
    o += 2;
    for (const c of suites) {
      w16(s, o, c);
      o += 2;
    }
    s[o++] = 1;
    s[o++] = 0;
    const extLenOff = o;
    o += 2;
    const extStart = o;
    // extension ids: 0 sni, 1 ems, 2 reneg, 3 groups, 4 ecpf, 5 ticket, 6 alpn, 7 status, 8 sigalgs, 9 sct,
    // 10 keyshare, 11 pskmodes, 12 versions, 13 compress_cert, 14 alps
    const order = this.extOrder;
    let nExt = 0;
    if (tls13) {
      for (let i = 0; i < 15; i++) order[nExt++] = i;
      for (let i = nExt - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      w16(s, o, this.grease());
      w16(s, o + 2, 0);
      o += 4;
    } else {
      for (const i of [0, 4, 3, 5, 6, 7, 8, 1, 2]) order[nExt++] = i;
    }
    const gGroup = this.grease();
    for (let k = 0; k < nExt; k++) {
      const id = order[k];
      switch (id) {
        case 0:
          w16(s, o, 0x0000);
          w16(s, o + 2, sni.length + 5);
          w16(s, o + 4, sni.length + 3);
          s[o + 6] = 0;
          w16(s, o + 7, sni.length);
          sni.copy(s, o + 9);
          o += 9 + sni.length;
          break;
        case 1:
          w16(s, o, 0x0017);
          w16(s, o + 2, 0);
          o += 4;
          break;
        case 2:
          w16(s, o, 0xff01);
          w16(s, o + 2, 1);
          s[o + 4] = 0;
          o += 5;
          break;
        case 3: {
          const groups = tls13 ? (pq ? [gGroup, 0x11ec, 0x001d, 0x0017, 0x0018] : [gGroup, 0x001d, 0x0017, 0x0018]) : [0x001d, 0x0017, 0x0018, 0x0019];
          w16(s, o, 0x000a);
          w16(s, o + 2, groups.length * 2 + 2);
          w16(s, o + 4, groups.length * 2);
          o += 6;
          for (const g of groups) {
            w16(s, o, g);
            o += 2;
          }
          break;
        }
        case 4:
          w16(s, o, 0x000b);
          w16(s, o + 2, 2);
          s[o + 4] = 1;
          s[o + 5] = 0;
          o += 6;
          break;
        case 5:
          w16(s, o, 0x0023);
          w16(s, o + 2, 0);
          o += 4;
          break;
        case 6: {
          w16(s, o, 0x0010);
          if (tls13 || rng.chance(0.5)) {
            w16(s, o + 2, 14);
            w16(s, o + 4, 12);
            s[o + 6] = 2;
            s.write('h2', o + 7, 'latin1');
            s[o + 9] = 8;
            s.write('http/1.1', o + 10, 'latin1');
            o += 18;
          } else {
            w16(s, o + 2, 11);
            w16(s, o + 4, 9);
            s[o + 6] = 8;
            s.write('http/1.1', o + 7, 'latin1');
            o += 15;
          }
          break;
        }
        case 7:
          w16(s, o, 0x0005);
          w16(s, o + 2, 5);
          s[o + 4] = 1;
          w32(s, o + 5, 0);
          o += 9;
          break;
        case 8: {
          const algs = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
          w16(s, o, 0x000d);
          w16(s, o + 2, algs.length * 2 + 2);
          w16(s, o + 4, algs.length * 2);
          o += 6;
          for (const a of algs) {
            w16(s, o, a);
            o += 2;
          }
          break;
        }
        case 9:
          w16(s, o, 0x0012);
          w16(s, o + 2, 0);
          o += 4;
          break;
        case 10: {
          w16(s, o, 0x0033);
          const lenOff = o + 2;
          o += 6;
          const st = o;
          w16(s, o, gGroup);
          w16(s, o + 2, 1);
          s[o + 4] = 0;
          o += 5;
          if (pq) {
            w16(s, o, 0x11ec);
            w16(s, o + 2, 1216);
            o += 4;
            this.scrPos = o;
            this.randScratch(1216);
            o = this.scrPos;
          }
          w16(s, o, 0x001d);
          w16(s, o + 2, 32);
          o += 4;
          this.scrPos = o;
          this.randScratch(32);
          o = this.scrPos;
          w16(s, lenOff, o - st + 2);
          w16(s, lenOff + 2, o - st);
          break;
        }
        case 11:
          w16(s, o, 0x002d);
          w16(s, o + 2, 2);
          s[o + 4] = 1;
          s[o + 5] = 1;
          o += 6;
          break;
        case 12:
          w16(s, o, 0x002b);
          w16(s, o + 2, 7);
          s[o + 4] = 6;
          w16(s, o + 5, this.grease());
          w16(s, o + 7, 0x0304);
          w16(s, o + 9, 0x0303);
          o += 11;
          break;
        case 13:
          w16(s, o, 0x001b);
          w16(s, o + 2, 3);
          s[o + 4] = 2;
          w16(s, o + 5, 2);
          o += 7;
          break;
        case 14:
          w16(s, o, 0x4469);
          w16(s, o + 2, 5);
          w16(s, o + 4, 3);
          s[o + 6] = 2;
          s.write('h2', o + 7, 'latin1');
          o += 9;
          break;
        default:
          break;
      }
    }
    if (tls13) {
      w16(s, o, this.grease());
      w16(s, o + 2, 1);
      s[o + 4] = 0;
      o += 5;
      // BoringSSL-style padding of handshake messages between 256 and 511 bytes up to 512
      const unpadded = o - 5;
      if (unpadded > 0xff && unpadded < 0x200) {
        let padLen = 0x200 - unpadded;
        padLen = padLen >= 5 ? padLen - 4 : 1;
        w16(s, o, 0x0015);
        w16(s, o + 2, padLen);
        s.fill(0, o + 4, o + 4 + padLen);
        o += 4 + padLen;
      }
    }
    w16(s, extLenOff, o - extStart);
    const hs = o - hsLenOff - 3;
    s[hsLenOff] = (hs >>> 16) & 0xff;
    w16(s, hsLenOff + 1, hs & 0xffff);
    w16(s, recLenOff, o - 5);
    this.scrPos = o;
    return o;
  }

  /** Appends ServerHello + ChangeCipherSpec (+ encrypted Finished for an abbreviated TLS 1.2 handshake) at scrPos. */
  private buildServerHello(tls13: boolean, pq: boolean): void {
    const s = this.scr;
    let o = this.scrPos;
    const st = o;
    s[o] = 0x16;
    s[o + 1] = 3;
    s[o + 2] = 3;
    o += 5;
    s[o] = 2;
    const hsOff = o + 1;
    o += 4;
    s[o++] = 3;
    s[o++] = 3;
    this.scrPos = o;
    this.randScratch(32);
    o = this.scrPos;
    s[o++] = 32;
    this.scrPos = o;
    this.randScratch(32);
    o = this.scrPos;
    w16(s, o, tls13 ? 0x1301 : 0xc02f);
    s[o + 2] = 0;
    o += 3;
    const extLenOff = o;
    o += 2;
    const es = o;
    if (tls13) {
      w16(s, o, 0x002b);
      w16(s, o + 2, 2);
      w16(s, o + 4, 0x0304);
      o += 6;
      const k = pq ? 1120 : 32;
      w16(s, o, 0x0033);
      w16(s, o + 2, 4 + k);
      w16(s, o + 4, pq ? 0x11ec : 0x001d);
      w16(s, o + 6, k);
      o += 8;
      this.scrPos = o;
      this.randScratch(k);
      o = this.scrPos;
    } else {
      w16(s, o, 0x0017);
      w16(s, o + 2, 0);
      w16(s, o + 4, 0xff01);
      w16(s, o + 6, 1);
      s[o + 8] = 0;
      w16(s, o + 9, 0x000b);
      w16(s, o + 11, 2);
      s[o + 13] = 1;
      s[o + 14] = 0;
      o += 15;
    }
    w16(s, extLenOff, o - es);
    const hs = o - hsOff - 3;
    s[hsOff] = 0;
    w16(s, hsOff + 1, hs);
    w16(s, st + 3, o - st - 5);
    // ChangeCipherSpec
    s[o] = 0x14;
    s[o + 1] = 3;
    s[o + 2] = 3;
    w16(s, o + 3, 1);
    s[o + 5] = 1;
    o += 6;
    if (!tls13) {
      s[o] = 0x16;
      s[o + 1] = 3;
      s[o + 2] = 3;
      w16(s, o + 3, 40);
      o += 5;
      this.scrPos = o;
      this.randScratch(40);
      o = this.scrPos;
    }
    this.scrPos = o;
  }

  // -------------------------------------------------------------------------------------------- scans

  private internalMac(ip: number): void {
    // destination = internal host (MAC derived from its address), source = router
    const h = this.h;
    h.dmacHi = 0x0050;
    h.dmacLo = (0x56000000 | (ip & 0xffffff)) >>> 0;
    h.smacHi = ROUTER_MAC_HI;
    h.smacLo = ROUTER_MAC_LO;
    h.vlan = 0;
    h.outer = 0;
    h.v6 = false;
    h.ext = 0;
    h.fl = 0;
  }

  private setupScans(): void {
    const rng = this.rng;
    const N = this.N;
    const mk = (kind: string, tool: string, src: number, sport: number, ports: number[], net: string, window: number, ttl: string): ScanTruth => ({
      kind,
      tool,
      source: ipStr(src),
      sourcePort: sport,
      ports,
      targets: 0,
      targetNet: net,
      probes: 0,
      synAck: 0,
      rst: 0,
      noAnswer: 0,
      scannerRst: 0,
      ttl,
      window,
      firstTs: null,
      lastTs: null,
    });
    const capK = (k: number, lo: number, hi: number): number => Math.max(0, Math.min(k, Math.floor((hi - lo) * N * 0.5)));
    const allSlots: number[] = [];
    const addSchedule = (idx: number, k: number, lo: number, hi: number): void => {
      const a = new Float64Array(k);
      for (let i = 0; i < k; i++) a[i] = Math.floor((lo + rng.f() * (hi - lo)) * N);
      a.sort();
      for (let i = 0; i < k; i++) allSlots.push(a[i] * 8 + idx);
    };

    // 1. nmap-like SYN sweep of 443 over a /16
    {
      const src = ipNum(45, 134, 26, rng.range(2, 250));
      const sport = rng.range(40000, 65000);
      const k = capK(Math.max(1000, Math.min(60000, Math.round(N * 0.002))), 0.1, 0.5);
      const hosts = this.distinctHosts(k);
      const def: ScanDef = {
        truth: mk('horizontal-syn-sweep', 'nmap -sS -p443 (like)', src, sport, [443], '10.20.0.0/16', 1024, '40-55 (random per probe)'),
        srcIp: src,
        sport,
        tIp: new Uint32Array(k),
        tPort: new Uint16Array(k),
        next: 0,
        pSynAck: 0.05,
        pRst: 0.2,
        masscan: false,
        open: null,
      };
      for (let i = 0; i < k; i++) {
        def.tIp[i] = (ipNum(10, 20, 0, 0) + hosts[i]) >>> 0;
        def.tPort[i] = 443;
      }
      def.truth.targets = k;
      this.scans.push(def);
      addSchedule(this.scans.length - 1, k, 0.1, 0.5);
    }
    // 2. vertical scan of ports 1-1024 on one host
    {
      const src = ipNum(193, 32, 161, rng.range(2, 250));
      const sport = rng.range(40000, 65000);
      const target = ipNum(10, 0, 5, 20);
      const k = capK(1024, 0.3, 0.34);
      const ports = new Uint16Array(1024);
      for (let i = 0; i < 1024; i++) ports[i] = i + 1;
      for (let i = 1023; i > 0; i--) {
        const j = rng.int(i + 1);
        const t = ports[i];
        ports[i] = ports[j];
        ports[j] = t;
      }
      const open = new Set([22, 53, 80, 443, 445]);
      const def: ScanDef = {
        truth: mk('vertical-port-scan', 'nmap -sS -p1-1024 (like)', src, sport, [1, 1024], '10.0.5.20/32', 1024, '40-55 (random per probe)'),
        srcIp: src,
        sport,
        tIp: new Uint32Array(k).fill(target),
        tPort: ports.slice(0, k),
        next: 0,
        pSynAck: 0,
        pRst: 1,
        masscan: false,
        open,
      };
      def.truth.targets = 1;
      def.truth.targetHosts = [ipStr(target)];
      def.truth.openPorts = [...open].filter((p) => Array.prototype.indexOf.call(def.tPort, p) >= 0).sort((a, b) => a - b);
      def.truth.notes = 'ports field is the range [first, last]; probes go in random order; open ports answer SYN-ACK (then the scanner RSTs), all others RST-ACK';
      this.scans.push(def);
      addSchedule(this.scans.length - 1, k, 0.3, 0.34);
    }
    // 3. masscan-like sweep: several ports over another /16, TTL 255, no options, ip.id = dst ^ dport ^ seq
    {
      const src = ipNum(71, 6, 233, rng.range(2, 250));
      const sport = 61000;
      const portsList = [22, 80, 443, 3389, 8080];
      const k = capK(Math.max(600, Math.min(60000, Math.round(N * 0.0015))), 0.6, 0.63);
      const seen = new Set<number>();
      const def: ScanDef = {
        truth: mk('horizontal-multiport-sweep', 'masscan (like)', src, sport, portsList, '10.30.0.0/16', 1024, '255'),
        srcIp: src,
        sport,
        tIp: new Uint32Array(k),
        tPort: new Uint16Array(k),
        next: 0,
        pSynAck: 0.03,
        pRst: 0.1,
        masscan: true,
        open: null,
      };
      const hostsSeen = new Set<number>();
      for (let i = 0; i < k; i++) {
        let host: number;
        let port: number;
        do {
          host = rng.range(1, 65534);
          port = portsList[rng.int(portsList.length)];
        } while (seen.has(host * 8 + portsList.indexOf(port)));
        seen.add(host * 8 + portsList.indexOf(port));
        hostsSeen.add(host);
        def.tIp[i] = (ipNum(10, 30, 0, 0) + host) >>> 0;
        def.tPort[i] = port;
      }
      def.truth.targets = hostsSeen.size;
      this.scans.push(def);
      addSchedule(this.scans.length - 1, k, 0.6, 0.63);
    }
    // 4. slow scan: one probe every 30-90 s of packet time over the whole capture
    {
      const src = ipNum(89, 248, 165, rng.range(2, 250));
      const sport = rng.range(40000, 65000);
      const def: ScanDef = {
        truth: mk('slow-scan', 'nmap -T0 (like)', src, sport, this.slowPorts, 'internal clients', 1024, '40-55 (random per probe)'),
        srcIp: src,
        sport,
        tIp: new Uint32Array(0),
        tPort: new Uint16Array(0),
        next: 0,
        pSynAck: 0.1,
        pRst: 0.7,
        masscan: false,
        open: null,
      };
      def.truth.notes = 'first probe 1-5 s after the start, then one every 30-90 s of packet time: a short capture holds only a few probes';
      this.slow = def;
      this.scans.push(def);
      this.nextSlowUs = this.t0Us + 1e6 + rng.f() * 4e6;
    }
    allSlots.sort((a, b) => a - b);
    this.probeSlots = new Float64Array(allSlots.length + 1);
    this.probeScan = new Uint8Array(allSlots.length + 1);
    for (let i = 0; i < allSlots.length; i++) {
      this.probeSlots[i] = Math.floor(allSlots[i] / 8);
      this.probeScan[i] = allSlots[i] % 8;
    }
    this.probeSlots[allSlots.length] = Infinity;
  }

  private distinctHosts(k: number): Int32Array {
    const all = new Int32Array(65534);
    for (let i = 0; i < 65534; i++) all[i] = i + 1;
    for (let i = 0; i < k; i++) {
      const j = i + this.rng.int(65534 - i);
      const t = all[i];
      all[i] = all[j];
      all[j] = t;
    }
    return all.subarray(0, k);
  }

  private scanTruthTs(t: ScanTruth): void {
    const ts = Math.round(this.tUs) / 1e6;
    if (t.firstTs === null) t.firstTs = ts;
    t.lastTs = ts;
  }

  private emitProbe(sc: ScanDef, dip: number, dport: number): void {
    const rng = this.rng;
    this.resetPieces();
    this.internalMac(dip);
    const h = this.h;
    h.src = sc.srcIp;
    h.dst = dip;
    h.df = false;
    const seq = rng.u32();
    if (sc.masscan) {
      h.ttl = 255;
      h.ipid = (dip ^ dport ^ seq) & 0xffff;
      this.emitTcp(sc.sport, dport, seq, 0, TH_SYN, 1024, OPT_NONE, 0, 0, 0, 0);
    } else {
      h.ttl = rng.range(40, 55);
      h.ipid = rng.int(65536);
      this.emitTcp(sc.sport, dport, seq, 0, TH_SYN, 1024, OPT_MSS, 0, 0, 1460, 0);
    }
    const t = sc.truth;
    t.probes++;
    this.scanTruthTs(t);
    bump(this.counts, 'scanProbes');
    // answer?
    let kind = 0; // 0 none, 1 rst, 2 synack
    if (sc.open !== null) kind = sc.open.has(dport) ? 2 : 1;
    else {
      const r = rng.f();
      kind = r < sc.pSynAck ? 2 : r < sc.pSynAck + sc.pRst ? 1 : 0;
    }
    if (kind === 0) {
      t.noAnswer++;
      return;
    }
    if (kind === 1) t.rst++;
    else t.synAck++;
    const e = this.newEvent(EV_SCAN_REPLY, 150 + rng.exp(800));
    this.eA[e] = this.scans.indexOf(sc);
    this.eB[e] = dip;
    this.eC[e] = dport;
    this.eD[e] = seq;
    this.eE[e] = kind;
  }

  private scanEvent(e: number): void {
    const rng = this.rng;
    const sc = this.scans[this.eA[e]];
    const dip = this.eB[e];
    const dport = this.eC[e];
    const seq = this.eD[e];
    this.resetPieces();
    this.internalMac(dip);
    const h = this.h;
    if (this.eKind[e] === EV_SCAN_REPLY) {
      // target -> scanner
      h.src = dip;
      h.dst = sc.srcIp;
      const t = h.smacHi;
      h.smacHi = h.dmacHi;
      h.dmacHi = t;
      const t2 = h.smacLo;
      h.smacLo = h.dmacLo;
      h.dmacLo = t2;
      h.ttl = (dip & 1) === 0 ? 64 : 128;
      h.df = true;
      h.ipid = 0;
      if (this.eE[e] === 1) {
        this.emitTcp(dport, sc.sport, 0, (seq + 1) >>> 0, TH_RST | TH_ACK, 0, OPT_NONE, 0, 0, 0, 0);
      } else {
        const isn = rng.u32();
        this.emitTcp(dport, sc.sport, isn, (seq + 1) >>> 0, TH_SYN | TH_ACK, 64240, OPT_SYNACK_NOTS, 0, 0, 1460, 7);
        const e2 = this.newEvent(EV_SCANNER_RST, 20000 + rng.exp(40000));
        this.eA[e2] = this.eA[e];
        this.eB[e2] = dip;
        this.eC[e2] = dport;
        this.eD[e2] = (seq + 1) >>> 0;
        this.eE[e2] = 0;
      }
      bump(this.counts, 'scanResponses');
    } else {
      // scanner's kernel resets the half-open connection
      h.src = sc.srcIp;
      h.dst = dip;
      h.ttl = sc.masscan ? 255 : rng.range(40, 55);
      h.df = false;
      h.ipid = sc.masscan ? (dip ^ dport ^ seq) & 0xffff : rng.int(65536);
      this.emitTcp(sc.sport, dport, seq, 0, TH_RST, 0, OPT_NONE, 0, 0, 0, 0);
      sc.truth.scannerRst++;
      bump(this.counts, 'scanProbes.scannerRst');
    }
  }

  private slowProbe(): void {
    const sc = this.slow as ScanDef;
    const rng = this.rng;
    const dip = this.cIp[rng.int(this.nClients)];
    const port = rng.pick(this.slowPorts);
    this.emitProbe(sc, dip, port);
    const set = (sc.truth.targetHosts ??= []);
    const ds = ipStr(dip);
    if (!set.includes(ds)) set.push(ds);
    sc.truth.targets = set.length;
    this.nextSlowUs += (30 + rng.f() * 60) * 1e6;
  }

  // -------------------------------------------------------------------------------------------- malformed

  private setupMalformed(): void {
    const k = Math.max(4, Math.round(this.N * 0.0001));
    const a = new Float64Array(k + 1);
    for (let i = 0; i < k; i++) a[i] = Math.floor((0.01 + this.rng.f() * 0.98) * this.N);
    a[k] = Infinity;
    a.sort();
    this.malSlots = a;
  }

  private emitMalformed(): void {
    const rng = this.rng;
    const kind = MAL_KINDS[this.malNext % MAL_KINDS.length];
    this.malNext++;
    const c = this.pickClient();
    const srv = rng.int(this.nServers - 64);
    this.setHostClient(c, false, false);
    const h = this.h;
    h.vlan = 0;
    h.outer = 0;
    h.dst = this.sIp[srv];
    h.df = true;
    this.resetPieces();
    const b = this.out.buf;
    const sport = rng.range(49152, 65535);
    switch (kind) {
      case 'truncated-ipv4-header': {
        const fo = this.out.frame();
        const l3 = this.writeEth(b, fo, ETH_IPV4);
        this.writeIpv4(b, l3, 60, 6);
        this.commitFrame(14 + 12); // the frame ends 12 bytes into the IPv4 header
        break;
      }
      case 'bad-ihl': {
        const fo = this.out.frame();
        const l3 = this.writeEth(b, fo, ETH_IPV4);
        this.writeIpv4(b, l3, 40, 6);
        b[l3] = 0x43; // IHL 3 (< 5)
        w16(b, l3 + 10, 0);
        w16(b, l3 + 10, csumFinish(sumBytes(b, l3, l3 + 12, false)));
        for (let i = 20; i < 40; i++) b[l3 + i] = 0;
        w16(b, l3 + 20, sport);
        w16(b, l3 + 22, 443);
        this.commitFrame(14 + 40);
        break;
      }
      case 'tcp-doff-beyond-packet': {
        const fo = this.out.frame();
        const l3 = this.writeEth(b, fo, ETH_IPV4);
        const l4 = l3 + 20;
        this.writeIpv4(b, l3, 20 + 28, 6);
        w16(b, l4, sport);
        w16(b, l4 + 2, 443);
        w32(b, l4 + 4, rng.u32());
        w32(b, l4 + 8, rng.u32());
        b[l4 + 12] = 0xf0; // data offset 15 -> 60-byte header, but the segment has 28 bytes
        b[l4 + 13] = TH_ACK | TH_PSH;
        w16(b, l4 + 14, 502);
        w32(b, l4 + 16, 0);
        for (let i = 20; i < 28; i++) b[l4 + i] = rng.int(256);
        const s = this.pseudoSum(6, 28) + sumBytes(b, l4, l4 + 28, false);
        w16(b, l4 + 16, csumFinish(s));
        this.commitFrame(14 + 20 + 28);
        break;
      }
      case 'snaplen-cut': {
        this.addRand(1448);
        h.ttl = this.sTtl[srv];
        this.swapHdr();
        this.emitTcp(443, sport, rng.u32(), rng.u32(), TH_ACK, 501, OPT_TS, rng.u32(), rng.u32(), 0, 0, 96);
        this.nTcp4--; // counted as malformed, not as a regular TCP packet
        break;
      }
    }
    bump(this.malByKind, kind);
    this.malFrames.push({ frame: this.frameNo, kind });
  }

  // -------------------------------------------------------------------------------------------- main loop

  run(): Truth {
    const N = this.N;
    const rng = this.rng;
    this.setupScans();
    this.setupMalformed();
    // flows that were already established when the capture started; their next packets are spread over 3 s
    this.preloadFlows(Math.min(FLOW_CAP / 2, Math.max(100, Math.round(this.pps * 0.25))), 10e6);
    const meanGapBase = 1e6 / this.pps;
    let meanGap = meanGapBase;
    const P_DNS = 0.04;
    const P_ICMP = P_DNS + 0.005;
    const P_NEW = 0.006;
    let malNext = this.malSlots[0];
    let malI = 0;
    let probeI = 0;
    let probeNext = this.probeSlots[0];
    for (let i = 0; i < N; i++) {
      this.slot = i;
      // the rate drifts between ~0.5x and ~2x the nominal rate
      if ((i & 63) === 0) {
        const tSec = (this.tUs - this.t0Us) / 1e6;
        meanGap = meanGapBase / Math.pow(2, 0.6 * Math.sin(tSec * 0.571) + 0.4 * Math.sin(tSec * 2.17 + 1));
      }
      this.tUs += Math.round(rng.exp(meanGap));
      if (i >= malNext) {
        this.emitMalformed();
        malNext = this.malSlots[++malI];
      } else if (this.tUs >= this.nextSlowUs) {
        this.slowProbe();
      } else if (i >= probeNext) {
        const sc = this.scans[this.probeScan[probeI]];
        const k = sc.next++;
        this.emitProbe(sc, sc.tIp[k], sc.tPort[k]);
        probeNext = this.probeSlots[++probeI];
      } else if (this.evHeap.size > 0 && this.evHeap.topKey() <= i) {
        this.runEvent(this.evHeap.pop());
      } else {
        const r = rng.f();
        if (r < P_DNS) this.startDns();
        else if (r < P_ICMP) this.startIcmp();
        else {
          // new flows arrive at a fixed rate (Poisson); otherwise the earliest pending flow sends its next packet,
          // early if nothing is due yet (so idle slots never turn into bursts of new flows)
          const heap = this.flowHeap;
          if (this.freeTop > 0 && (heap.size === 0 || rng.f() < P_NEW)) this.startFlow();
          else this.stepFlow(heap.pop());
        }
      }
      if (this.frameNo !== i + 1) throw new Error(`slot ${i} emitted ${this.frameNo - i} frames`);
    }
    this.out.close();
    return this.truth();
  }

  private truth(): Truth {
    const counts = this.counts;
    counts.frames = this.frameNo;
    counts.tcp4 = this.nTcp4;
    counts.tcp6 = this.nTcp6;
    counts.udp4 = this.nUdp4;
    counts.udp6 = this.nUdp6;
    counts.icmp4 = this.nIcmp;
    counts.ipv6 = this.nTcp6 + this.nUdp6;
    counts.ipv6ExtHdr = this.nExt;
    counts.vlanTagged = this.nVlan;
    counts.qinq = this.nQinq;
    counts.dns = (counts.dns4 ?? 0) + (counts.dns6 ?? 0);
    counts.malformed = this.malFrames.length;
    const scans = this.scans.map((s) => s.truth);
    for (const s of scans) {
      if (s.targetHosts && s.targetHosts.length > 16) {
        s.targetHosts = s.targetHosts.slice(0, 16);
      }
    }
    const sortedCounts: Record<string, number> = sortedRecord(counts);
    const firstTs = this.firstUs / 1e6;
    const lastTs = this.lastUs / 1e6;
    const sorted2 = (m: Record<string, Record<string, number>>): Record<string, Record<string, number>> => {
      const o: Record<string, Record<string, number>> = {};
      for (const k of Object.keys(m).sort()) o[k] = sortedRecord(m[k]);
      return o;
    };
    return {
      generator: 'picket bench/gen.ts v1',
      seed: this.opts.seed,
      packets: this.frameNo,
      bytes: this.bytes,
      fileBytes: this.out.fileBytes,
      ppsNominal: this.pps,
      firstTs,
      lastTs,
      firstIso: new Date(this.firstUs / 1000).toISOString(),
      lastIso: new Date(this.lastUs / 1000).toISOString(),
      durationS: Math.round((this.lastUs - this.firstUs) / 1000) / 1000,
      linktype: 1,
      snaplen: 65535,
      counts: sortedCounts,
      frameSizes: {
        le127: this.sizeSmall,
        from128to1023: this.sizeMed,
        ge1024: this.sizeLarge,
        meanOrigLen: 0,
      },
      tcpFlows: {
        started: this.flowsStarted,
        preexisting: this.flowsPre,
        closed: this.flowsClosed,
        reset: this.flowsReset,
        maxConcurrent: this.maxLive,
        concurrentAtEnd: this.live,
      },
      intelDnsQueries: sortedRecord(this.intelDns),
      intelDnsByDomain: sortedRecord(this.intelDnsDom),
      intelDnsClients: sorted2(this.intelDnsCli),
      decoyDnsQueries: sortedRecord(this.decoyDns),
      intelTlsSni: sortedRecord(this.intelSni),
      intelTlsClients: sorted2(this.intelSniCli),
      intelHttpHost: sortedRecord(this.intelHttp),
      intelHttpClients: sorted2(this.intelHttpCli),
      analystClients: this.analysts.map((c) => ipStr(this.cIp[c])),
      scans,
      malformed: this.malFrames.length,
      malformedByKind: sortedRecord(this.malByKind),
      malformedFrames: this.malFrames,
      notes: [
        'frame numbers are 1-based, as in tshark',
        'intel* and decoy* counts are per emitted packet: a DNS query / TLS ClientHello / HTTP request each count once; DNS responses are not counted',
        'decoyDnsQueries are look-alike names that must not be reported as IP-intelligence look-ups',
        'counts.tcp4 excludes the deliberate malformed frames; "snaplen-cut" frames are otherwise well-formed TCP with caplen 96 < origlen',
        'scans[].ttl/window describe the probes; targets is the number of distinct target hosts',
      ],
    };
  }
}

export function generate(opts: GenOptions): Truth {
  fs.mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
  const g = new Generator(opts);
  const truth = g.run();
  truth.frameSizes.meanOrigLen = 0;
  const truthOut = opts.truthOut ?? defaultTruthPath(opts.out);
  // mean frame size from the byte total (no snaplen-cut frames skew this noticeably)
  truth.frameSizes.meanOrigLen = Math.round((truth.bytes / truth.packets) * 10) / 10;
  fs.writeFileSync(truthOut, JSON.stringify(truth, null, 2) + '\n');
  return truth;
}

export function defaultTruthPath(pcap: string): string {
  return pcap.replace(/\.pcap$/, '') + '.truth.json';
}

/** Parses 2000000, 2m, 200k, 1.5M. */
export function parseCount(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim());
  if (!m) throw new Error(`bad count: ${s}`);
  const mult = m[2] === '' ? 1 : m[2].toLowerCase() === 'k' ? 1e3 : 1e6;
  return Math.round(parseFloat(m[1]) * mult);
}

function usage(): string {
  return 'usage: node dist/bench/gen.js [--packets N] [--seed S] [--out FILE.pcap] [--truth FILE.json] [--pps RATE] [--start EPOCH_S] [--quiet]';
}

export function main(argv: string[]): number {
  let packets = 2000000;
  let seed = 1;
  let out = '';
  let truthOut: string | undefined;
  let pps = 100000;
  let startSec: number | undefined;
  let quiet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${usage()}`);
      return v;
    };
    if (a === '--packets' || a === '-n') packets = parseCount(next());
    else if (a === '--seed') seed = parseInt(next(), 10) >>> 0;
    else if (a === '--out' || a === '-o') out = next();
    else if (a === '--truth') truthOut = next();
    else if (a === '--pps') pps = parseCount(next());
    else if (a === '--start') startSec = parseInt(next(), 10);
    else if (a === '--quiet' || a === '-q') quiet = true;
    else if (a === '--help' || a === '-h') {
      process.stdout.write(usage() + '\n');
      return 0;
    } else throw new Error(`unknown argument ${a}\n${usage()}`);
  }
  if (!(packets > 0)) throw new Error('--packets must be > 0');
  if (out === '') out = path.join('bench', 'data', `mix-${label(packets)}${seed === 1 ? '' : `-s${seed}`}.pcap`);
  const t0 = process.hrtime.bigint();
  const truth = generate({ packets, seed, out, truthOut, pps, startSec, quiet });
  const dt = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!quiet) {
    process.stderr.write(
      `wrote ${out}: ${truth.packets} packets, ${(truth.fileBytes / 1e6).toFixed(1)} MB, ${truth.durationS.toFixed(1)} s of packet time, ` +
        `max ${truth.tcpFlows.maxConcurrent} concurrent TCP flows; generated in ${dt.toFixed(2)} s ` +
        `(${Math.round(truth.packets / dt).toLocaleString('en-US')} packets/s, ${(truth.fileBytes / 1e6 / dt).toFixed(0)} MB/s)\n`,
    );
  }
  return 0;
}

/** 2000000 -> "2m", 200000 -> "200k", 1234 -> "1234". */
export function label(n: number): string {
  if (n % 1000000 === 0) return `${n / 1000000}m`;
  if (n % 1000 === 0) return `${n / 1000}k`;
  return String(n);
}

if (require.main === module) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 2;
  }
}
