import type { TunnelInfo } from '../core/observation';
import type { ResearchScanner } from '../config/rules';
import type { Severity } from '../intel/domains';
import type { AddrKey } from './addr-key';
import type { Spread } from './spread';
import type { ToolTally, ToolVerdict } from './fingerprint';
import type { ScanKind } from './scan-alert';
import { copied, SourceIndex } from './source-index';
import { spanSeconds } from '../core/time';

/** The kinds judged per source; scan.distributed is judged per targeted host (distributed.ts). */
export type SourceKind = Exclude<ScanKind, 'distributed'>;

/**
 * One scanner's episode, from the first alert to its summary: every document of it carries the id. Between the
 * first and the last, a document goes out only when what an analyst acts on changes: a new kind, the named tool,
 * the severity.
 */
export interface Incident {
  id: string;
  /** Documents sent so far. */
  documents: number;
  kinds: SourceKind[];
  tool: string | null;
  severity: Severity;
}

/**
 * What few sources need: the sets of a source that failed against several targets, its incident once it is
 * recognised as a scanner, and the rest below. Made at the first need; a flood's one-shot sources never need one.
 * A class, so that every detail has one shape from the start.
 */
export class SourceDetail {
  /** Its address as text, made when first needed (most sources never alert). */
  ip: string | null = null;
  /** Failed (host, port) targets, their hosts and ports, and the most ports of one host (vertical scans). */
  failed: Spread | null = null;
  pingHosts: Set<AddrKey> | null = null;
  /** Targets (targetKey) that answered. */
  learned: Set<AddrKey> | null = null;
  /** Every sample host once there are two (until then the table's firstHost columns). */
  sampleHosts: AddrKey[] | null = null;
  /** Every sample port (portKey) once there are two (until then the table's firstPort column). */
  samplePorts: number[] | null = null;
  /** The incident, once the source is recognised as a scanner; null before. */
  incident: Incident | null = null;
  /** In a research-scanner range (rules/research-scanners.yaml): the entry, else null. */
  research: ResearchScanner | null = null;
  /** The first connection with data it made to a service after its scan was recognised (scan, then access). */
  access: { ip: string; port: number } | null = null;
  /** Targets that had looked an intel service up before it failed against them (one story: looked up, then scanned). */
  lookedUp: Array<{ ip: string; indicator: string }> | null = null;
  /**
   * UDP ports of each host that responded to it (data or ICMP port unreachable), and how many of those were
   * closed: a UDP scan learns from both, and a few ports are a scan where a TCP scan needs many (capped).
   */
  udpSeen: Map<AddrKey, { ports: Set<number>; closed: number }> | null = null;
  /**
   * The first failed target (targetKey), fed to the distributed detector with the second. NaN before: an IPv4
   * target key is past 2^31 (a double) and V8 types a field by its first value; made with a small integer, the field
   * was retyped at each source's first failure and V8 migrated every source made since to a new hidden class, one
   * at a time (bench/RESULTS.md, "A field's first value").
   */
  firstFailed: AddrKey = Number.NaN;
  maxUdpPortsOneHost = 0;
  /** The verdict that first named it with high confidence: kept when later probes (nmap -sV's own connections through the OS stack) dilute the tally. */
  named: ToolVerdict | null = null;
  /** The tunnel its first probe came in (picket.tunnel), if any. */
  tunnel: TunnelInfo | undefined = undefined;
  /**
   * Only with a summary hook: microseconds after the first probe of each probe, while at most PROBE_TIMES_MAX
   * (fleet-summary.ts: correlate counts quick probes across sensors from them); null without a hook or past it.
   */
  probeTimes: number[] | null = null;
}

/**
 * What the scan aggregator knows of each source since its scan began, as columns indexed by the source's slot
 * (source-index.ts). Under a flood of new sources each lived ~20 k probes as an object of 35 fields (~470 bytes),
 * was promoted and died old: 930 MB of the 1.1 GB a 2 M-source SYN flood allocated (bench/RESULTS.md, "A scan
 * source as columns"). Counts and times are numbers in typed columns; sets, the incident and the rest are in a
 * SourceDetail made when first needed, and a fingerprint tally in its own column (a spoofed flood tallies every
 * source and needs nothing else).
 */
export class SourceTable {
  readonly index: SourceIndex;
  /** Index into DIRECTIONS (scan-record.ts). */
  direction = new Uint8Array(16);
  firstSec = new Float64Array(16);
  firstNsec = new Int32Array(16);
  lastSec = new Float64Array(16);
  lastNsec = new Int32Array(16);
  attempts = new Float64Array(16);
  /** Probes that came less than slow_min_interval after the source's previous one (a paced scan has few). */
  quickProbes = new Float64Array(16);
  answered = new Float64Array(16);
  /** Answered by a SYN-ACK, then reset by the prober (or left) before any payload: counted as failed. */
  halfOpen = new Float64Array(16);
  rejected = new Float64Array(16);
  unreachable = new Float64Array(16);
  unanswered = new Float64Array(16);
  /** Probes by protocol, indexed as SCAN_PROTOS. */
  byProto = [new Float64Array(16), new Float64Array(16), new Float64Array(16)];
  /** The first probe's target (NaN when IPv6: then its text is in firstHostText), while it is the only sample host. */
  firstHost = new Float64Array(16);
  firstHostText: Array<string | null> = new Array<string | null>(16).fill(null);
  /** The first probe's portKey (addr-key.ts), while it is the only sample port. */
  firstPort = new Int32Array(16);
  /** Fingerprint matches of its probes (which tool). */
  tally: Array<ToolTally | null> = new Array<ToolTally | null>(16).fill(null);
  detail: Array<SourceDetail | null> = new Array<SourceDetail | null>(16).fill(null);

  constructor() {
    this.index = new SourceIndex((n) => this.grow(n));
  }

  /** A new source's slot for the address at addr[off] (16 bytes, IPv4 in the first 4): counts at zero, no detail or tally. */
  add(ipVersion: number, addr: Uint8Array, off: number): number {
    const s = this.index.addBytes(ipVersion, addr, off);
    this.attempts[s] = this.quickProbes[s] = 0;
    this.answered[s] = this.halfOpen[s] = this.rejected[s] = this.unreachable[s] = this.unanswered[s] = 0;
    this.byProto[0][s] = this.byProto[1][s] = this.byProto[2][s] = 0;
    this.tally[s] = null;
    this.detail[s] = null;
    return s;
  }

  /** Frees the slot (its detail, tally and text are let go). */
  delete(s: number): void {
    this.tally[s] = null;
    this.detail[s] = null;
    this.firstHostText[s] = null;
    this.index.delete(s);
  }

  detailOf(s: number): SourceDetail {
    return (this.detail[s] ??= new SourceDetail());
  }

  /** Seconds from its first probe to its last. */
  seconds(s: number): number {
    return spanSeconds(this.firstSec[s], this.firstNsec[s], this.lastSec[s], this.lastNsec[s]);
  }

  /** The first probe's target (addr-key.ts) and portKey: the samples until there are two. */
  setFirstTarget(s: number, host: AddrKey, port: number): void {
    if (typeof host === 'number') {
      this.firstHost[s] = host;
      this.firstHostText[s] = null;
    } else {
      this.firstHost[s] = Number.NaN;
      this.firstHostText[s] = host;
    }
    this.firstPort[s] = port;
  }

  /** The first probe's target (addr-key.ts). */
  firstHostOf(s: number): AddrKey {
    return this.firstHostText[s] ?? this.firstHost[s];
  }

  sampleHosts(s: number): AddrKey[] {
    return this.detail[s]?.sampleHosts ?? [this.firstHostOf(s)];
  }

  samplePorts(s: number): number[] {
    return this.detail[s]?.samplePorts ?? [this.firstPort[s]];
  }

  /** The probe's target among the samples (at most max, distinct). */
  sampleHost(s: number, host: AddrKey, max: number): void {
    const hosts = withSample(this.detail[s]?.sampleHosts ?? null, this.firstHostOf(s), host, max);
    if (hosts !== null) this.detailOf(s).sampleHosts = hosts;
  }

  /** The probe's portKey among the samples (at most max, distinct). */
  samplePort(s: number, port: number, max: number): void {
    const ports = withSample(this.detail[s]?.samplePorts ?? null, this.firstPort[s], port, max);
    if (ports !== null) this.detailOf(s).samplePorts = ports;
  }

  private grow(n: number): void {
    this.direction = copied(this.direction, new Uint8Array(n));
    this.firstSec = copied(this.firstSec, new Float64Array(n));
    this.firstNsec = copied(this.firstNsec, new Int32Array(n));
    this.lastSec = copied(this.lastSec, new Float64Array(n));
    this.lastNsec = copied(this.lastNsec, new Int32Array(n));
    this.attempts = copied(this.attempts, new Float64Array(n));
    this.quickProbes = copied(this.quickProbes, new Float64Array(n));
    this.answered = copied(this.answered, new Float64Array(n));
    this.halfOpen = copied(this.halfOpen, new Float64Array(n));
    this.rejected = copied(this.rejected, new Float64Array(n));
    this.unreachable = copied(this.unreachable, new Float64Array(n));
    this.unanswered = copied(this.unanswered, new Float64Array(n));
    this.byProto = this.byProto.map((c) => copied(c, new Float64Array(n)));
    this.firstHost = copied(this.firstHost, new Float64Array(n));
    this.firstPort = copied(this.firstPort, new Int32Array(n));
    while (this.firstHostText.length < n) this.firstHostText.push(null);
    while (this.tally.length < n) this.tally.push(null);
    while (this.detail.length < n) this.detail.push(null);
  }
}

/** Samples after adding value (at most max, distinct): a list once there are two, else null (the first is in its column). */
function withSample<K>(list: K[] | null, first: K, value: K, max: number): K[] | null {
  if (list === null) return value === first ? null : [first, value];
  if (list.length < max && !list.includes(value)) list.push(value);
  return list;
}
