import type { ScanPolicy, ScanThresholds } from '../config/rules';
import {
  DIRECTIONS, OUTCOME_ANSWERED, PROTO_ICMP, PROTO_TCP, PROTO_UDP, SCAN_ABORTED, SCAN_DATA, SCAN_ESTABLISHED, SCAN_OUTCOMES, SCAN_PROBE, SCAN_PROTOS, SCAN_REPLY,
  type ScanRecord,
} from '../core/scan-record';
import { addrKey, addrText, portKey, portText, targetHost, targetKey, targetPort, type AddrKey } from './addr-key';
import { tunnelFields, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { TunnelInfo } from '../core/observation';
import { TUNNEL_KIND_NAMES } from '../decode/tunnel';
import { KIND_PRIORITY, scanAlertEnvelope, SCAN_RULES, type ScanKind } from './scan-alert';
import type { Severity } from '../intel/domains';
import { researchOf, scanSeverity, type SeverityFacts } from './severity';
import type { ResearchScanner } from '../config/rules';
import { createSpread, spreadAdd, spreadRelease, type Spread, type SpreadBudget } from './spread';
import { createDistributedDetector } from './distributed';
import { scanMeasure, type ScanCounts } from './thresholds';
import { buildSummary, PROBE_TIMES_MAX, type FleetSummary } from './fleet-summary';
import { PendingAttempts } from './pending';
import { SourceIndex } from './source-index';
import { createToolTally, tallyProbe, toolVerdict, type Fingerprint, type ToolTally, type ToolVerdict } from './fingerprint';

/**
 * One scanner's episode, from the first alert to its summary: every document of it carries the id. Between the
 * first and the last, a document goes out only when what an analyst acts on changes: a new kind, the named tool,
 * the severity.
 */
interface Incident {
  id: string;
  /** Documents sent so far. */
  documents: number;
  kinds: SourceKind[];
  tool: string | null;
  severity: Severity;
}

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

function ipOf(s: { key: AddrKey; ip: string | null }): string {
  return (s.ip ??= addrText(s.key));
}

/** The portKey of a probe's target: ICMP probes as their type. */
function probedPort(r: ScanRecord): number {
  return portKey(r.proto, r.proto === PROTO_ICMP ? r.icmpType : r.dstPort);
}

/** Sources by address (addr-key.ts). */
type SourceKey = AddrKey;

/**
 * What one source has done since its scan began; sets are capped (counts go on past the caps) and created on
 * first use, since most sources of a flood or of ordinary traffic make one attempt and never need them.
 */
interface Source {
  key: SourceKey;
  /** Its address as text, made when first needed (most sources never alert): ipOf(). */
  ip: string | null;
  direction: string;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  attempts: number;
  /** Probes that came less than slow_min_interval after the source's previous one (a paced scan has few). */
  quickProbes: number;
  answered: number;
  /** Answered by a SYN-ACK, then reset by the prober (or left) before any payload: counted as failed. */
  halfOpen: number;
  rejected: number;
  unreachable: number;
  unanswered: number;
  tcp: number;
  udp: number;
  icmp: number;
  /** Failed (host, port) targets, their hosts and ports, and the most ports of one host (vertical scans). */
  failed: Spread | null;
  pingHosts: Set<AddrKey> | null;
  /** Targets (targetKey) that answered. */
  learned: Set<AddrKey> | null;
  /** Made with the first probe's target and port in them (most sources make one attempt: no room to spare). */
  sampleHosts: AddrKey[];
  /** portKey values (addr-key.ts): ICMP probes as their type. */
  samplePorts: number[];
  /** The incident, once the source is recognised as a scanner; null before. */
  incident: Incident | null;
  /** In a research-scanner range (rules/research-scanners.yaml): the entry, else null. */
  research: ResearchScanner | null;
  /** The first connection with data it made to a service after its scan was recognised (scan, then access). */
  access: { ip: string; port: number } | null;
  /** Targets that had looked an intel service up before it failed against them (one story: looked up, then scanned). */
  lookedUp: Array<{ ip: string; indicator: string }> | null;
  /**
   * UDP ports of each host that responded to it (data or ICMP port unreachable), and how many of those were
   * closed: a UDP scan learns from both, and a few ports are a scan where a TCP scan needs many (capped).
   */
  udpSeen: Map<AddrKey, { ports: Set<number>; closed: number }> | null;
  /** The first failed target (targetKey), fed to the distributed detector with the second. */
  firstFailed: AddrKey;
  maxUdpPortsOneHost: number;
  /** Fingerprint matches of its probes (which tool). */
  tally: ToolTally | null;
  /** The verdict that first named it with high confidence: kept when later probes (nmap -sV's own connections through the OS stack) dilute the tally. */
  named: ToolVerdict | null;
  /** The tunnel its first probe came in (picket.tunnel), if any. */
  tunnel: TunnelInfo | undefined;
  /**
   * Only with a summary hook: microseconds after the first probe of each probe, while at most PROBE_TIMES_MAX
   * (fleet-summary.ts: correlate counts quick probes across sensors from them); null without a hook or past it.
   */
  probeTimes: number[] | null;
}

function emptyCounts(): ScanCounts {
  return { targets: 0, hosts: 0, ports: 0, maxPortsOneHost: 0, pingHosts: 0, maxUdpPortsOneHost: 0, attempts: 0, quickProbes: 0, durationSeconds: 0 };
}

/** What a source's scan is judged on (thresholds.ts), written into c (reused: judging allocates nothing). */
function countsInto(s: Source, c: ScanCounts): ScanCounts {
  const f = s.failed;
  c.targets = f?.nTargets ?? 0;
  c.hosts = f?.nHosts ?? 0;
  c.ports = f?.nPorts ?? 0;
  c.maxPortsOneHost = f?.maxPortsOneHost ?? 0;
  c.pingHosts = s.pingHosts?.size ?? 0;
  c.maxUdpPortsOneHost = s.maxUdpPortsOneHost;
  c.attempts = s.attempts;
  c.quickProbes = s.quickProbes;
  c.durationSeconds = s.lastSec - s.firstSec + (s.lastNsec - s.firstNsec) / 1e9;
  return c;
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

/** The kinds judged per source; scan.distributed is judged per targeted host (distributed.ts). */
type SourceKind = Exclude<ScanKind, 'distributed'>;

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
 * firstFailed before any failure. Not 0: an IPv4 target key is past 2^31 (a double) and V8 types a field by its first
 * value. Made with a small integer, the field was retyped at each source's first failure, and V8 migrated every
 * source made since to a new hidden class one at a time: 730 k migrations and 4.7 of 7.4 s on a 2 M-source SYN
 * flood (bench/RESULTS.md, "A field's first value").
 */
const NO_TARGET = Number.NaN;

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
  const sources = new SourceIndex<Source>();
  /** Attempts waiting for a reply (pending.ts): each is a slot number while it waits. */
  let pending = new PendingAttempts(policy.maxPending);
  let lastSweep = -Infinity;
  let lastPendingSweep = -Infinity;
  let evicted = 0;
  /** Sources changed since their last summary (only with a summary hook), and each source's summaries so far. */
  const changed = summaries === null ? null : new Set<Source>();
  const summarySeq = new Map<SourceKey, number>();
  let lastSummaries = -Infinity;
  const budget: SpreadBudget = { used: 0, limit: policy.maxExactEntries };
  const distributed = createDistributedDetector(policy, th, budget, observer, emit, (key) => {
    const src = sources.get(key);
    const v = src === undefined ? null : toolVerdict(fingerprints, src.tally, src.attempts) ?? src.named;
    return v === null ? null : { software: softwareFields(v), fingerprint: fingerprintFields(v) };
  });

  function source(r: ScanRecord): Source {
    // Sources are evicted oldest-created first (re-inserting on every probe to keep an exact recency order cost
    // more than it bought: eviction only happens under floods of new sources).
    const key = addrKey(r.ipVersion, r.addr, 0);
    let s = sources.get(key);
    if (s !== undefined) return s;
    if (sources.size >= policy.maxSources) evictOldest();
    s = {
      key, ip: null, direction: DIRECTIONS[r.direction], firstSec: r.tsSec, firstNsec: r.tsNsec,
      lastSec: r.tsSec, lastNsec: r.tsNsec, attempts: 0, quickProbes: 0, answered: 0, halfOpen: 0, rejected: 0, unreachable: 0, unanswered: 0, tcp: 0, udp: 0, icmp: 0, failed: null,
      pingHosts: null, learned: null, sampleHosts: [addrKey(r.ipVersion, r.addr, 16)], samplePorts: [probedPort(r)], incident: null, research: researchOf(policy, key, r.addr, 0), access: null, lookedUp: null, udpSeen: null, maxUdpPortsOneHost: 0, tally: null, named: null, firstFailed: NO_TARGET,
      tunnel: tunnelOfRecord(r), probeTimes: changed === null ? null : [],
    };
    sources.add(key, s);
    return s;
  }

  function seconds(s: Source): number {
    return s.lastSec - s.firstSec + (s.lastNsec - s.firstNsec) / 1e9;
  }

  function onProbe(r: ScanRecord): void {
    if (!policy.directions.includes(DIRECTIONS[r.direction])) return;
    const now = r.tsSec + r.tsNsec / 1e9;
    const s = source(r);
    if (s.attempts > 0 && now - (s.lastSec + s.lastNsec / 1e9) < th.slowMinInterval) s.quickProbes++;
    s.attempts++;
    if (s.probeTimes !== null) {
      if (s.attempts > PROBE_TIMES_MAX) s.probeTimes = null;
      else s.probeTimes.push(Math.round((r.tsSec - s.firstSec) * 1e6 + (r.tsNsec - s.firstNsec) / 1e3));
    }
    changed?.add(s);
    s.lastSec = r.tsSec;
    s.lastNsec = r.tsNsec;
    const proto = SCAN_PROTOS[r.proto];
    s[proto]++;
    // The target's key only where it is used: an IPv4 key past 2^31 is a heap number, made anew for each probe.
    if (s.sampleHosts.length < SAMPLES) {
      const dst = addrKey(r.ipVersion, r.addr, 16);
      if (!s.sampleHosts.includes(dst)) s.sampleHosts.push(dst);
    }
    if (s.samplePorts.length < SAMPLES) {
      const port = probedPort(r);
      if (!s.samplePorts.includes(port)) s.samplePorts.push(port);
    }
    identify(s, r);
    if (r.proto === PROTO_ICMP) {
      s.pingHosts ??= new Set();
      if (s.pingHosts.size < policy.maxTargetsPerSource) s.pingHosts.add(addrKey(r.ipVersion, r.addr, 16));
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
    const src = sources.get(pending.srcOf(p));
    if (src === undefined) {
      pending.release(p);
      return;
    }
    const proto = pending.proto[p];
    if (proto === PROTO_UDP) udpResponded(src, p, r.outcome !== OUTCOME_ANSWERED);
    if (r.outcome === OUTCOME_ANSWERED) {
      src.answered++;
      if (proto !== PROTO_ICMP) {
        src.learned ??= new Set();
        if (src.learned.size < MAX_LEARNED) src.learned.add(targetKey(pending.targetOf(p), portKey(proto, pending.port[p])));
      }
      if (proto === PROTO_TCP) {
        // Kept (last in time order) until the prober shows whether it makes a connection of it.
        pending.answered[p] = 1;
        pending.ts[p] = r.tsSec + r.tsNsec / 1e9;
        pending.requeue(r.attemptKey, p);
        return;
      }
      pending.release(p);
      return;
    }
    failed(p, SCAN_OUTCOMES[r.outcome] as 'rejected' | 'unreachable');
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

  /** p: a pending slot (pending.ts), read before the next attempt is added. */
  function halfOpen(p: number): void {
    const s = sources.get(pending.srcOf(p));
    if (s === undefined || s.answered === 0) return;
    s.answered--;
    failed(p, 'half_open');
  }

  /**
   * An attempt given up for room or end of input: unanswered, unless it was answered (then it stays so: whether
   * the prober would have reset it is not known).
   */
  function giveUp(key: number, p: number): void {
    settle(key, p);
    if (pending.answered[p] === 0) failed(p, 'unanswered');
  }

  /**
   * At the bounds, a tenth goes at once: a Map keeps deleted slots until it rehashes, so taking the oldest one
   * entry at a time would walk an ever longer run of them on every new source or attempt of a flood. Sources
   * that have shown little (no alert, under MINOR_TARGETS failed targets) go first, so that a flood of one-shot
   * sources cannot push out a slow scan that has been building up for hours.
   */
  function evictOldest(): void {
    const n = Math.max(1, Math.floor(policy.maxSources / 10));
    const victims: Source[] = [];
    sources.forEachInOrder((s) => {
      if (s.incident === null && (s.failed?.nTargets ?? 0) < MINOR_TARGETS && (s.pingHosts?.size ?? 0) < MINOR_TARGETS) victims.push(s);
      return victims.length < n;
    });
    if (victims.length < n) {
      const chosen = new Set(victims);
      sources.forEachInOrder((s) => {
        if (!chosen.has(s)) victims.push(s);
        return victims.length < n;
      });
    }
    for (const s of victims) close(s);
    evicted += victims.length;
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

  function failed(p: number, outcome: 'rejected' | 'unreachable' | 'unanswered' | 'half_open'): void {
    const s = sources.get(pending.srcOf(p));
    if (s === undefined) return; // its source was summarised already
    if (outcome === 'half_open') s.halfOpen++;
    else s[outcome]++;
    changed?.add(s);
    if (pending.proto[p] === PROTO_ICMP) return; // host discovery is judged on hosts probed, not on failures
    const port = portKey(pending.proto[p], pending.port[p]);
    const dst = pending.targetOf(p);
    const f = (s.failed ??= createSpread());
    const hostsBefore = f.nHosts;
    if (!spreadAdd(f, dst, port, policy.maxTargetsPerSource, budget)) return;
    if (intelClients !== undefined && intelClients.size > 0 && f.nHosts > hostsBefore && (s.lookedUp?.length ?? 0) < SAMPLES) {
      const ip = addrText(dst);
      const indicator = intelClients.get(ip);
      if (indicator !== undefined) (s.lookedUp ??= []).push({ ip, indicator });
    }
    // Per-host (distributed) state is fed only by sources with two or more failed targets: a flood of spoofed
    // one-shot SYNs then costs it nothing, while each source of a distributed scan probes several ports.
    if (f.nTargets === 1) {
      s.firstFailed = targetKey(dst, port);
    } else if (f.nTargets === 2 && f.targets !== null) {
      const first = s.firstFailed;
      distributed.failed(s.key, targetHost(first), targetPort(first), s.direction, s.lastSec, s.lastNsec);
      distributed.failed(s.key, dst, port, s.direction, s.lastSec, s.lastNsec);
    } else if (f.nTargets > 2) {
      distributed.failed(s.key, dst, port, s.direction, s.lastSec, s.lastNsec);
    }
    evaluate(s);
  }

  /**
   * Which tool: the probe's fingerprint match goes into the source's tally; a source named with high confidence
   * raises scan.tool at once, before (or without) crossing any scan threshold.
   */
  function identify(s: Source, r: ScanRecord): void {
    if (r.fingerprint < 0) return;
    tallyProbe((s.tally ??= createToolTally()), r.fingerprint, r.ttl, r.tcpSeq, r.attemptKey, r.proto === 0);
    if (s.named !== null) return;
    const v = toolVerdict(fingerprints, s.tally, s.attempts);
    if (v === null || v.confidence !== 'high') return;
    s.named = v;
    evaluate(s);
  }

  /** A UDP port of a host responded: counted per host (bounded) for the UDP port-scan measure. */
  function udpResponded(s: Source, p: number, closed: boolean): void {
    s.udpSeen ??= new Map();
    const dst = pending.targetOf(p);
    let h = s.udpSeen.get(dst);
    if (h === undefined) {
      if (s.udpSeen.size >= MAX_UDP_HOSTS) return;
      h = { ports: new Set(), closed: 0 };
      s.udpSeen.set(dst, h);
    }
    const port = pending.port[p];
    if (h.ports.has(port) || h.ports.size >= MAX_UDP_PORTS) return;
    h.ports.add(port);
    if (closed) h.closed++;
    if (h.closed >= th.udpClosedPorts && h.ports.size > s.maxUdpPortsOneHost) {
      s.maxUdpPortsOneHost = h.ports.size;
      evaluate(s);
    }
  }

  const judged = emptyCounts();

  const KINDS: ReadonlyArray<Exclude<SourceKind, 'tool'>> = ['ping', 'mixed', 'port', 'sweep', 'slow'];

  /**
   * The kinds the source's counts amount to now (a paced scan is scan.slow as well as its shape): bit i for KINDS[i].
   * A mask, not a list: judged on every failed attempt, and a new array each time was the aggregator's garbage.
   */
  function kindsNow(s: Source): number {
    let kinds = 0;
    countsInto(s, judged);
    for (let i = 0; i < KINDS.length; i++) if (scanMeasure(judged, th, policy.slowMaxQuickShare, KINDS[i]) > 0) kinds |= 1 << i;
    return kinds;
  }

  /** A first document when the source is recognised, an update when its kinds, tool or severity change. */
  function evaluate(s: Source): void {
    const kinds = kindsNow(s);
    if (kinds === 0 && s.named === null && s.incident === null) return;
    const tool = s.named?.fingerprint.tool ?? null;
    let inc = s.incident;
    let trigger: SourceKind | null = null;
    if (inc === null) {
      inc = { id: `scan-${ipOf(s)}-${s.firstSec}.${String(s.firstNsec).padStart(9, '0')}`, documents: 0, kinds: [], tool: null, severity: 'medium' };
      s.incident = inc;
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
  function judgeSeverity(s: Source, inc: Incident, reasons: string[] | null): Severity {
    facts.kinds = inc.kinds;
    facts.tool = inc.tool;
    facts.hosts = Math.max(s.failed?.nHosts ?? 0, s.pingHosts?.size ?? 0);
    facts.targets = s.failed?.nTargets ?? 0;
    facts.access = s.access;
    facts.lookedUp = s.lookedUp;
    facts.research = s.research;
    return scanSeverity(facts, policy, reasons);
  }

  function reasonsOf(s: Source, inc: Incident): string[] {
    const out: string[] = [];
    judgeSeverity(s, inc, out);
    return out;
  }

  /** A source that ends (idle, too old, evicted, end of input): one summary of its incident. */
  function close(s: Source): void {
    if (s.incident !== null) emit(alertDoc(s, primaryKind(s.incident), true, true));
    if (changed !== null && changed.delete(s)) summarise(s);
    summarySeq.delete(s.key);
    if (s.failed !== null) spreadRelease(s.failed, budget);
    sources.delete(s.key);
  }

  /** The scanner sent data on a connection after its scan was recognised: once, it raises the severity. */
  function onData(r: ScanRecord): void {
    const s = sources.get(addrKey(r.ipVersion, r.addr, 0));
    if (s === undefined || s.incident === null || s.access !== null) return;
    s.access = { ip: addrText(addrKey(r.ipVersion, r.addr, 16)), port: r.dstPort };
    evaluate(s);
  }

  /**
   * One fleet summary of a source with at least minTargets failed targets or ICMP-probed hosts (cumulative: it
   * replaces the sensor's previous one).
   */
  function summarise(s: Source): void {
    if (summaries === null || Math.max(s.failed?.nTargets ?? 0, s.pingHosts?.size ?? 0) < summaries.minTargets) return;
    const seq = (summarySeq.get(s.key) ?? 0) + 1;
    summarySeq.set(s.key, seq);
    const v = toolVerdict(fingerprints, s.tally, s.attempts) ?? s.named;
    summaries.emit(buildSummary({
      sensor: summaries.sensor, source: ipOf(s), seq, first: [s.firstSec, s.firstNsec], last: [s.lastSec, s.lastNsec],
      outcomes: { answered: s.answered, half_open: s.halfOpen, rejected: s.rejected, unreachable: s.unreachable, unanswered: s.unanswered },
      counts: countsInto(s, emptyCounts()), failed: s.failed, pingHosts: [...(s.pingHosts ?? [])].map(addrText), probeTimes: s.probeTimes, sampleHosts: s.sampleHosts.map(addrText), samplePorts: s.samplePorts.map(portText),
      tool: v === null ? null : { name: v.fingerprint.tool, matched: v.matched, probes: v.probes, ...(s.named?.fingerprint.tool === v.fingerprint.tool ? { high: true } : {}) },
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
      else failed(p, 'unanswered');
    }
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    // close() deletes only the source at hand, which forEachInOrder allows: no copy of every source.
    sources.forEachInOrder((s) => {
      const last = s.lastSec + s.lastNsec / 1e9;
      // A source with one attempt may be the start of a paced scan: it gets the slow allowance too (floods of
      // one-shot sources are bounded by max_sources, which evicts such sources first).
      const slowish = s.attempts < 2 || seconds(s) / (s.attempts - 1) >= th.slowMinInterval;
      const idle = now - last >= (slowish ? policy.slowIdleExpiry : policy.idleExpiry);
      if (idle || now - s.firstSec >= policy.maxAge) close(s);
    });
    distributed.expire(now);
  }

  function alertDoc(s: Source, kind: SourceKind, update: boolean, final: boolean): EcsDoc {
    const dur = seconds(s);
    const f = s.failed;
    const singleKey = kind === 'port' ? f?.maxPortsHost : s.sampleHosts.length === 1 ? s.sampleHosts[0] : undefined;
    const single = singleKey === undefined ? undefined : addrText(singleKey);
    const transport = s.tcp >= s.udp && s.tcp >= s.icmp ? 'tcp' : s.udp >= s.icmp ? 'udp' : 'icmp';
    const verdict = toolVerdict(fingerprints, s.tally, s.attempts) ?? s.named;
    const description = kind === 'tool' && verdict !== null
      ? `${ipOf(s)}: ${verdict.matched} of ${verdict.probes} probes carry the traits of ${verdict.fingerprint.tool} (${verdict.fingerprint.traits.join(', ')})`
      : `${ipOf(s)}: ${s.attempts} attempts to ${(f?.nHosts ?? 0) || (s.pingHosts?.size ?? 0)} hosts and ${f?.nPorts ?? 0} ports in ${dur.toFixed(0)} s`;
    const inc = s.incident;
    const severity = inc?.severity ?? 'medium';
    if (inc !== null) inc.documents++;
    const envelope = scanAlertEnvelope(kind, [s.firstSec, s.firstNsec], [s.lastSec, s.lastNsec], description, observer, severity);
    const samples = s.sampleHosts.map(addrText);
    return {
      ...envelope,
      ...(verdict !== null ? { threat: { ...(envelope.threat as EcsDoc), software: softwareFields(verdict) } } : {}),
      source: { ip: ipOf(s) },
      ...(single !== undefined && single !== '' ? { destination: { ip: single } } : {}),
      network: { transport, direction: s.direction },
      related: { ip: [...new Set([ipOf(s), ...samples, ...(s.lookedUp ?? []).map((l) => l.ip)])] },
      picket: {
        branch: SCAN_RULES[kind].branch, severity, update, final, ...tunnelFields(s.tunnel),
        ...(inc !== null ? { incident: { id: inc.id, document: inc.documents, kinds: [...inc.kinds, ...(inc.tool !== null ? ['tool' as const] : [])].map((k) => SCAN_RULES[k].id) } } : {}),
        severity_reasons: inc !== null ? reasonsOf(s, inc) : [],
        scan: {
          attempts: s.attempts,
          outcomes: { answered: s.answered, half_open: s.halfOpen, rejected: s.rejected, unreachable: s.unreachable, unanswered: s.unanswered },
          hosts: f?.nHosts ?? 0,
          ports: f?.nPorts ?? 0,
          targets: f?.nTargets ?? 0,
          /** False once the counts come from a sketch (about 6.5 % error) rather than exact sets. */
          exact: f === null || f.sketch === null,
          ping_hosts: s.pingHosts?.size ?? 0,
          max_ports_one_host: f?.maxPortsOneHost ?? 0,
          udp_ports_responded_one_host: s.maxUdpPortsOneHost,
          probes_per_second: dur > 0 ? Number((s.attempts / dur).toFixed(3)) : null,
          duration_seconds: Number(dur.toFixed(3)),
          sample_hosts: samples,
          sample_ports: s.samplePorts.map(portText),
          learned: [...(s.learned ?? [])].map((t) => `${addrText(targetHost(t))}:${targetPort(t) % 65536}/${SCAN_PROTOS[Math.floor(targetPort(t) / 65536)]}`),
          protocols: { tcp: s.tcp, udp: s.udp, icmp: s.icmp },
          sensitivity: policy.sensitivity,
          research: s.research !== null,
          ...(s.lookedUp !== null ? { intel_clients: s.lookedUp } : {}),
          ...(s.access !== null ? { access: { ip: s.access.ip, port: s.access.port, transport: 'tcp' } } : {}),
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
      sources.forEachInOrder((s) => {
        s.tally = null;
      });
    },
    tick: (now) => sweep(now),
    observe(r) {
      sweep(r.tsSec + r.tsNsec / 1e9);
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
        if (pending.answered[p] === 0) failed(p, 'unanswered');
      }
      // Summaries in time order: each is stamped with its source's last packet. Closing a source that writes
      // nothing (no incident, no fleet summary due) touches no other, so those close first, unsorted.
      const writing: Source[] = [];
      sources.forEachInOrder((s) => {
        if (s.incident !== null || changed?.has(s) === true) writing.push(s);
        else close(s);
      });
      for (const s of writing.sort((a, b) => a.lastSec - b.lastSec || a.lastNsec - b.lastNsec)) close(s);
      distributed.finish();
    },
  };
}
