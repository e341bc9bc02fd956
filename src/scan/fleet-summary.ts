/**
 * A fleet summary: what one sensor has seen of one source's scan so far, compact and versioned, for picket
 * correlate to merge across sensors (native-notes/fleet.md). Summaries are cumulative: a sensor's newer summary of
 * a source replaces its older one. Failed targets travel as an exact list while small, else as HLL registers that
 * merge by register-wise maximum (the same hashing as spread.ts, so a sketch and a list merge consistently).
 */
import { createSketch, sketchAdd, sketchCount, sketchFromRegisters, sketchMergeInto, type Sketch } from '../util/sketch';
import { addrText, portText, targetHost, targetPort } from './addr-key';
import type { Spread } from './spread';
import type { ScanCounts } from './thresholds';
import { spanSeconds } from '../core/time';

/**
 * Version 1 throughout: the fields added since the first cut (ping, ping_sketch, probe_times) are optional, so a
 * correlate that predates them reads these summaries (it ignores them), and this one reads summaries without them
 * (it falls back to the counts, see mergeSummaries).
 */
export const SUMMARY_VERSION = 1;
/** Past this many failed targets (or ICMP-probed hosts) a summary carries sketches rather than the list. */
export const SUMMARY_EXACT_MAX = 256;
/**
 * A summary carries the packet time of each probe while the source has made at most this many: enough to tell a
 * paced scan across sensors (scan.slow counts probes that came quick after the one before, whichever sensor saw
 * it), and cheap, since a source past it that paces its probes has crossed scan.slow on its own sensor already.
 */
export const PROBE_TIMES_MAX = 128;

export interface FleetSummary {
  v: 1;
  kind: 'scan_summary';
  sensor: string;
  source: string;
  /** This sensor's summaries of this source, 1, 2, ...: with the sensor and source, the de-duplication id. */
  seq: number;
  /** Packet times [sec, nsec] of the source's first and last probe. */
  first: [number, number];
  last: [number, number];
  attempts: number;
  quick_probes: number;
  outcomes: { answered: number; half_open: number; rejected: number; unreachable: number; unanswered: number };
  /** "host|proto/port" of every failed target, while at most SUMMARY_EXACT_MAX; else sketches (base64 registers). */
  targets?: string[];
  sketch?: { targets: string; hosts: string; ports: string };
  /** Hosts probed by ICMP host discovery while at most SUMMARY_EXACT_MAX, else ping_sketch (added in v1, optional). */
  ping?: string[];
  ping_sketch?: string;
  /** Microseconds after `first` of each probe, while the source made at most PROBE_TIMES_MAX (optional). */
  probe_times?: number[];
  /** The sensor's own counts (estimates once sketched). */
  n: { targets: number; hosts: number; ports: number; max_ports_one_host: number; ping_hosts: number; max_udp_ports_one_host: number };
  sample_hosts: string[];
  sample_ports: string[];
  /**
   * The tool the sensor named from the source's probes, if any, with how many probes matched of how many; `high`
   * (optional, added in v1): the sensor named it with high confidence, which raises its incident's severity.
   */
  tool: { name: string; matched: number; probes: number; high?: boolean } | null;
}

/** What the aggregator knows of a source that a summary carries (it owns the Source type). */
export interface SummaryInput {
  sensor: string;
  source: string;
  seq: number;
  first: [number, number];
  last: [number, number];
  outcomes: FleetSummary['outcomes'];
  counts: ScanCounts;
  /** Null: no failed target yet (a pure ICMP sweep). */
  failed: Spread | null;
  /** ICMP-probed hosts as text. */
  pingHosts: string[];
  /** As FleetSummary.probe_times, or null past PROBE_TIMES_MAX. */
  probeTimes: number[] | null;
  sampleHosts: string[];
  samplePorts: string[];
  tool: FleetSummary['tool'];
}

const b64 = (k: Sketch): string => Buffer.from(k.reg).toString('base64');

export function buildSummary(i: SummaryInput): FleetSummary {
  const f = i.failed;
  const s: FleetSummary = {
    v: SUMMARY_VERSION, kind: 'scan_summary', sensor: i.sensor, source: i.source, seq: i.seq, first: i.first, last: i.last,
    attempts: i.counts.attempts, quick_probes: i.counts.quickProbes, outcomes: i.outcomes,
    n: {
      targets: i.counts.targets, hosts: i.counts.hosts, ports: i.counts.ports, max_ports_one_host: i.counts.maxPortsOneHost,
      ping_hosts: i.counts.pingHosts, max_udp_ports_one_host: i.counts.maxUdpPortsOneHost,
    },
    sample_hosts: i.sampleHosts, sample_ports: i.samplePorts, tool: i.tool,
  };
  if (i.pingHosts.length > SUMMARY_EXACT_MAX) {
    const k = createSketch();
    for (const h of i.pingHosts) sketchAdd(k, h);
    s.ping_sketch = b64(k);
  } else if (i.pingHosts.length > 0) {
    s.ping = i.pingHosts;
  }
  if (i.probeTimes !== null) s.probe_times = i.probeTimes;
  if (f === null) {
    s.targets = [];
  } else if (f.targets !== null && f.targets.size <= SUMMARY_EXACT_MAX) {
    s.targets = [...f.targets].map((t) => `${addrText(targetHost(t))}|${portText(targetPort(t))}`);
  } else if (f.sketch !== null) {
    s.sketch = { targets: b64(f.sketch.targets), hosts: b64(f.sketch.hosts), ports: b64(f.sketch.ports) };
  } else {
    // Exact, but too many to list: sketched for the wire only.
    const k = { targets: createSketch(), hosts: createSketch(), ports: createSketch() };
    for (const t of f?.targets ?? []) {
      const h = addrText(targetHost(t));
      const p = portText(targetPort(t));
      sketchAdd(k.targets, `${h}|${p}`);
      sketchAdd(k.hosts, h);
      sketchAdd(k.ports, p);
    }
    s.sketch = { targets: b64(k.targets), hosts: b64(k.hosts), ports: b64(k.ports) };
  }
  return s;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isTime = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && isNum(v[0]) && isNum(v[1]);
const TOKEN = /^[A-Za-z0-9_-]{1,64}$/;

/** A summary read from the wire, checked field by field; null (counted by the caller) when it is not one. */
export function parseSummary(data: Uint8Array): FleetSummary | null {
  let o: Partial<FleetSummary>;
  try {
    o = JSON.parse(Buffer.from(data).toString('utf8')) as Partial<FleetSummary>;
  } catch {
    return null;
  }
  if (o === null || typeof o !== 'object' || o.v !== SUMMARY_VERSION || o.kind !== 'scan_summary') return null;
  if (typeof o.sensor !== 'string' || !TOKEN.test(o.sensor) || typeof o.source !== 'string' || o.source === '' || !isNum(o.seq)) return null;
  if (!isTime(o.first) || !isTime(o.last) || !isNum(o.attempts) || o.n === undefined || typeof o.n !== 'object' || o.outcomes === undefined) return null;
  if (o.targets !== undefined && (!Array.isArray(o.targets) || !o.targets.every((t) => typeof t === 'string' && t.includes('|')))) return null;
  if (o.targets === undefined && (o.sketch === undefined || typeof o.sketch.targets !== 'string')) return null;
  if (o.ping !== undefined && (!Array.isArray(o.ping) || !o.ping.every((h) => typeof h === 'string'))) return null;
  if (o.ping_sketch !== undefined && typeof o.ping_sketch !== 'string') return null;
  if (o.probe_times !== undefined && (!Array.isArray(o.probe_times) || !o.probe_times.every(isNum))) return null;
  return o as FleetSummary;
}

/** The merged view of one source across sensors: counts to judge, and each sensor's share. */
export interface MergedSource {
  counts: ScanCounts;
  exact: boolean;
  first: [number, number];
  last: [number, number];
  shares: Array<{ sensor: string; hosts: number; targets: number; attempts: number }>;
  sampleHosts: string[];
  samplePorts: string[];
  outcomes: FleetSummary['outcomes'];
  tool: string | null;
  /** A tool some sensor named with high confidence (the severity's reason), else null. */
  toolNamed: string | null;
}

const earlier = (a: [number, number], b: [number, number]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

const micros = (t: [number, number]): number => t[0] * 1e6 + Math.round(t[1] / 1e3);

/**
 * Probes that came less than slowMinInterval seconds after the one before, whichever sensor saw either: counted
 * exactly as the sensor counts them from the merged probe times when every summary carries its times; else the
 * sum of the sensors' own counts (a lower bound: a probe quick after another sensor's is not counted).
 */
function mergedQuickProbes(list: readonly FleetSummary[], slowMinInterval: number): number {
  if (list.length === 1 || !list.every((s) => s.probe_times !== undefined)) {
    return list.reduce((n, s) => n + (isNum(s.quick_probes) ? s.quick_probes : 0), 0);
  }
  const times: number[] = [];
  for (const s of list) {
    const base = micros(s.first);
    for (const t of s.probe_times!) times.push(base + t);
  }
  times.sort((a, b) => a - b);
  let quick = 0;
  for (let i = 1; i < times.length; i++) if (times[i] - times[i - 1] < slowMinInterval * 1e6) quick++;
  return quick;
}

/**
 * Hosts probed by ICMP across sensors: the union of the lists, merged by sketch when a sensor sent one; the sum of
 * the counts when a sensor sent neither (a summary from before the lists: an upper bound).
 */
function mergedPingHosts(list: readonly FleetSummary[]): number {
  const listed = (s: FleetSummary): boolean => s.ping !== undefined || s.ping_sketch !== undefined || !isNum(s.n.ping_hosts) || s.n.ping_hosts === 0;
  if (!list.every(listed)) return list.reduce((n, s) => n + (isNum(s.n.ping_hosts) ? s.n.ping_hosts : 0), 0);
  if (list.every((s) => s.ping_sketch === undefined)) {
    const all = new Set<string>();
    for (const s of list) for (const h of s.ping ?? []) all.add(h);
    return all.size;
  }
  const k = createSketch();
  for (const s of list) {
    if (s.ping_sketch !== undefined) sketchMergeInto(k, Buffer.from(s.ping_sketch, 'base64'));
    for (const h of s.ping ?? []) sketchAdd(k, h);
  }
  return sketchCount(k);
}

/**
 * Each sensor's latest summary of a source, merged: exact unions while every sensor listed, else sketches.
 * slowMinInterval (the policy's, seconds): what makes a probe quick (mergedQuickProbes).
 */
export function mergeSummaries(list: readonly FleetSummary[], slowMinInterval: number): MergedSource {
  const outcomes = { answered: 0, half_open: 0, rejected: 0, unreachable: 0, unanswered: 0 };
  let first = list[0].first;
  let last = list[0].last;
  let attempts = 0;
  let udp = 0;
  const samples = new Set<string>();
  const ports = new Set<string>();
  let tool: string | null = null;
  let toolNamed: string | null = null;
  for (const s of list) {
    for (const k of Object.keys(outcomes) as Array<keyof typeof outcomes>) outcomes[k] += isNum(s.outcomes[k]) ? s.outcomes[k] : 0;
    if (earlier(s.first, first)) first = s.first;
    if (earlier(last, s.last)) last = s.last;
    attempts += s.attempts;
    udp = Math.max(udp, isNum(s.n.max_udp_ports_one_host) ? s.n.max_udp_ports_one_host : 0);
    for (const h of s.sample_hosts ?? []) if (samples.size < 10) samples.add(h);
    for (const p of s.sample_ports ?? []) if (ports.size < 10) ports.add(p);
    tool ??= s.tool?.name ?? null;
    if (s.tool?.high === true) toolNamed ??= s.tool.name;
  }
  const exact = list.every((s) => s.targets !== undefined);
  let targets: number;
  let hosts: number;
  let nPorts: number;
  let maxPortsOneHost = 0;
  if (exact) {
    const all = new Set<string>();
    for (const s of list) for (const t of s.targets ?? []) all.add(t);
    const perHost = new Map<string, number>();
    const portSet = new Set<string>();
    for (const t of all) {
      const bar = t.lastIndexOf('|');
      const h = t.slice(0, bar);
      portSet.add(t.slice(bar + 1));
      const n = (perHost.get(h) ?? 0) + 1;
      perHost.set(h, n);
      if (n > maxPortsOneHost) maxPortsOneHost = n;
    }
    targets = all.size;
    hosts = perHost.size;
    nPorts = portSet.size;
  } else {
    const k = { targets: createSketch(), hosts: createSketch(), ports: createSketch() };
    for (const s of list) {
      if (s.sketch !== undefined) {
        sketchMergeInto(k.targets, Buffer.from(s.sketch.targets, 'base64'));
        sketchMergeInto(k.hosts, Buffer.from(s.sketch.hosts, 'base64'));
        sketchMergeInto(k.ports, Buffer.from(s.sketch.ports, 'base64'));
      }
      for (const t of s.targets ?? []) {
        const bar = t.lastIndexOf('|');
        sketchAdd(k.targets, t);
        sketchAdd(k.hosts, t.slice(0, bar));
        sketchAdd(k.ports, t.slice(bar + 1));
      }
      // A host's ports are not known across sensors once sketched: the largest one sensor saw is a lower bound.
      maxPortsOneHost = Math.max(maxPortsOneHost, isNum(s.n.max_ports_one_host) ? s.n.max_ports_one_host : 0);
    }
    targets = sketchCount(sketchFromRegisters(k.targets.reg));
    hosts = sketchCount(k.hosts);
    nPorts = sketchCount(k.ports);
  }
  return {
    counts: {
      targets, hosts, ports: nPorts, maxPortsOneHost, pingHosts: mergedPingHosts(list), maxUdpPortsOneHost: udp, attempts, quickProbes: mergedQuickProbes(list, slowMinInterval),
      durationSeconds: spanSeconds(first[0], first[1], last[0], last[1]),
    },
    exact, first, last, outcomes, tool, toolNamed,
    shares: list.map((s) => ({ sensor: s.sensor, hosts: s.n.hosts, targets: s.n.targets, attempts: s.attempts })).sort((a, b) => (a.sensor < b.sensor ? -1 : 1)),
    sampleHosts: [...samples], samplePorts: [...ports],
  };
}

/** The counts one sensor's summary amounts to on its own (to tell a fleet-only crossing). */
export function summaryCounts(s: FleetSummary): ScanCounts {
  return {
    targets: s.n.targets, hosts: s.n.hosts, ports: s.n.ports, maxPortsOneHost: s.n.max_ports_one_host, pingHosts: s.n.ping_hosts,
    maxUdpPortsOneHost: s.n.max_udp_ports_one_host, attempts: s.attempts, quickProbes: s.quick_probes,
    durationSeconds: spanSeconds(s.first[0], s.first[1], s.last[0], s.last[1]),
  };
}
