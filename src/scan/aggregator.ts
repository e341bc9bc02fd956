import type { ScanPolicy, ScanThresholds } from '../config/rules';
import {
  DIRECTIONS, OUTCOME_ANSWERED, OUTCOME_REJECTED, PROTO_ICMP, PROTO_TCP, PROTO_UDP, SCAN_ABORTED, SCAN_DATA, SCAN_ESTABLISHED, SCAN_PROBE, SCAN_PROTOS, SCAN_REPLY,
  type ScanRecord,
} from '../core/scan-record';
import { addrKey, addrText, portKey, portText, targetHost, targetKey, targetPort, type AddrKey } from './addr-key';
import { tunnelFields, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { TunnelInfo } from '../core/observation';
import { TUNNEL_KIND_NAMES } from '../decode/tunnel';
import { KIND_PRIORITY, scanAlertEnvelope, SCAN_RULES } from './scan-alert';
import type { Severity } from '../intel/domains';
import { researchOfBytes, scanSeverity, type SeverityFacts } from './severity';
import { createSpread, spreadAdd, spreadRelease, type SpreadBudget } from './spread';
import { createDistributedDetector } from './distributed';
import { scanMeasure, type ScanCounts } from './thresholds';
import { buildSummary, PROBE_TIMES_MAX, type FleetSummary } from './fleet-summary';
import { PendingAttempts } from './pending';
import { SourceTable, type Incident, type SourceKind } from './source-table';
import { createToolTally, tallyProbe, toolVerdict, type Fingerprint, type ToolVerdict } from './fingerprint';
import { packetSeconds } from '../core/time';

/** picket.tunnel of a source: the tunnel its first probe came in. */
function tunnelOfRecord(r: ScanRecord): TunnelInfo | undefined {
  if (r.tunnelDepth === 0) return undefined;
  const v = r.tunnelOuterVersion;
  const text = (off: number): string => addrText(addrKey(v, r.tunnelAddr, off));
  return {
    kind: TUNNEL_KIND_NAMES[r.tunnelKind], id: r.tunnelId, depth: r.tunnelDepth,
    ...(v !== 0 ? { outerSrcIp: text(0), outerDstIp: text(16) } : {}),
  };
}

/** The portKey of a probe's target: ICMP probes as their type. */
function probedPort(r: ScanRecord): number {
  return portKey(r.proto, r.proto === PROTO_ICMP ? r.icmpType : r.dstPort);
}

function emptyCounts(): ScanCounts {
  return { targets: 0, hosts: 0, ports: 0, maxPortsOneHost: 0, pingHosts: 0, maxUdpPortsOneHost: 0, attempts: 0, quickProbes: 0, durationSeconds: 0 };
}

/** ECS threat.software of an identified tool. */
function softwareFields(v: ToolVerdict): EcsDoc {
  return { name: v.fingerprint.tool, type: 'Tool' };
}

/** picket.fingerprint: the tool, how sure, and from what. */
function fingerprintFields(v: ToolVerdict): EcsDoc {
  const f = v.fingerprint;
  return {
    tool: f.tool, versions: f.versions, confidence: v.confidence, traits: f.traits, source_relations: v.relations,
    probes_matched: v.matched, probes: v.probes, rule: `${f.file}:${f.line}`,
  };
}

function primaryKind(inc: Incident): SourceKind {
  for (const k of KIND_PRIORITY) if (k !== 'distributed' && inc.kinds.includes(k)) return k;
  return 'tool';
}
/** Below this many failed targets (and no alert) a source is among the first to go when max_sources is reached. */
const MINOR_TARGETS = 3;
const MAX_UDP_HOSTS = 64;
const MAX_UDP_PORTS = 1024;
const SAMPLES = 10;
const MAX_LEARNED = 256;
const SWEEP_EVERY_SEC = 30;
/**
 * Where a fleet sensor's scan summaries go (fleet-summary.ts): every intervalSec of packet time for each source that
 * changed and has a failed target, and when such a source closes. Absent (no --nats): the aggregator does no work
 * for it at all.
 */
export interface SummaryHook {
  sensor: string;
  intervalSec: number;
  /** The least failed targets (or ICMP-probed hosts) a source has before it is summarised (policy fleet.summary_min_targets). */
  minTargets: number;
  emit(s: FleetSummary): void;
}

export interface ScanAggregator {
  /** A probe or reply (the record is reused by its sender: nothing of it is kept). */
  observe(r: ScanRecord): void;
  /** Time passes without observations (live capture on a quiet link): expire what is due by `now`. */
  tick(now: number): void;
  finish(): void;
  /** Sources summarised early because max_sources was reached. */
  evictedSources(): number;
  /** New policy and fingerprints (SIGHUP); scan state is kept, fingerprint tallies start over (positions change). */
  reload(policy: ScanPolicy, fingerprints: readonly Fingerprint[]): void;
}

/**
 * The scan detector: connection attempts and their replies, from all workers in input order, kept per source
 * (bounded), judged against the policy's thresholds. One incident per scanner: a first alert when it is
 * recognised, an update when its kinds, tool or severity change, a summary (picket.final) when it goes quiet.
 */
/** Clients that looked an intel service up (intel alerts so far): address -> the indicator they matched. */
export interface IntelClients {
  readonly size: number;
  get(ip: string): string | undefined;
}

export function createScanAggregator(
  policy: ScanPolicy, fingerprints: readonly Fingerprint[], observer: ObserverInfo, emit: (doc: EcsDoc) => void, intelClients?: IntelClients, summaries: SummaryHook | null = null,
): ScanAggregator {
  let th: ScanThresholds = policy.presets[policy.sensitivity];
  /** Sources by slot (source-table.ts): below, a source is its slot number. */
  const t = new SourceTable();
  /** Attempts waiting for a reply (pending.ts): each is a slot number while it waits. */
  let pending = new PendingAttempts(policy.maxPending);
  let lastSweep = -Infinity;
  let lastPendingSweep = -Infinity;
  let evicted = 0;
  /** Sources changed since their last summary (only with a summary hook), and each source's summaries so far. */
  const changed = summaries === null ? null : new Set<number>();
  const summarySeq = new Map<AddrKey, number>();
  let lastSummaries = -Infinity;
  const budget: SpreadBudget = { used: 0, limit: policy.maxExactEntries };
  const distributed = createDistributedDetector(policy, th, budget, observer, emit, (key) => {
    const s = t.index.slotOf(key);
    const v = s < 0 ? null : toolVerdict(fingerprints, t.tally[s], t.attempts[s]) ?? t.detail[s]?.named ?? null;
    return v === null ? null : { software: softwareFields(v), fingerprint: fingerprintFields(v) };
  });

  function ipOf(s: number): string {
    const d = t.detailOf(s);
    return (d.ip ??= addrText(t.index.keyOf(s)));
  }

  /** What a source's scan is judged on (thresholds.ts), written into c (reused: judging allocates nothing). */
  function countsInto(s: number, c: ScanCounts): ScanCounts {
    const d = t.detail[s];
    const f = d?.failed ?? null;
    c.targets = f?.nTargets ?? 0;
    c.hosts = f?.nHosts ?? 0;
    c.ports = f?.nPorts ?? 0;
    c.maxPortsOneHost = f?.maxPortsOneHost ?? 0;
    c.pingHosts = d?.pingHosts?.size ?? 0;
    c.maxUdpPortsOneHost = d?.maxUdpPortsOneHost ?? 0;
    c.attempts = t.attempts[s];
    c.quickProbes = t.quickProbes[s];
    c.durationSeconds = t.seconds(s);
    return c;
  }

  function source(r: ScanRecord): number {
    // Sources are evicted oldest-created first (re-inserting on every probe to keep an exact recency order cost
    // more than it bought: eviction only happens under floods of new sources).
    let s = t.index.slotOfBytes(r.ipVersion, r.addr, 0);
    if (s >= 0) return s;
    if (t.index.size >= policy.maxSources) evictOldest();
    s = t.add(r.ipVersion, r.addr, 0);
    t.direction[s] = r.direction;
    t.firstSec[s] = t.lastSec[s] = r.tsSec;
    t.firstNsec[s] = t.lastNsec[s] = r.tsNsec;
    t.setFirstTarget(s, addrKey(r.ipVersion, r.addr, 16), probedPort(r));
    const research = researchOfBytes(policy, r.ipVersion, r.addr, 0);
    if (research !== null) t.detailOf(s).research = research;
    const tunnel = tunnelOfRecord(r);
    if (tunnel !== undefined) t.detailOf(s).tunnel = tunnel;
    if (changed !== null) t.detailOf(s).probeTimes = [];
    return s;
  }

  function onProbe(r: ScanRecord): void {
    if (!policy.directions.includes(DIRECTIONS[r.direction])) return;
    const now = packetSeconds(r.tsSec, r.tsNsec);
    const s = source(r);
    const attempts = t.attempts[s];
    if (attempts > 0 && now - packetSeconds(t.lastSec[s], t.lastNsec[s]) < th.slowMinInterval) t.quickProbes[s]++;
    t.attempts[s] = attempts + 1;
    if (changed !== null) {
      const d = t.detailOf(s);
      if (d.probeTimes !== null) {
        if (attempts + 1 > PROBE_TIMES_MAX) d.probeTimes = null;
        else d.probeTimes.push(Math.round((r.tsSec - t.firstSec[s]) * 1e6 + (r.tsNsec - t.firstNsec[s]) / 1e3));
      }
      changed.add(s);
    }
    t.lastSec[s] = r.tsSec;
    t.lastNsec[s] = r.tsNsec;
    t.byProto[r.proto][s]++;
    // The target's key only where it is used: an IPv4 key past 2^31 is a heap number, made anew for each probe.
    if (attempts > 0) {
      const d = t.detail[s];
      if ((d?.sampleHosts?.length ?? 1) < SAMPLES) t.sampleHost(s, addrKey(r.ipVersion, r.addr, 16), SAMPLES);
      if ((d?.samplePorts?.length ?? 1) < SAMPLES) t.samplePort(s, probedPort(r), SAMPLES);
    }
    identify(s, r);
    if (r.proto === PROTO_ICMP) {
      const d = t.detailOf(s);
      d.pingHosts ??= new Set();
      if (d.pingHosts.size < policy.maxTargetsPerSource) d.pingHosts.add(addrKey(r.ipVersion, r.addr, 16));
      evaluate(s);
    }
    const known = pending.slotOf(r.attemptKey);
    if (known >= 0) {
      if (pending.same(known, r)) return; // a retransmitted probe
      // Another attempt under the same hash (rare): the older one is given up.
      giveUp(r.attemptKey, known);
    }
    if (pending.size >= policy.maxPending) expireOldestPending();
    pending.add(r.attemptKey, r, now);
  }

  function onReply(r: ScanRecord): void {
    const p = pending.slotOf(r.attemptKey);
    if (p < 0 || pending.answered[p] === 1 || !pending.same(p, r)) return;
    pending.remove(r.attemptKey);
    const s = sourceOf(p);
    if (s < 0) {
      pending.release(p);
      return;
    }
    const proto = pending.proto[p];
    if (proto === PROTO_UDP) udpResponded(s, p, r.outcome !== OUTCOME_ANSWERED);
    if (r.outcome === OUTCOME_ANSWERED) {
      t.answered[s]++;
      if (proto !== PROTO_ICMP) {
        const d = t.detailOf(s);
        d.learned ??= new Set();
        if (d.learned.size < MAX_LEARNED) d.learned.add(targetKey(pending.targetOf(p), portKey(proto, pending.port[p])));
      }
      if (proto === PROTO_TCP) {
        // Kept (last in time order) until the prober shows whether it makes a connection of it.
        pending.answered[p] = 1;
        pending.ts[p] = packetSeconds(r.tsSec, r.tsNsec);
        pending.requeue(r.attemptKey, p);
        return;
      }
      pending.release(p);
      return;
    }
    failed(p, r.outcome === OUTCOME_REJECTED ? t.rejected : t.unreachable);
    pending.release(p);
  }

  /** The prober completed the handshake, sent data or closed: the answered attempt stays answered. */
  function onEstablished(r: ScanRecord): void {
    const p = pending.slotOf(r.attemptKey);
    if (p >= 0 && pending.answered[p] === 1 && pending.same(p, r)) settle(r.attemptKey, p);
  }

  /** The prober reset the answered attempt before any payload: half-open, a failed attempt after all. */
  function onAborted(r: ScanRecord): void {
    const p = pending.slotOf(r.attemptKey);
    if (p >= 0 && pending.answered[p] === 1 && pending.same(p, r)) {
      settle(r.attemptKey, p);
      halfOpen(p);
      return;
    }
    if (p >= 0) return;
    // Settled already (the handshake was completed, then reset: a connect scan).
    pending.fill(pending.scratch, r);
    halfOpen(pending.scratch);
  }

  /**
   * The prober's source of the attempt in pending slot p, or -1: looked up when the attempt settles, so that a closed
   * source is not kept alive by it.
   */
  function sourceOf(p: number): number {
    return t.index.slotOfBytes(pending.ipVersion[p], pending.addr, p * 32);
  }

  /** p: a pending slot (pending.ts), read before the next attempt is added. */
  function halfOpen(p: number): void {
    const s = sourceOf(p);
    if (s < 0 || t.answered[s] === 0) return;
    t.answered[s]--;
    failed(p, t.halfOpen);
  }

  /**
   * An attempt given up for room or end of input: unanswered, unless it was answered (then it stays so: whether
   * the prober would have reset it is not known).
   */
  function giveUp(key: number, p: number): void {
    settle(key, p);
    if (pending.answered[p] === 0) failed(p, t.unanswered);
  }

  /** Shown little so far (no alert, under MINOR_TARGETS failed targets or pinged hosts): among the first evicted. */
  function minor(s: number): boolean {
    const d = t.detail[s];
    return d === null || (d.incident === null && (d.failed?.nTargets ?? 0) < MINOR_TARGETS && (d.pingHosts?.size ?? 0) < MINOR_TARGETS);
  }

  /** The sources evictOldest() chose (reused: a flood of new sources evicts every few thousand). */
  let victims = new Int32Array(0);

  /**
   * At the bounds, a tenth goes at once: a Map keeps deleted slots until it rehashes, so taking the oldest one
   * entry at a time would walk an ever longer run of them on every new source or attempt of a flood. Sources
   * that have shown little go first, so that a flood of one-shot sources cannot push out a slow scan that has
   * been building up for hours.
   */
  function evictOldest(): void {
    const n = Math.max(1, Math.floor(policy.maxSources / 10));
    if (victims.length < n) victims = new Int32Array(n);
    let count = 0;
    t.index.forEachInOrder((s) => {
      if (minor(s)) victims[count++] = s;
      return count < n;
    });
    if (count < n) {
      const chosen = new Set(victims.subarray(0, count));
      t.index.forEachInOrder((s) => {
        if (!chosen.has(s)) victims[count++] = s;
        return count < n;
      });
    }
    for (let i = 0; i < count; i++) close(victims[i]);
    evicted += count;
  }

  function expireOldestPending(): void {
    const n = Math.max(1, Math.floor(policy.maxPending / 10));
    for (let i = 0; i < n; i++) {
      const k = pending.oldestKey();
      if (k < 0) break;
      giveUp(k, pending.slotOf(k));
    }
  }

  /** The attempt is done with (its failure, if any, is counted by the caller before the next probe reuses it). */
  function settle(key: number, p: number): void {
    pending.remove(key);
    pending.release(p);
  }

  /** outcome: the table's column of the failure's kind (rejected, unreachable, unanswered, halfOpen). */
  function failed(p: number, outcome: Float64Array): void {
    const s = sourceOf(p);
    if (s < 0) return; // its source was summarised already
    outcome[s]++;
    changed?.add(s);
    if (pending.proto[p] === PROTO_ICMP) return; // host discovery is judged on hosts probed, not on failures
    const port = portKey(pending.proto[p], pending.port[p]);
    const dst = pending.targetOf(p);
    const d = t.detailOf(s);
    const f = (d.failed ??= createSpread());
    const hostsBefore = f.nHosts;
    if (!spreadAdd(f, dst, port, policy.maxTargetsPerSource, budget)) return;
    if (intelClients !== undefined && intelClients.size > 0 && f.nHosts > hostsBefore && (d.lookedUp?.length ?? 0) < SAMPLES) {
      const ip = addrText(dst);
      const indicator = intelClients.get(ip);
      if (indicator !== undefined) (d.lookedUp ??= []).push({ ip, indicator });
    }
    // Per-host (distributed) state is fed only by sources with two or more failed targets: a flood of spoofed
    // one-shot SYNs then costs it nothing, while each source of a distributed scan probes several ports.
    if (f.nTargets === 1) {
      d.firstFailed = targetKey(dst, port);
    } else if (f.nTargets === 2 && f.targets !== null) {
      const first = d.firstFailed;
      const key = t.index.keyOf(s);
      const direction = DIRECTIONS[t.direction[s]];
      distributed.failed(key, targetHost(first), targetPort(first), direction, t.lastSec[s], t.lastNsec[s]);
      distributed.failed(key, dst, port, direction, t.lastSec[s], t.lastNsec[s]);
    } else if (f.nTargets > 2) {
      distributed.failed(t.index.keyOf(s), dst, port, DIRECTIONS[t.direction[s]], t.lastSec[s], t.lastNsec[s]);
    }
    evaluate(s);
  }

  /**
   * Which tool: the probe's fingerprint match goes into the source's tally; a source named with high confidence
   * raises scan.tool at once, before (or without) crossing any scan threshold.
   */
  function identify(s: number, r: ScanRecord): void {
    if (r.fingerprint < 0) return;
    const tally = (t.tally[s] ??= createToolTally());
    tallyProbe(tally, r.fingerprint, r.ttl, r.tcpSeq, r.attemptKey, r.proto === 0);
    if ((t.detail[s]?.named ?? null) !== null) return;
    const v = toolVerdict(fingerprints, tally, t.attempts[s]);
    if (v === null || v.confidence !== 'high') return;
    t.detailOf(s).named = v;
    evaluate(s);
  }

  /** A UDP port of a host responded: counted per host (bounded) for the UDP port-scan measure. */
  function udpResponded(s: number, p: number, closed: boolean): void {
    const d = t.detailOf(s);
    d.udpSeen ??= new Map();
    const dst = pending.targetOf(p);
    let h = d.udpSeen.get(dst);
    if (h === undefined) {
      if (d.udpSeen.size >= MAX_UDP_HOSTS) return;
      h = { ports: new Set(), closed: 0 };
      d.udpSeen.set(dst, h);
    }
    const port = pending.port[p];
    if (h.ports.has(port) || h.ports.size >= MAX_UDP_PORTS) return;
    h.ports.add(port);
    if (closed) h.closed++;
    if (h.closed >= th.udpClosedPorts && h.ports.size > d.maxUdpPortsOneHost) {
      d.maxUdpPortsOneHost = h.ports.size;
      evaluate(s);
    }
  }

  const judged = emptyCounts();

  const KINDS: ReadonlyArray<Exclude<SourceKind, 'tool'>> = ['ping', 'mixed', 'port', 'sweep', 'slow'];

  /**
   * The kinds the source's counts amount to now (a paced scan is scan.slow as well as its shape): bit i for KINDS[i].
   * A mask, not a list: judged on every failed attempt, and a new array each time was the aggregator's garbage.
   */
  function kindsNow(s: number): number {
    let kinds = 0;
    countsInto(s, judged);
    for (let i = 0; i < KINDS.length; i++) if (scanMeasure(judged, th, policy.slowMaxQuickShare, KINDS[i]) > 0) kinds |= 1 << i;
    return kinds;
  }

  /** A first document when the source is recognised, an update when its kinds, tool or severity change. */
  function evaluate(s: number): void {
    const kinds = kindsNow(s);
    const named = t.detail[s]?.named ?? null;
    if (kinds === 0 && named === null && (t.detail[s]?.incident ?? null) === null) return;
    const d = t.detailOf(s);
    const tool = named?.fingerprint.tool ?? null;
    let inc = d.incident;
    let trigger: SourceKind | null = null;
    if (inc === null) {
      inc = { id: `scan-${ipOf(s)}-${t.firstSec[s]}.${String(t.firstNsec[s]).padStart(9, '0')}`, documents: 0, kinds: [], tool: null, severity: 'medium' };
      d.incident = inc;
      if (kinds === 0) trigger = 'tool'; // else its first kind, below (none is in the new incident yet)
    }
    for (let i = 0; i < KINDS.length; i++) {
      if ((kinds & (1 << i)) === 0) continue;
      const k = KINDS[i];
      if (inc.kinds.includes(k)) continue;
      inc.kinds.push(k);
      trigger ??= k;
    }
    if (tool !== inc.tool) {
      inc.tool = tool;
      trigger ??= 'tool';
    }
    const severity = judgeSeverity(s, inc, null);
    if (severity !== inc.severity) {
      inc.severity = severity;
      trigger ??= primaryKind(inc);
    }
    if (trigger !== null) emit(alertDoc(s, trigger, inc.documents > 0, false));
  }

  /** The incident's severity (severity.ts, shared with picket correlate); facts is reused: judging allocates nothing. */
  const facts: SeverityFacts = { kinds: [], tool: null, hosts: 0, targets: 0, access: null, lookedUp: null, research: null };
  function judgeSeverity(s: number, inc: Incident, reasons: string[] | null): Severity {
    const d = t.detail[s];
    facts.kinds = inc.kinds;
    facts.tool = inc.tool;
    facts.hosts = Math.max(d?.failed?.nHosts ?? 0, d?.pingHosts?.size ?? 0);
    facts.targets = d?.failed?.nTargets ?? 0;
    facts.access = d?.access ?? null;
    facts.lookedUp = d?.lookedUp ?? null;
    facts.research = d?.research ?? null;
    return scanSeverity(facts, policy, reasons);
  }

  function reasonsOf(s: number, inc: Incident): string[] {
    const out: string[] = [];
    judgeSeverity(s, inc, out);
    return out;
  }

  /** A source that ends (idle, too old, evicted, end of input): one summary of its incident. */
  function close(s: number): void {
    const d = t.detail[s];
    if (d !== null && d.incident !== null) emit(alertDoc(s, primaryKind(d.incident), true, true));
    if (changed !== null && changed.delete(s)) summarise(s);
    if (summarySeq.size > 0) summarySeq.delete(t.index.keyOf(s));
    if (d !== null && d.failed !== null) spreadRelease(d.failed, budget);
    t.delete(s);
  }

  /** The scanner sent data on a connection after its scan was recognised: once, it raises the severity. */
  function onData(r: ScanRecord): void {
    const s = t.index.slotOfBytes(r.ipVersion, r.addr, 0);
    const d = s < 0 ? null : t.detail[s];
    if (d === null || d.incident === null || d.access !== null) return;
    d.access = { ip: addrText(addrKey(r.ipVersion, r.addr, 16)), port: r.dstPort };
    evaluate(s);
  }

  /**
   * One fleet summary of a source with at least minTargets failed targets or ICMP-probed hosts (cumulative: it
   * replaces the sensor's previous one).
   */
  function summarise(s: number): void {
    const d = t.detail[s];
    if (summaries === null || Math.max(d?.failed?.nTargets ?? 0, d?.pingHosts?.size ?? 0) < summaries.minTargets) return;
    const key = t.index.keyOf(s);
    const seq = (summarySeq.get(key) ?? 0) + 1;
    summarySeq.set(key, seq);
    const v = toolVerdict(fingerprints, t.tally[s], t.attempts[s]) ?? d?.named ?? null;
    summaries.emit(buildSummary({
      sensor: summaries.sensor, source: ipOf(s), seq, first: [t.firstSec[s], t.firstNsec[s]], last: [t.lastSec[s], t.lastNsec[s]],
      outcomes: { answered: t.answered[s], half_open: t.halfOpen[s], rejected: t.rejected[s], unreachable: t.unreachable[s], unanswered: t.unanswered[s] },
      counts: countsInto(s, emptyCounts()), failed: d?.failed ?? null, pingHosts: [...(d?.pingHosts ?? [])].map(addrText), probeTimes: d?.probeTimes ?? null,
      sampleHosts: t.sampleHosts(s).map(addrText), samplePorts: t.samplePorts(s).map(portText),
      tool: v === null ? null : { name: v.fingerprint.tool, matched: v.matched, probes: v.probes, ...(d?.named?.fingerprint.tool === v.fingerprint.tool ? { high: true } : {}) },
    }));
  }

  function sweep(now: number): void {
    if (changed !== null && summaries !== null && now - lastSummaries >= summaries.intervalSec) {
      lastSummaries = now;
      for (const s of changed) summarise(s);
      changed.clear();
    }
    // Attempts past the reply timeout are unanswered; the map is in arrival order, so stop at the first that is
    // not. Once a second of packet time is precise enough for a timeout of seconds, and keeps floods cheap.
    if (now - lastPendingSweep < 1) return;
    lastPendingSweep = now;
    for (let k = pending.oldestKey(); k >= 0; k = pending.oldestKey()) {
      const p = pending.slotOf(k);
      if (pending.ts[p] + policy.replyTimeout > now) break;
      settle(k, p);
      // An answered attempt whose prober stayed silent (its SYN-ACKs dropped by its own firewall) is half-open.
      if (pending.answered[p] === 1) halfOpen(p);
      else failed(p, t.unanswered);
    }
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    // close() deletes only the source at hand, which forEachInOrder allows: no copy of every source.
    t.index.forEachInOrder((s) => {
      const last = packetSeconds(t.lastSec[s], t.lastNsec[s]);
      const attempts = t.attempts[s];
      // A source with one attempt may be the start of a paced scan: it gets the slow allowance too (floods of
      // one-shot sources are bounded by max_sources, which evicts such sources first).
      const slowish = attempts < 2 || t.seconds(s) / (attempts - 1) >= th.slowMinInterval;
      const idle = now - last >= (slowish ? policy.slowIdleExpiry : policy.idleExpiry);
      if (idle || now - t.firstSec[s] >= policy.maxAge) close(s);
    });
    distributed.expire(now);
  }

  function alertDoc(s: number, kind: SourceKind, update: boolean, final: boolean): EcsDoc {
    const dur = t.seconds(s);
    const d = t.detailOf(s);
    const f = d.failed;
    const sampleKeys = t.sampleHosts(s);
    const singleKey = kind === 'port' ? f?.maxPortsHost : sampleKeys.length === 1 ? sampleKeys[0] : undefined;
    const single = singleKey === undefined ? undefined : addrText(singleKey);
    const tcp = t.byProto[PROTO_TCP][s];
    const udp = t.byProto[PROTO_UDP][s];
    const icmp = t.byProto[PROTO_ICMP][s];
    const transport = tcp >= udp && tcp >= icmp ? 'tcp' : udp >= icmp ? 'udp' : 'icmp';
    const verdict = toolVerdict(fingerprints, t.tally[s], t.attempts[s]) ?? d.named;
    const description = kind === 'tool' && verdict !== null
      ? `${ipOf(s)}: ${verdict.matched} of ${verdict.probes} probes carry the traits of ${verdict.fingerprint.tool} (${verdict.fingerprint.traits.join(', ')})`
      : `${ipOf(s)}: ${t.attempts[s]} attempts to ${(f?.nHosts ?? 0) || (d.pingHosts?.size ?? 0)} hosts and ${f?.nPorts ?? 0} ports in ${dur.toFixed(0)} s`;
    const inc = d.incident;
    const severity = inc?.severity ?? 'medium';
    if (inc !== null) inc.documents++;
    const envelope = scanAlertEnvelope(kind, [t.firstSec[s], t.firstNsec[s]], [t.lastSec[s], t.lastNsec[s]], description, observer, severity);
    const samples = sampleKeys.map(addrText);
    return {
      ...envelope,
      ...(verdict !== null ? { threat: { ...(envelope.threat as EcsDoc), software: softwareFields(verdict) } } : {}),
      source: { ip: ipOf(s) },
      ...(single !== undefined && single !== '' ? { destination: { ip: single } } : {}),
      network: { transport, direction: DIRECTIONS[t.direction[s]] },
      related: { ip: [...new Set([ipOf(s), ...samples, ...(d.lookedUp ?? []).map((l) => l.ip)])] },
      picket: {
        branch: SCAN_RULES[kind].branch, severity, update, final, ...tunnelFields(d.tunnel),
        ...(inc !== null ? { incident: { id: inc.id, document: inc.documents, kinds: [...inc.kinds, ...(inc.tool !== null ? ['tool' as const] : [])].map((k) => SCAN_RULES[k].id) } } : {}),
        severity_reasons: inc !== null ? reasonsOf(s, inc) : [],
        scan: {
          attempts: t.attempts[s],
          outcomes: { answered: t.answered[s], half_open: t.halfOpen[s], rejected: t.rejected[s], unreachable: t.unreachable[s], unanswered: t.unanswered[s] },
          hosts: f?.nHosts ?? 0,
          ports: f?.nPorts ?? 0,
          targets: f?.nTargets ?? 0,
          /** False once the counts come from a sketch (about 6.5 % error) rather than exact sets. */
          exact: f === null || f.sketch === null,
          ping_hosts: d.pingHosts?.size ?? 0,
          max_ports_one_host: f?.maxPortsOneHost ?? 0,
          udp_ports_responded_one_host: d.maxUdpPortsOneHost,
          probes_per_second: dur > 0 ? Number((t.attempts[s] / dur).toFixed(3)) : null,
          duration_seconds: Number(dur.toFixed(3)),
          sample_hosts: samples,
          sample_ports: t.samplePorts(s).map(portText),
          learned: [...(d.learned ?? [])].map((k) => `${addrText(targetHost(k))}:${targetPort(k) % 65536}/${SCAN_PROTOS[Math.floor(targetPort(k) / 65536)]}`),
          protocols: { tcp, udp, icmp },
          sensitivity: policy.sensitivity,
          research: d.research !== null,
          ...(d.lookedUp !== null ? { intel_clients: d.lookedUp } : {}),
          ...(d.access !== null ? { access: { ip: d.access.ip, port: d.access.port, transport: 'tcp' } } : {}),
        },
        ...(verdict !== null ? { fingerprint: fingerprintFields(verdict) } : {}),
      },
    };
  }

  return {
    evictedSources: () => evicted,
    reload(p, f) {
      policy = p;
      fingerprints = f;
      th = p.presets[p.sensitivity];
      budget.limit = p.maxExactEntries;
      distributed.reload(p, th);
      if (p.maxPending !== pending.max) pending = pending.movedTo(p.maxPending);
      t.tally.fill(null);
    },
    tick: (now) => sweep(now),
    observe(r) {
      sweep(packetSeconds(r.tsSec, r.tsNsec));
      if (r.kind === SCAN_PROBE) onProbe(r);
      else if (r.kind === SCAN_REPLY) onReply(r);
      else if (r.kind === SCAN_ESTABLISHED) onEstablished(r);
      else if (r.kind === SCAN_ABORTED) onAborted(r);
      else if (r.kind === SCAN_DATA) onData(r);
    },
    finish() {
      // Attempts still waiting at the end of input were not answered.
      for (let k = pending.oldestKey(); k >= 0; k = pending.oldestKey()) {
        const p = pending.slotOf(k);
        settle(k, p);
        if (pending.answered[p] === 0) failed(p, t.unanswered);
      }
      // Summaries in time order: each is stamped with its source's last packet. Closing a source that writes
      // nothing (no incident, no fleet summary due) touches no other, so those close first, unsorted.
      const writing: number[] = [];
      t.index.forEachInOrder((s) => {
        if ((t.detail[s]?.incident ?? null) !== null || changed?.has(s) === true) writing.push(s);
        else close(s);
      });
      for (const s of writing.sort((a, b) => t.lastSec[a] - t.lastSec[b] || t.lastNsec[a] - t.lastNsec[b])) close(s);
      distributed.finish();
    },
  };
}
