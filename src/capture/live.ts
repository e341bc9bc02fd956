/**
 * Live capture: packets from a network interface as PacketBatches, the same unit replay produces.
 *
 * Two backends. The addon (native/pcap_capture.c, built by node-gyp into build/Release) reads libpcap on a thread
 * of its own and hands over whole batches, with the kernel's and its own drop counters. The `cap` package (an
 * optional dependency) is the fallback where the addon could not be built: one JavaScript event per packet, which
 * this file gathers into batches; it has no drop counters and no packet timestamps (see native-notes/capture.md).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { BATCH_MAX_PACKETS, createPacketBatch, type PacketBatch } from './batch';
import { PicketError } from '../errors';

export interface LiveOptions {
  iface: string;
  bpf?: string;
  snaplen?: number;
  bufferMb?: number;
  promisc?: boolean;
  batchPackets?: number;
  flushMs?: number;
  backend?: 'auto' | 'addon' | 'cap';
  /**
   * Join a PACKET_FANOUT group (the addon only): 'new' founds one (the kernel picks a free id: `fanout` of the
   * source says which), 0..65535 joins that one. Every socket of a group on one interface gets a share of its packets, whole flows each (the
   * kernel's symmetric flow hash; see native-notes/capture.md). Absent: a socket of its own, every packet.
   */
  fanout?: number | 'new';
}

export interface LiveStats {
  /** Packets libpcap handed to picket (picketDropped of them were then discarded: expected 0 with the addon). */
  received: number;
  /** Dropped by the kernel because picket's socket buffer (bufferMb) was full (libpcap's ps_drop). */
  kernelDropped: number;
  /** Dropped by the interface or its driver (libpcap's ps_ifdrop). */
  ifDropped: number;
  /**
   * Discarded by picket. The addon does not read while every batch buffer is with JavaScript (the kernel ring holds
   * the backlog, and its overflow is kernelDropped), so this stays 0 there; the cap fallback cannot wait and counts
   * here what it could not batch.
   */
  picketDropped: number;
  batches: number;
}

export interface LiveSource {
  readonly backend: 'addon' | 'cap';
  readonly iface: string;
  /** DLT of the interface (e.g. 1 Ethernet). */
  readonly linktype: number;
  /** The PACKET_FANOUT group the socket is in, -1 for none. */
  readonly fanout: number;
  /**
   * Calls onBatch for every batch, in capture order; the batch is valid only during the call, unless the consumer
   * calls `hold()` during it: then the batch stays valid (and capture reads no more into its buffer) until the
   * function hold() returned is called. hold() returns null where the backend cannot hold (cap).
   */
  start(onBatch: (batch: PacketBatch, hold: () => (() => void) | null) => void, onError: (err: Error) => void): void;
  stats(): LiveStats;
  /** Stops capture, delivers what is buffered, resolves with the final stats. Idempotent. */
  stop(): Promise<LiveStats>;
}

export interface LiveInterface {
  name: string;
  description: string;
  addresses: string[];
  up: boolean;
  running: boolean;
  loopback: boolean;
}

const DEFAULTS = { snaplen: 65535, bufferMb: 64, batchPackets: 8192, flushMs: 50 };
/** Batch buffers the addon fills in turn; all of them with JavaScript at once is when it starts dropping. */
const SLOTS = 8;
/** Bytes of packet data per batch: 8 of them are 32 MiB, about 0.1 s of a saturated 1 Gb/s link each. */
const SLOT_BYTES = 4 << 20;
/** libpcap's block timeout (ms): how long a packet may wait in a kernel block on a quiet link. */
const PCAP_TIMEOUT_MS = 20;

const GRANT = 'setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))';

// ---------- the addon ----------

type SlotArrays = [Buffer, Int32Array, Int32Array, Int32Array, Float64Array, Uint32Array, Uint16Array];
interface NativeStats extends LiveStats {
  /** libpcap's ps_recv: packets that passed the filter in the kernel, dropped or not. */
  pcapReceived: number;
}
interface NativeHandle {
  readonly linktype: number;
  readonly nanosecond: boolean;
  readonly fanout: number;
}
/** Returns true to keep the slot (release() gives it back later). */
type NativeCallback = (slot: number, count: number, firstOrdinal: number, error?: string | null, stats?: NativeStats) => boolean | undefined;
interface NativeAddon {
  open(o: { iface: string; bpf?: string; snaplen: number; bufferMb: number; promisc: boolean; timeoutMs: number; fanout: number }): NativeHandle;
  start(h: NativeHandle, slots: SlotArrays[], batchPackets: number, flushMs: number, cb: NativeCallback): void;
  /** True when an end callback is still to come. */
  stop(h: NativeHandle): boolean;
  stats(h: NativeHandle): NativeStats;
  release(h: NativeHandle, slot: number): void;
  listInterfaces(): LiveInterface[];
  libVersion(): string;
}

let addonCache: { addon: NativeAddon | null; error?: string } | undefined;

function loadAddon(): { addon: NativeAddon | null; error?: string } {
  if (addonCache !== undefined) return addonCache;
  // dist/src/capture/live.js -> the repository (or installed package) root holds build/Release.
  const roots = [path.resolve(__dirname, '..', '..', '..'), path.resolve(__dirname, '..', '..')];
  const tried: string[] = [];
  for (const root of roots) {
    const file = path.join(root, 'build', 'Release', 'pcap_capture.node');
    if (!fs.existsSync(file)) {
      tried.push(`${file}: not built`);
      continue;
    }
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      addonCache = { addon: require(file) as NativeAddon };
      return addonCache;
    } catch (e) {
      tried.push(`${file}: ${(e as Error).message}`);
    }
  }
  addonCache = { addon: null, error: `the capture addon is not available (${tried.join('; ')}); build it with: apt-get install g++ make python3 && npm rebuild picket (or npm run install in the source tree); it needs no libpcap headers, only the libpcap0.8 library at run time` };
  return addonCache;
}

// ---------- cap ----------

interface CapDevice {
  name: string;
  description?: string;
  addresses?: Array<{ addr?: string }>;
  flags?: string;
}
interface CapInstance {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  on(event: 'packet', cb: (nbytes: number, truncated: boolean) => void): void;
  close(): void;
  setMinBytes?(n: number): void;
}
interface CapModule {
  Cap: { new (): CapInstance; deviceList(): CapDevice[] };
}

let capCache: { cap: CapModule | null; error?: string } | undefined;

function loadCap(): { cap: CapModule | null; error?: string } {
  if (capCache !== undefined) return capCache;
  try {
    // An optional dependency: absent where it could not be installed or built.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    capCache = { cap: require('cap') as CapModule };
  } catch (e) {
    capCache = { cap: null, error: `the cap package is not available (${(e as Error).message.split('\n')[0]}); install it with: npm install cap` };
  }
  return capCache;
}

/** cap names the link type instead of numbering it. */
const CAP_LINKTYPES: Record<string, number> = {
  NULL: 0,
  ETHERNET: 1,
  IEEE802_11_RADIO: 127,
  LINKTYPE_LINUX_SLL: 113,
  RAW: 101,
};

function capLinktype(name: string): number {
  const known = CAP_LINKTYPES[name];
  if (known !== undefined) return known;
  const m = /(\d+)$/.exec(name);
  return m !== null ? Number(m[1]) : -1;
}

// ---------- shared ----------

export function liveBackendAvailable(): { addon: boolean; cap: boolean; addonError?: string } {
  const a = loadAddon();
  const c = loadCap();
  const r: { addon: boolean; cap: boolean; addonError?: string } = { addon: a.addon !== null, cap: c.cap !== null };
  if (a.error !== undefined) r.addonError = a.error;
  return r;
}

function intOption(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v < min || v > max) throw new PicketError(`live capture: ${name} must be an integer from ${min} to ${max} (got ${v})`);
  return v;
}

interface Resolved {
  iface: string;
  bpf: string;
  snaplen: number;
  bufferMb: number;
  promisc: boolean;
  batchPackets: number;
  flushMs: number;
  fanout: number;
}

function resolveOptions(o: LiveOptions): Resolved {
  if (typeof o.iface !== 'string' || o.iface === '') throw new PicketError('live capture: an interface is required (-i IFACE; picket interfaces lists them)');
  return {
    iface: o.iface,
    bpf: o.bpf ?? '',
    snaplen: intOption('snaplen', o.snaplen, DEFAULTS.snaplen, 64, 262144),
    bufferMb: intOption('buffer size (MiB)', o.bufferMb, DEFAULTS.bufferMb, 1, 2047),
    promisc: o.promisc ?? false,
    batchPackets: intOption('batch size (packets)', o.batchPackets, DEFAULTS.batchPackets, 1, BATCH_MAX_PACKETS),
    flushMs: intOption('flush interval (ms)', o.flushMs, DEFAULTS.flushMs, 1, 3_600_000),
    fanout: o.fanout === 'new' ? -2 : intOption('fanout group', o.fanout, -1, 0, 65535),
  };
}

function permissionMessage(iface: string, detail: string): string {
  return `${iface}: no permission to capture (${detail}). Capturing needs CAP_NET_RAW (and CAP_NET_ADMIN for promiscuous mode and large buffers): run it as the picket service (systemctl start picket), or grant CAP_NET_RAW,CAP_NET_ADMIN another way: run picket as root, or grant them to node: sudo ${GRANT}`;
}

/** Zero counters: the stats of a capture that never started. */
function zeroStats(): LiveStats {
  return { received: 0, kernelDropped: 0, ifDropped: 0, picketDropped: 0, batches: 0 };
}

function publicStats(s: NativeStats): LiveStats {
  return { received: s.received, kernelDropped: s.kernelDropped, ifDropped: s.ifDropped, picketDropped: s.picketDropped, batches: s.batches };
}

// ---------- the addon's source ----------

class AddonSource implements LiveSource {
  readonly backend = 'addon' as const;
  readonly iface: string;
  readonly linktype: number;
  readonly fanout: number;
  private readonly handle: NativeHandle;
  private started = false;
  private ended = false;
  private final: LiveStats | null = null;
  private stopping: Promise<LiveStats> | null = null;
  private resolveStop: ((s: LiveStats) => void) | null = null;

  constructor(private readonly native: NativeAddon, private readonly o: Resolved) {
    this.iface = o.iface;
    try {
      this.handle = native.open({ iface: o.iface, bpf: o.bpf, snaplen: o.snaplen, bufferMb: o.bufferMb, promisc: o.promisc, timeoutMs: PCAP_TIMEOUT_MS, fanout: o.fanout });
    } catch (e) {
      throw openFailure(o, e as NodeJS.ErrnoException);
    }
    this.linktype = this.handle.linktype;
    this.fanout = this.handle.fanout;
  }

  start(onBatch: (batch: PacketBatch, hold: () => (() => void) | null) => void, onError: (err: Error) => void): void {
    if (this.started) throw new PicketError(`${this.iface}: capture already started`);
    if (this.stopping !== null) throw new PicketError(`${this.iface}: capture already stopped`);
    this.started = true;
    const batches: PacketBatch[] = [];
    for (let i = 0; i < SLOTS; i++) batches.push(createPacketBatch(Buffer.allocUnsafeSlow(Math.max(SLOT_BYTES, this.o.snaplen)), this.o.batchPackets));
    const slots = batches.map((b): SlotArrays => [b.data, b.offset, b.caplen, b.origlen, b.tsSec, b.tsNsec, b.linktype]);
    let failed = false;
    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      try {
        onError(err);
      } catch {
        // The error callback itself threw: nothing more to tell anyone.
      }
    };
    this.native.start(this.handle, slots, this.o.batchPackets, this.o.flushMs, (slot, count, firstOrdinal, error, stats) => {
      if (slot >= 0) {
        const b = batches[slot];
        b.count = count;
        b.firstOrdinal = firstOrdinal;
        let held = false;
        const hold = (): (() => void) => {
          held = true;
          let released = false;
          return () => {
            if (released) return;
            released = true;
            this.native.release(this.handle, slot);
          };
        };
        try {
          onBatch(b, hold);
        } catch (e) {
          // A consumer that throws is broken: stop capturing rather than feed it more (the addon must never see
          // an exception from this callback).
          fail(e instanceof Error ? e : new Error(String(e)));
          void this.stop();
          return false;
        }
        return held;
      }
      this.ended = true;
      this.final = stats !== undefined ? publicStats(stats) : publicStats(this.native.stats(this.handle));
      if (error !== null && error !== undefined) fail(new PicketError(error));
      if (this.resolveStop !== null) this.resolveStop(this.final);
      return false;
    });
  }

  stats(): LiveStats {
    if (this.final !== null) return { ...this.final };
    return publicStats(this.native.stats(this.handle));
  }

  stop(): Promise<LiveStats> {
    if (this.stopping !== null) return this.stopping;
    if (!this.started || this.ended) {
      this.native.stop(this.handle); // never started: closes libpcap; ended: nothing to do
      this.final ??= zeroStats();
      this.stopping = Promise.resolve({ ...this.final });
      return this.stopping;
    }
    this.stopping = new Promise<LiveStats>((resolve) => {
      this.resolveStop = (s) => resolve({ ...s });
    });
    this.native.stop(this.handle);
    return this.stopping;
  }
}

function openFailure(o: Resolved, e: NodeJS.ErrnoException): PicketError {
  const msg = e.message;
  switch (e.code) {
    case 'EPERM':
      return new PicketError(permissionMessage(o.iface, msg.replace(`${o.iface}: `, '')));
    case 'ENODEV':
      return new PicketError(`${o.iface}: no such interface (picket interfaces, or ip link, lists them)`);
    case 'ENETDOWN':
      return new PicketError(`${o.iface}: the interface is down (ip link set ${o.iface} up)`);
    case 'EBPF':
    case 'EFANOUT':
      return new PicketError(msg);
    default:
      return new PicketError(`${o.iface}: cannot capture: ${msg}`);
  }
}

// ---------- the cap source ----------

class CapSource implements LiveSource {
  readonly backend = 'cap' as const;
  readonly iface: string;
  readonly linktype: number;
  readonly fanout = -1;
  private readonly c: CapInstance;
  private readonly buf: Buffer;
  private readonly batch: PacketBatch;
  private readonly counters = zeroStats();
  private nextOrdinal = 0;
  private onBatch: ((b: PacketBatch, hold: () => (() => void) | null) => void) | null = null;
  private onError: ((e: Error) => void) | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopping: Promise<LiveStats> | null = null;
  private closed = false;

  constructor(cap: CapModule, private readonly o: Resolved) {
    this.iface = o.iface;
    // cap copies each packet into this one buffer before its event: its length is the snaplen.
    this.buf = Buffer.alloc(o.snaplen);
    this.batch = createPacketBatch(Buffer.allocUnsafeSlow(Math.max(SLOT_BYTES, o.snaplen)), o.batchPackets);
    const opened = capOpen(cap, o, this.buf);
    this.c = opened.c;
    this.linktype = capLinktype(opened.lt);
    this.c.on('packet', (nbytes) => this.packet(nbytes));
  }

  private packet(nbytes: number): void {
    if (this.closed) return;
    const b = this.batch;
    this.counters.received++;
    if (b.count === b.offset.length || (b.count > 0 && b.offset[b.count - 1] + b.caplen[b.count - 1] + nbytes > b.data.length)) this.flush();
    const i = b.count;
    const off = i === 0 ? 0 : b.offset[i - 1] + b.caplen[i - 1];
    if (i === 0) b.firstOrdinal = this.nextOrdinal;
    this.buf.copy(b.data, off, 0, nbytes);
    // cap gives neither the kernel's timestamp nor the original length: the time is when JavaScript saw the
    // packet (performance.now is monotonic, so the order holds), and the length is what was copied.
    const ms = performance.timeOrigin + performance.now();
    const sec = Math.floor(ms / 1000);
    b.offset[i] = off;
    b.caplen[i] = nbytes;
    b.origlen[i] = nbytes;
    b.tsSec[i] = sec;
    b.tsNsec[i] = Math.min(999_999_999, Math.round((ms - sec * 1000) * 1e6));
    b.linktype[i] = this.linktype;
    b.count = i + 1;
    this.nextOrdinal++;
    if (b.count === b.offset.length) this.flush();
  }

  private flush(): void {
    const b = this.batch;
    if (b.count === 0) return;
    if (this.onBatch === null) {
      // Not started yet: nobody to give them to.
      this.counters.picketDropped += b.count;
      this.nextOrdinal -= b.count;
      b.count = 0;
      return;
    }
    this.counters.batches++;
    try {
      this.onBatch(b, () => null);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const onError = this.onError;
      this.onError = null;
      void this.stop();
      if (onError !== null) onError(err);
    }
    b.count = 0;
  }

  start(onBatch: (batch: PacketBatch, hold: () => (() => void) | null) => void, onError: (err: Error) => void): void {
    if (this.onBatch !== null) throw new PicketError(`${this.iface}: capture already started`);
    if (this.stopping !== null) throw new PicketError(`${this.iface}: capture already stopped`);
    this.onBatch = onBatch;
    this.onError = onError;
    // Packets arrive one event at a time; the timer hands over a partial batch so quiet links still deliver.
    this.timer = setInterval(() => this.flush(), this.o.flushMs);
    this.timer.unref();
  }

  stats(): LiveStats {
    return { ...this.counters };
  }

  stop(): Promise<LiveStats> {
    if (this.stopping !== null) return this.stopping;
    this.stopping = new Promise<LiveStats>((resolve) => {
      // Give the event loop a few turns to read what the kernel still holds for cap's socket, then close.
      setTimeout(() => {
        if (this.timer !== null) clearInterval(this.timer);
        this.timer = null;
        this.flush();
        this.closed = true;
        try {
          this.c.close();
        } catch {
          // Already closed by cap itself.
        }
        resolve({ ...this.counters });
      }, PCAP_TIMEOUT_MS + 30);
    });
    return this.stopping;
  }
}

/**
 * Every cap instance ever made, kept reachable for good. cap 0.2.1 crashes the process (SIGSEGV) when one is
 * garbage-collected after close() (its libuv poll handle is stopped but never closed, so the loop keeps a pointer
 * into freed memory), and when one whose open() failed is closed or collected. A few hundred bytes each; the
 * packet socket itself is closed by close().
 */
const capKeepAlive: CapInstance[] = [];

/**
 * Opens cap. Its open() does pcap_activate and the filter in one call and reports both as a bare message, so a
 * filter is tried only after the interface opened without one: an error then is the filter's.
 */
function capOpen(cap: CapModule, o: Resolved, buf: Buffer): { c: CapInstance; lt: string } {
  const bufBytes = o.bufferMb << 20;
  const tryOpen = (filter: string): { c: CapInstance; lt: string } => {
    const c = new cap.Cap();
    capKeepAlive.push(c);
    const lt = c.open(o.iface, filter, bufBytes, buf);
    c.setMinBytes?.(0);
    return { c, lt };
  };
  let first: { c: CapInstance; lt: string };
  try {
    first = tryOpen('');
  } catch (e) {
    const msg = (e as Error).message;
    if (/permission|not permitted/i.test(msg)) throw new PicketError(permissionMessage(o.iface, msg));
    if (/no such device/i.test(msg)) throw new PicketError(`${o.iface}: no such interface (picket interfaces, or ip link, lists them)`);
    throw new PicketError(`${o.iface}: cannot capture: ${msg}`);
  }
  if (o.bpf === '') return first;
  first.c.close();
  try {
    return tryOpen(o.bpf);
  } catch (e) {
    throw new PicketError(`bad BPF filter "${o.bpf}": ${(e as Error).message}`);
  }
}

// ---------- public ----------

export function openLive(opts: LiveOptions): LiveSource {
  const o = resolveOptions(opts);
  const backend = opts.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'addon' && backend !== 'cap') throw new PicketError(`live capture: unknown backend ${String(backend)} (auto, addon or cap)`);
  if (backend === 'addon' || backend === 'auto') {
    const a = loadAddon();
    if (a.addon !== null) return new AddonSource(a.addon, o);
    if (backend === 'addon') throw new PicketError(a.error ?? 'the capture addon is not available');
  }
  if (o.fanout !== -1) {
    // Only the addon can join a PACKET_FANOUT group (it owns the socket); cap cannot.
    const why = backend === 'cap' ? 'the cap backend cannot join a group (--backend addon or auto, or --workers 0)' : loadAddon().error ?? '';
    throw new PicketError(`${o.iface}: a capture socket per worker (PACKET_FANOUT) needs picket's capture addon: ${why}`);
  }
  const c = loadCap();
  if (c.cap === null) {
    if (backend === 'cap') throw new PicketError(c.error ?? 'the cap package is not available');
    throw new PicketError(`no live capture backend: ${loadAddon().error ?? ''}; and ${c.error ?? ''}`);
  }
  return new CapSource(c.cap, o);
}

/** Interface flags from sysfs, for cap, whose device list carries only the loopback flag. */
function sysfsFlags(name: string): { up: boolean; running: boolean } {
  try {
    const flags = parseInt(fs.readFileSync(`/sys/class/net/${name}/flags`, 'utf8').trim(), 16);
    return { up: (flags & 0x1) !== 0, running: (flags & 0x40) !== 0 };
  } catch {
    return { up: false, running: false };
  }
}

export function listInterfaces(): LiveInterface[] {
  const a = loadAddon();
  if (a.addon !== null) {
    try {
      return a.addon.listInterfaces();
    } catch (e) {
      throw new PicketError(`cannot list interfaces: ${(e as Error).message}`);
    }
  }
  const c = loadCap();
  if (c.cap === null) throw new PicketError(`cannot list interfaces: ${a.error ?? ''}; and ${c.error ?? ''}`);
  return c.cap.Cap.deviceList().map((d) => ({
    name: d.name,
    description: d.description ?? '',
    addresses: (d.addresses ?? []).map((x) => x.addr ?? '').filter((x) => x !== ''),
    ...sysfsFlags(d.name),
    loopback: d.flags === 'PCAP_IF_LOOPBACK',
  }));
}
