import type { ScanPolicy, ScanThresholds } from '../config/rules';
import type { ProbeObservation, ReplyObservation, ScanObservation, TunnelInfo } from '../core/observation';
import { tunnelFields, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { growthDecision, scanAlertEnvelope, SCAN_RULES, type ScanKind } from './scan-alert';
import { createSpread, spreadAdd, spreadRelease, type Spread, type SpreadBudget } from './spread';
import { createDistributedDetector } from './distributed';
import { createToolTally, tallyProbe, toolVerdict, type Fingerprint, type ToolTally, type ToolVerdict } from './fingerprint';

interface Pending {
  /** The prober's address: looked up when the attempt settles, so that a closed source is not kept alive by it. */
  src: string;
  dst: string;
  srcPort: number;
  port: number;
  proto: string;
  ts: number;
}

/**
 * What one source has done since its scan began; sets are capped (counts go on past the caps) and created on
 * first use, since most sources of a flood or of ordinary traffic make one attempt and never need them.
 */
interface Source {
  ip: string;
  direction: string;
  firstSec: number;
  firstNsec: number;
  lastSec: number;
  lastNsec: number;
  attempts: number;
  answered: number;
  rejected: number;
  unreachable: number;
  unanswered: number;
  tcp: number;
  udp: number;
  icmp: number;
  /** Failed (host, port) targets, their hosts and ports, and the most ports of one host (vertical scans). */
  failed: Spread | null;
  pingHosts: Set<string> | null;
  learned: Set<string> | null;
  sampleHosts: string[];
  samplePorts: string[];
  /** For each kind alerted: the measure at the last alert (an update goes out when it doubles). */
  alerted: Map<ScanKind, number> | null;
  /**
   * UDP ports of each host that responded to it (data or ICMP port unreachable), and how many of those were
   * closed: a UDP scan learns from both, and a few ports are a scan where a TCP scan needs many (capped).
   */
  udpSeen: Map<string, { ports: Set<number>; closed: number }> | null;
  maxUdpPortsOneHost: number;
  /** Fingerprint matches of its probes (which tool). */
  tally: ToolTally | null;
  /** The verdict that first named it with high confidence: kept when later probes (nmap -sV's own connections through the OS stack) dilute the tally. */
  named: ToolVerdict | null;
  /** The tunnel its first probe came in (picket.tunnel), if any. */
  tunnel: TunnelInfo | undefined;
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
/** Below this many failed targets (and no alert) a source is among the first to go when max_sources is reached. */
const MINOR_TARGETS = 3;
const MAX_UDP_HOSTS = 64;
const MAX_UDP_PORTS = 1024;
const SAMPLES = 10;
const MAX_LEARNED = 256;
const SWEEP_EVERY_SEC = 30;

export interface ScanAggregator {
  observe(o: ScanObservation): void;
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
 * (bounded), judged against the policy's thresholds. One alert per source and kind when a threshold is crossed,
 * an update when the scan has doubled, and a summary (picket.final) when the source goes quiet or input ends.
 */
export function createScanAggregator(policy: ScanPolicy, fingerprints: readonly Fingerprint[], observer: ObserverInfo, emit: (doc: EcsDoc) => void): ScanAggregator {
  let th: ScanThresholds = policy.presets[policy.sensitivity];
  const sources = new Map<string, Source>();
  /** Attempts waiting for a reply, by attemptKey (a hash: the ends are compared on every match). */
  const pending = new Map<number, Pending>();
  let lastSweep = -Infinity;
  let lastPendingSweep = -Infinity;
  let evicted = 0;
  const budget: SpreadBudget = { used: 0, limit: policy.maxExactEntries };
  const distributed = createDistributedDetector(policy, th, budget, observer, emit, (ip) => {
    const src = sources.get(ip);
    const v = src === undefined ? null : toolVerdict(fingerprints, src.tally, src.attempts) ?? src.named;
    return v === null ? null : { software: softwareFields(v), fingerprint: fingerprintFields(v) };
  });

  function source(o: ProbeObservation): Source {
    // Sources are evicted oldest-created first (re-inserting on every probe to keep an exact recency order cost
    // more than it bought: eviction only happens under floods of new sources).
    let s = sources.get(o.srcIp);
    if (s !== undefined) return s;
    if (sources.size >= policy.maxSources) evictOldest();
    s = {
      ip: o.srcIp, direction: o.direction, firstSec: o.tsSec, firstNsec: o.tsNsec, lastSec: o.tsSec, lastNsec: o.tsNsec, attempts: 0,
      answered: 0, rejected: 0, unreachable: 0, unanswered: 0, tcp: 0, udp: 0, icmp: 0, failed: null,
      pingHosts: null, learned: null, sampleHosts: [], samplePorts: [], alerted: null, udpSeen: null, maxUdpPortsOneHost: 0, tally: null, named: null,
      tunnel: o.tunnel,
    };
    sources.set(o.srcIp, s);
    return s;
  }

  function seconds(s: Source): number {
    return s.lastSec - s.firstSec + (s.lastNsec - s.firstNsec) / 1e9;
  }

  function onProbe(o: ProbeObservation): void {
    if (!policy.directions.includes(o.direction)) return;
    const now = o.tsSec + o.tsNsec / 1e9;
    const s = source(o);
    s.attempts++;
    s.lastSec = o.tsSec;
    s.lastNsec = o.tsNsec;
    s[o.proto]++;
    if (s.sampleHosts.length < SAMPLES && !s.sampleHosts.includes(o.dstIp)) s.sampleHosts.push(o.dstIp);
    if (s.samplePorts.length < SAMPLES) {
      const port = o.proto === 'icmp' ? `icmp/${o.icmpType}` : `${o.proto}/${o.dstPort}`;
      if (!s.samplePorts.includes(port)) s.samplePorts.push(port);
    }
    identify(s, o);
    if (o.proto === 'icmp') {
      s.pingHosts ??= new Set();
      if (s.pingHosts.size < policy.maxTargetsPerSource) s.pingHosts.add(o.dstIp);
      evaluate(s);
    }
    const known = pending.get(o.attemptKey);
    if (known !== undefined) {
      if (sameAttempt(known, o)) return; // a retransmitted probe
      // Another attempt under the same hash (rare): the older one is given up as unanswered.
      settle(o.attemptKey);
      failed(known, 'unanswered');
    }
    if (pending.size >= policy.maxPending) expireOldestPending();
    pending.set(o.attemptKey, { src: o.srcIp, dst: o.dstIp, srcPort: o.srcPort, port: o.dstPort, proto: o.proto, ts: now });
  }

  function sameAttempt(p: Pending, o: ProbeObservation | ReplyObservation): boolean {
    return p.port === o.dstPort && p.srcPort === o.srcPort && p.proto === o.proto && p.src === o.srcIp && p.dst === o.dstIp;
  }

  function onReply(o: ReplyObservation): void {
    const p = pending.get(o.attemptKey);
    if (p === undefined || !sameAttempt(p, o)) return;
    settle(o.attemptKey);
    const src = sources.get(p.src);
    if (src === undefined) return;
    if (p.proto === 'udp') udpResponded(src, p, o.outcome === 'unreachable');
    if (o.outcome === 'answered') {
      src.answered++;
      if (p.proto === 'icmp') return;
      src.learned ??= new Set();
      if (src.learned.size < MAX_LEARNED) src.learned.add(`${p.dst}:${p.port}/${p.proto}`);
      return;
    }
    failed(p, o.outcome);
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
    for (const s of sources.values()) {
      if (s.alerted === null && (s.failed?.nTargets ?? 0) < MINOR_TARGETS && (s.pingHosts?.size ?? 0) < MINOR_TARGETS) victims.push(s);
      if (victims.length === n) break;
    }
    if (victims.length < n) {
      const chosen = new Set(victims);
      for (const s of sources.values()) {
        if (!chosen.has(s)) victims.push(s);
        if (victims.length === n) break;
      }
    }
    for (const s of victims) close(s);
    evicted += victims.length;
  }

  function expireOldestPending(): void {
    const n = Math.max(1, Math.floor(policy.maxPending / 10));
    const victims: Array<[number, Pending]> = [];
    for (const e of pending) {
      victims.push(e);
      if (victims.length === n) break;
    }
    for (const [k, p] of victims) {
      settle(k);
      failed(p, 'unanswered');
    }
  }

  function settle(key: number): void {
    pending.delete(key);
  }

  function failed(p: Pending, outcome: 'rejected' | 'unreachable' | 'unanswered'): void {
    const s = sources.get(p.src);
    if (s === undefined) return; // its source was summarised already
    s[outcome]++;
    if (p.proto === 'icmp') return; // host discovery is judged on hosts probed, not on failures
    const port = `${p.proto}/${p.port}`;
    const f = (s.failed ??= createSpread());
    if (!spreadAdd(f, p.dst, port, policy.maxTargetsPerSource, budget)) return;
    // Per-host (distributed) state is fed only by sources with two or more failed targets: a flood of spoofed
    // one-shot SYNs then costs it nothing, while each source of a distributed scan probes several ports.
    if (f.nTargets === 2 && f.targets !== null) {
      for (const t of f.targets) {
        const bar = t.indexOf('|');
        distributed.failed(s.ip, t.slice(0, bar), t.slice(bar + 1), s.direction, s.lastSec, s.lastNsec);
      }
    } else if (f.nTargets > 2) {
      distributed.failed(s.ip, p.dst, port, s.direction, s.lastSec, s.lastNsec);
    }
    evaluate(s);
  }

  /**
   * Which tool: the probe's fingerprint match goes into the source's tally; a source named with high confidence
   * raises scan.tool at once, before (or without) crossing any scan threshold.
   */
  function identify(s: Source, o: ProbeObservation): void {
    if (o.fingerprint < 0) return;
    tallyProbe((s.tally ??= createToolTally()), o.fingerprint, o.ttl, o.tcpSeq, o.attemptKey, o.proto === 'tcp');
    if (s.alerted?.has('tool') === true) return;
    const v = toolVerdict(fingerprints, s.tally, s.attempts);
    if (v === null || v.confidence !== 'high') return;
    s.named = v;
    (s.alerted ??= new Map()).set('tool', 1);
    emit(alertDoc(s, 'tool', false, false));
  }

  /** A UDP port of a host responded: counted per host (bounded) for the UDP port-scan measure. */
  function udpResponded(s: Source, p: Pending, closed: boolean): void {
    s.udpSeen ??= new Map();
    let h = s.udpSeen.get(p.dst);
    if (h === undefined) {
      if (s.udpSeen.size >= MAX_UDP_HOSTS) return;
      h = { ports: new Set(), closed: 0 };
      s.udpSeen.set(p.dst, h);
    }
    if (h.ports.has(p.port) || h.ports.size >= MAX_UDP_PORTS) return;
    h.ports.add(p.port);
    if (closed) h.closed++;
    if (h.closed >= th.udpClosedPorts && h.ports.size > s.maxUdpPortsOneHost) {
      s.maxUdpPortsOneHost = h.ports.size;
      evaluate(s);
    }
  }

  /** The measure of a kind of scan that a source's counts amount to now, or 0 when they do not. */
  function measure(s: Source, kind: Exclude<SourceKind, 'tool'>): number {
    const hosts = s.failed?.nHosts ?? 0;
    const ports = s.failed?.nPorts ?? 0;
    const targets = s.failed?.nTargets ?? 0;
    const maxPortsOneHost = s.failed?.maxPortsOneHost ?? 0;
    const pingHosts = s.pingHosts?.size ?? 0;
    const mixed = hosts >= th.mixedHosts && ports >= th.mixedPorts;
    switch (kind) {
      case 'ping':
        return pingHosts >= th.pingHosts ? pingHosts : 0;
      case 'mixed':
        return mixed ? targets : 0;
      case 'port':
        if (mixed) return 0;
        if (maxPortsOneHost >= th.portPorts) return maxPortsOneHost;
        return s.maxUdpPortsOneHost >= th.udpPortPorts ? s.maxUdpPortsOneHost : 0;
      case 'sweep':
        // nmap -sn's TCP SYNs to port 443 are part of its host discovery, not a separate sweep.
        return !mixed && maxPortsOneHost < th.portPorts && hosts >= th.sweepHosts && ports <= th.sweepMaxPorts && !(pingHosts >= th.pingHosts && ports <= 2) ? hosts : 0;
      case 'slow': {
        const dur = seconds(s);
        return targets >= th.slowMinTargets && dur >= th.slowMinDuration && dur / Math.max(1, s.attempts - 1) >= th.slowMinInterval ? targets : 0;
      }
    }
  }

  const KINDS: ReadonlyArray<Exclude<SourceKind, 'tool'>> = ['ping', 'mixed', 'port', 'sweep', 'slow'];

  function evaluate(s: Source): void {
    for (const kind of KINDS) {
      const m = measure(s, kind);
      if (m === 0) continue;
      const decision = growthDecision((s.alerted ??= new Map()), kind, m);
      if (decision !== null) emit(alertDoc(s, kind, decision === 'update', false));
    }
  }

  /** A source that ends (idle, too old, evicted, end of input): a summary of each kind it alerted for. */
  function close(s: Source): void {
    if (s.alerted !== null) for (const kind of s.alerted.keys()) emit(alertDoc(s, kind as SourceKind, true, true));
    if (s.failed !== null) spreadRelease(s.failed, budget);
    sources.delete(s.ip);
  }

  function sweep(now: number): void {
    // Attempts past the reply timeout are unanswered; the map is in arrival order, so stop at the first that is
    // not. Once a second of packet time is precise enough for a timeout of seconds, and keeps floods cheap.
    if (now - lastPendingSweep < 1) return;
    lastPendingSweep = now;
    for (const [k, p] of pending) {
      if (p.ts + policy.replyTimeout > now) break;
      settle(k);
      failed(p, 'unanswered');
    }
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    for (const s of [...sources.values()]) {
      const last = s.lastSec + s.lastNsec / 1e9;
      // A source with one attempt may be the start of a paced scan: it gets the slow allowance too (floods of
      // one-shot sources are bounded by max_sources, which evicts such sources first).
      const slowish = s.attempts < 2 || seconds(s) / (s.attempts - 1) >= th.slowMinInterval;
      const idle = now - last >= (slowish ? policy.slowIdleExpiry : policy.idleExpiry);
      if (idle || now - s.firstSec >= policy.maxAge) close(s);
    }
    distributed.expire(now);
  }

  function alertDoc(s: Source, kind: SourceKind, update: boolean, final: boolean): EcsDoc {
    const dur = seconds(s);
    const f = s.failed;
    const single = kind === 'port' ? f?.maxPortsHost : s.sampleHosts.length === 1 ? s.sampleHosts[0] : undefined;
    const transport = s.tcp >= s.udp && s.tcp >= s.icmp ? 'tcp' : s.udp >= s.icmp ? 'udp' : 'icmp';
    const verdict = toolVerdict(fingerprints, s.tally, s.attempts) ?? s.named;
    const description = kind === 'tool' && verdict !== null
      ? `${s.ip}: ${verdict.matched} of ${verdict.probes} probes carry the traits of ${verdict.fingerprint.tool} (${verdict.fingerprint.traits.join(', ')})`
      : `${s.ip}: ${s.attempts} attempts to ${(f?.nHosts ?? 0) || (s.pingHosts?.size ?? 0)} hosts and ${f?.nPorts ?? 0} ports in ${dur.toFixed(0)} s`;
    const envelope = scanAlertEnvelope(kind, [s.firstSec, s.firstNsec], [s.lastSec, s.lastNsec], description, observer);
    return {
      ...envelope,
      ...(verdict !== null ? { threat: { ...(envelope.threat as EcsDoc), software: softwareFields(verdict) } } : {}),
      source: { ip: s.ip },
      ...(single !== undefined && single !== '' ? { destination: { ip: single } } : {}),
      network: { transport, direction: s.direction },
      picket: {
        branch: SCAN_RULES[kind].branch, severity: 'medium', update, final, ...tunnelFields(s.tunnel),
        scan: {
          attempts: s.attempts,
          outcomes: { answered: s.answered, rejected: s.rejected, unreachable: s.unreachable, unanswered: s.unanswered },
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
          sample_hosts: [...s.sampleHosts],
          sample_ports: [...s.samplePorts],
          learned: [...(s.learned ?? [])],
          protocols: { tcp: s.tcp, udp: s.udp, icmp: s.icmp },
          sensitivity: policy.sensitivity,
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
      for (const s of sources.values()) s.tally = null;
    },
    tick: (now) => sweep(now),
    observe(o) {
      const now = o.tsSec + o.tsNsec / 1e9;
      sweep(now);
      if (o.kind === 'probe') onProbe(o);
      else onReply(o);
    },
    finish() {
      // Attempts still waiting at the end of input were not answered.
      for (const [k, p] of [...pending]) {
        settle(k);
        failed(p, 'unanswered');
      }
      for (const s of [...sources.values()].sort((a, b) => a.firstSec - b.firstSec || a.firstNsec - b.firstNsec)) close(s);
      distributed.finish();
    },
  };
}
