import type { Policy } from '../config/rules';
import { observedName, type IntelObservation as Observation } from '../core/observation';
import type { IntelEntry } from '../intel/domains';
import { isoTime, nameExtras, tunnelFields, networkFields, observerFields, protocolFields, SEVERITY_SCORE, type EcsDoc, type ObserverInfo } from './ecs';
import { threatFields } from './mitre';
import { packetSeconds } from '../core/time';
import { SlotLru } from '../util/lru';

interface IntelRule {
  id: string;
  name: string;
  /** A DetectionBranch label in the manner of the seeds' queries (picket.branch). */
  branch: string;
  /** The ECS field the name was seen in (threat.enrichments.matched.field). */
  field: string;
  what: string;
}

/** Public contract: rule.id values and picket.branch labels. */
const INTEL_RULES = {
  dns: { id: 'intel.dns', name: 'DNS query for an IP-intelligence service', branch: 'IPIntelDNSLookup', field: 'dns.question.name', what: 'DNS query for' },
  tls: { id: 'intel.tls', name: 'TLS connection to an IP-intelligence service', branch: 'IPIntelTLSConnect', field: 'tls.client.server_name', what: 'TLS ClientHello for' },
  quic: { id: 'intel.quic', name: 'QUIC connection to an IP-intelligence service', branch: 'IPIntelQUICConnect', field: 'tls.client.server_name', what: 'QUIC ClientHello for' },
  http: { id: 'intel.http', name: 'HTTP request to an IP-intelligence service', branch: 'IPIntelHTTPRequest', field: 'url.domain', what: 'HTTP request for' },
  conn: { id: 'intel.conn', name: 'Connection to an address of an IP-intelligence service', branch: 'IPIntelConnection', field: 'destination.ip', what: 'connection to' },
} satisfies Record<string, IntelRule>;

/** rule.description: what was seen, in words. */
function describe(o: Observation, r: IntelRule): string {
  if (o.kind !== 'conn') return `${r.what} ${observedName(o)}`;
  const why = o.via === 'dns-answer' ? `which the client had just resolved ${o.resolvedName} to` : 'an intel address';
  const first = o.firstBytes === 'none' ? 'that sent no data' : o.firstBytes === 'other' ? 'that named no host' : `whose ${o.firstBytes} head named no host`;
  return `${o.transport.toUpperCase()} connection to ${o.dstIp} (${why}) ${first}`;
}

function intelRule(o: Observation): IntelRule {
  switch (o.kind) {
    case 'dns_query': return INTEL_RULES.dns;
    case 'tls_client_hello': return o.quic ? INTEL_RULES.quic : INTEL_RULES.tls;
    case 'http_request': return INTEL_RULES.http;
    case 'conn': return INTEL_RULES.conn;
  }
}

/** What the alert pipeline books an alert by (alert-pipeline.ts): its rule, client, indicator and event.start. */
export interface AlertHead {
  ruleId: string;
  sourceIp: string;
  indicator: string | undefined;
  start: string;
}

/**
 * An alert of the end of input, booked at once and built when it is written (its '@timestamp' is `at`): the open
 * sightings' updates can be as many as intel.max_tracked, and held as documents until every detector had finished
 * they took ~140 MB and 2 s on a lookup storm (bench/RESULTS.md, "Alert storms").
 */
export interface LateAlert {
  at: string;
  head: AlertHead;
  build(): EcsDoc;
}

interface Sighting {
  rule: IntelRule;
  first: Observation;
  /** The matched entry itself: positions change when rules are reloaded. */
  entry: IntelEntry;
  /** The alert's window: repeats before windowEnd fold into it. */
  windowEnd: number;
  repeats: number;
  lastSec: number;
  lastNsec: number;
  /** Distinct names seen under the entry (api.shodan.io and shodan.io fold into one alert), up to MAX_NAMES. */
  names: string[];
}

const MAX_NAMES = 16;

/**
 * Turns intel-matching observations into aggregated alerts: the first sighting per (client, entry, rule) alerts
 * at once; repeats within policy.intel.repeatWindow are counted, and when the window closes (or the input ends,
 * or the aggregation is evicted to bound memory) one update alert carries the count and the whole time span.
 */
export function createIntelAlerter(
  entries: IntelEntry[], policy: Policy, observer: ObserverInfo, emit: (doc: EcsDoc) => void,
): { observe(o: Observation): void; finish(late: (d: LateAlert) => void): void; tick(now: number): void; reload(entries: IntelEntry[], policy: Policy): void } {
  /** Open sightings by (client, entry, rule), the least recently seen closed first when intel.max_tracked is reached. */
  let open: SlotLru<Sighting> | null = null;
  const sightings = (): SlotLru<Sighting> => (open ??= new SlotLru<Sighting>(policy.intel.maxTracked, closeSighting));
  let lastSweep = -Infinity;

  function closeSighting(s: Sighting): void {
    if (s.repeats > 0) emit(alertDoc(s, true));
  }

  function alertDoc(s: Sighting, update: boolean): EcsDoc {
    const o = s.first;
    const e = s.entry;
    const r = s.rule;
    const count = 1 + (update ? s.repeats : 0);
    return {
      '@timestamp': update ? isoTime(s.lastSec, s.lastNsec) : isoTime(o.tsSec, o.tsNsec),
      event: {
        kind: 'alert',
        // ECS pairs type indicator only with category threat (a threat-intel record, not a sighting of one): a
        // packet that matched intel is an intrusion_detection event of type info, as the behavioural alerts are.
        category: ['network', 'intrusion_detection'],
        type: ['info'],
        severity: SEVERITY_SCORE[e.severity],
        module: 'picket',
        dataset: 'picket.alert',
        start: isoTime(o.tsSec, o.tsNsec),
        end: update ? isoTime(s.lastSec, s.lastNsec) : isoTime(o.tsSec, o.tsNsec),
      },
      rule: {
        id: r.id,
        name: r.name,
        category: e.category,
        ruleset: 'picket',
        description: `${describe(o, r)}, under ${e.indicator}${e.description !== '' ? ` (${e.description})` : ''}`,
      },
      threat: {
        ...threatFields(e.technique),
        enrichments: [{ matched: { atomic: e.indicator, field: r.field, type: 'indicator_match_rule' } }],
      },
      ...protocolFields(o),
      network: networkFields(o),
      observer: observerFields(observer),
      picket: {
        branch: r.branch,
        severity: e.severity,
        confidence: e.confidence,
        update,
        count,
        packet: o.ordinal + 1,
        ...tunnelFields(o.tunnel),
        ...nameExtras(o),
        intel: {
          indicator: e.indicator, type: e.type, category: e.category, description: e.description, source: e.source, line: e.line,
          names: [...s.names],
          ...(o.kind === 'conn' ? { via: o.via, first_bytes: o.firstBytes } : {}),
        },
      },
    };
  }

  /** Closes every window that ended before `now` (packet time); run at most once a minute of packet time. */
  function sweep(now: number): void {
    if (now - lastSweep < 60) return;
    lastSweep = now;
    if (open === null) return;
    const ended: string[] = [];
    open.forEachNewestFirst((s, k) => {
      if (s.windowEnd <= now) ended.push(k);
    });
    for (const k of ended) {
      const s = open.delete(k);
      if (s !== undefined) closeSighting(s);
    }
  }

  return {
    observe(o) {
      if (o.intel < 0) return;
      const now = packetSeconds(o.tsSec, o.tsNsec);
      sweep(now);
      const rule = intelRule(o);
      const key = `${o.srcIp}|${entries[o.intel].type}:${entries[o.intel].indicator}|${rule.id}`;
      const name = observedName(o);
      const open = sightings();
      const s = open.get(key);
      if (s !== undefined && now < s.windowEnd) {
        s.repeats++;
        s.lastSec = o.tsSec;
        s.lastNsec = o.tsNsec;
        if (s.names.length < MAX_NAMES && !s.names.includes(name)) s.names.push(name);
        return;
      }
      if (s !== undefined) {
        open.delete(key);
        closeSighting(s);
      }
      const fresh: Sighting = { rule, first: o, entry: entries[o.intel], windowEnd: now + policy.intel.repeatWindow, repeats: 0, lastSec: o.tsSec, lastNsec: o.tsNsec, names: [name] };
      open.set(key, fresh);
      emit(alertDoc(fresh, false));
    },
    reload(e, p) {
      entries = e;
      policy = p;
    },
    tick: (now) => sweep(now),
    finish(late) {
      if (open === null) return;
      // Close in the order the sightings began, so the output does not depend on the cache's order.
      const all: Sighting[] = [];
      open.forEachNewestFirst((s) => all.push(s));
      all.sort((a, b) => a.first.ordinal - b.first.ordinal);
      open = null;
      for (const s of all) {
        if (s.repeats === 0) continue;
        const o = s.first;
        late({
          at: isoTime(s.lastSec, s.lastNsec),
          head: { ruleId: s.rule.id, sourceIp: o.srcIp, indicator: s.entry.indicator, start: isoTime(o.tsSec, o.tsNsec) },
          build: () => alertDoc(s, true),
        });
      }
    },
  };
}
