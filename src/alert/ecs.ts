import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { dnsRcodeName, dnsTypeName } from '../app/dns/dns';
import { threatFields } from './mitre';
import type { Severity } from '../intel/domains';
import { observedName, type AppObservation, type DnsQueryObservation, type EngineStats, type IntelObservation as Observation, type ObservationBase, type TunnelInfo } from '../core/observation';
import { unicodeName } from '../intel/domains';
import { DECODE_EVENT_NAMES, isDecodeError, withFileEvents } from '../decode/events';
import { MAX_TS_SEC } from '../capture/batch';

export type EcsDoc = Record<string, unknown>;

/**
 * The ECS version every document claims. Pinned, not "latest": test/fixtures/ecs-8.17.0-fields.json is this
 * version's field list, and the tests hold every document to it.
 */
export const ECS_VERSION = '8.17.0';

/** ECS event.severity for a severity word, on Elastic's risk scale. */
export const SEVERITY_SCORE: Record<Severity, number> = { low: 21, medium: 47, high: 73, critical: 99 };

/**
 * RFC 3339 with microseconds (Suricata's EVE precision); packet time, never the wall clock. The framers keep
 * packet times within [0, MAX_TS_SEC]; this clamps as well, because Date throws (RangeError) past year 275760 and
 * writes a six-digit "+YYYYYY" year past 9999, and one bad time must not cost the run nor reach a SIEM malformed.
 */
export function isoTime(sec: number, nsec: number): string {
  const s = sec >= 0 ? Math.min(Math.floor(sec), MAX_TS_SEC) : 0; // NaN fails >= too
  const us = nsec >= 0 ? Math.min(Math.floor(nsec / 1000), 999999) : 0;
  return `${secondText(s)}.${String(us).padStart(6, '0')}Z`;
}

/**
 * "YYYY-MM-DDTHH:MM:SS" of a whole second, from a small direct-mapped cache of seconds: an alert carries three
 * times, a burst of alerts shares its seconds, and updates of older windows interleave with new alerts. A Date made
 * and formatted each time was 2.7 us a call (bench/RESULTS.md, "Alert storms").
 */
const SECOND_SLOTS = 64;
const cachedSeconds = new Float64Array(SECOND_SLOTS).fill(-1);
const cachedSecondTexts: string[] = new Array<string>(SECOND_SLOTS).fill('');
function secondText(s: number): string {
  const slot = s % SECOND_SLOTS;
  if (cachedSeconds[slot] !== s) {
    cachedSecondTexts[slot] = new Date(s * 1000).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS.mmmZ for years 0000-9999
    cachedSeconds[slot] = s;
  }
  return cachedSecondTexts[slot];
}

/**
 * What every behavioural alert (scans, DNS reconnaissance) shares: event, rule, threat and observer, with the
 * time span of what it describes; the caller adds source/destination and picket.*.
 */
export function alertEnvelope(
  rule: { id: string; name: string; category: string; description: string }, technique: string, severity: Severity,
  first: [number, number], last: [number, number], observer: ObserverInfo,
): EcsDoc {
  return {
    '@timestamp': isoTime(last[0], last[1]),
    event: {
      kind: 'alert', category: ['network', 'intrusion_detection'], type: ['info'], severity: SEVERITY_SCORE[severity], module: 'picket',
      dataset: 'picket.alert', start: isoTime(first[0], first[1]), end: isoTime(last[0], last[1]),
    },
    rule: { ...rule, ruleset: 'picket' },
    threat: threatFields(technique),
    observer: observerFields(observer),
  };
}

/**
 * related.ip: every address an alert names (source, destination, a scan's sampled targets, a distributed scan's
 * sampled sources), so that a SIEM pivots on one field. Added to what the detector put there, once each.
 */
export function withRelated(doc: EcsDoc): EcsDoc {
  const ips = new Set<string>();
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v !== '') ips.add(v);
  };
  const addAll = (v: unknown): void => {
    if (Array.isArray(v)) for (const x of v) add(x);
  };
  const field = (o: unknown, k: string): unknown => (o !== null && typeof o === 'object' ? (o as EcsDoc)[k] : undefined);
  addAll(field(doc.related, 'ip'));
  add(field(doc.source, 'ip'));
  add(field(doc.destination, 'ip'));
  const scan = field(doc.picket, 'scan');
  addAll(field(scan, 'sample_hosts'));
  addAll(field(scan, 'sample_sources'));
  if (ips.size === 0) return doc;
  return { ...doc, related: { ...((doc.related as EcsDoc | undefined) ?? {}), ip: [...ips] } };
}

export interface ObserverInfo {
  version: string;
  hostname: string;
  /** The sensor's name in a fleet (--sensor-name): ECS observer.name. */
  name?: string;
}

export function observerInfo(version: string, name?: string): ObserverInfo {
  return name === undefined ? { version, hostname: os.hostname() } : { version, hostname: os.hostname(), name };
}

export function observerFields(o: ObserverInfo): EcsDoc {
  const f: EcsDoc = { type: 'sensor', vendor: 'picket', product: 'picket', version: o.version, hostname: o.hostname };
  if (o.name !== undefined) f.name = o.name;
  return f;
}

const PROTOCOL: Record<Observation['kind'], string> = { dns_query: 'dns', tls_client_hello: 'tls', http_request: 'http', conn: '' };

/**
 * picket.tunnel: the tunnel a packet came in (ECS has no field for a VNI or an ERSPAN session, nor for the
 * endpoints of a packet's carrier: source/destination are the inner packet's). Empty for a packet captured directly.
 */
export function tunnelFields(t: TunnelInfo | undefined): EcsDoc {
  if (t === undefined) return {};
  return {
    tunnel: {
      kind: t.kind, depth: t.depth, ...(t.id >= 0 ? { id: t.id } : {}),
      ...(t.outerSrcIp !== undefined ? { outer_source_ip: t.outerSrcIp, outer_destination_ip: t.outerDstIp } : {}),
    },
  };
}

/** The network.* of one observed packet. */
export function networkFields(o: Observation): EcsDoc {
  return baseNetworkFields(o, networkProtocol(o));
}

function baseNetworkFields(o: ObservationBase, protocol: string): EcsDoc {
  const net: EcsDoc = { transport: o.transport, type: o.ipVersion === 6 ? 'ipv6' : 'ipv4', direction: o.direction };
  if (protocol !== '') net.protocol = protocol;
  if (o.vlan >= 0) net.vlan = { id: String(o.vlan) };
  return net;
}

/** ECS network.protocol: the application protocol seen; for intel.conn, what its first bytes were, if known. */
function networkProtocol(o: Observation): string {
  if (o.kind === 'tls_client_hello') return o.quic ? 'quic' : 'tls';
  if (o.kind === 'conn') return o.firstBytes === 'tls' || o.firstBytes === 'http' || o.firstBytes === 'quic' ? o.firstBytes : '';
  if (o.kind === 'dns_query' && o.protocol !== undefined) return o.protocol;
  return PROTOCOL[o.kind];
}

const DNS_OPCODE_NAMES: Record<number, string> = { 1: 'IQUERY', 2: 'STATUS', 4: 'NOTIFY', 5: 'UPDATE', 6: 'DSO' };

/** ECS dns.*: the question; for an mDNS/LLMNR response, type answer, its response code and answers' names. */
export function dnsQuestionFields(o: DnsQueryObservation): EcsDoc {
  // ECS dns.id is a keyword: the transaction id as a string, as Packetbeat writes it.
  const question = o.name !== '' ? { question: { name: o.name, type: dnsTypeName(o.qtype) } } : {};
  // ECS dns.op_code, only when not a standard query (what every other event is).
  if (o.opcode !== undefined) return { type: 'query', id: String(o.id), op_code: DNS_OPCODE_NAMES[o.opcode] ?? String(o.opcode), ...question };
  if (o.response === undefined) return { type: 'query', id: String(o.id), ...question };
  return {
    type: 'answer', id: String(o.id), ...question, response_code: dnsRcodeName(o.response.rcode),
    ...(o.response.answers.length > 0 ? { answers: o.response.answers.map((a) => ({ name: a.name, type: dnsTypeName(a.type) })) } : {}),
  };
}

const TLS_VERSIONS: Record<number, string> = { 0x0300: '3.0', 0x0301: '1.0', 0x0302: '1.1', 0x0303: '1.2', 0x0304: '1.3' };

/**
 * The ECS fields of what an observation saw: dns.*, tls.client.*, url.* / http.* / user_agent.*, and
 * destination.domain where a name was seen (the queried name, the SNI, the Host).
 */
export function protocolFields(o: Observation): EcsDoc {
  const destination: EcsDoc = { ip: o.dstIp, port: o.dstPort };
  const doc: EcsDoc = { source: { ip: o.srcIp, port: o.srcPort }, destination };
  switch (o.kind) {
    case 'dns_query':
      if (o.name !== '') destination.domain = o.name;
      doc.dns = dnsQuestionFields(o);
      break;
    case 'tls_client_hello': {
      if (o.sni !== null) destination.domain = o.sni;
      // JA4 and the offered ALPN protocols have no ECS field: they are picket.tls.* (see nameExtras).
      const tls: EcsDoc = {};
      if (o.sni !== null) tls.client = { server_name: o.sni };
      const v = TLS_VERSIONS[o.version];
      if (v !== undefined) {
        tls.version = v;
        tls.version_protocol = 'tls';
      }
      if (Object.keys(tls).length > 0) doc.tls = tls;
      break;
    }
    case 'http_request':
      if (o.host !== '') destination.domain = o.host;
      doc.url = { ...(o.host !== '' ? { domain: o.host } : {}), path: o.path, original: o.path };
      doc.http = { request: { method: o.method }, version: o.httpVersion.slice(5) };
      if (o.userAgent !== '') doc.user_agent = { original: o.userAgent };
      break;
    case 'conn':
      if (o.resolvedName !== '') destination.domain = o.resolvedName;
      break;
  }
  return doc;
}

/**
 * picket.* facts of an observation that ECS has no field for: the Unicode form of an internationalised name (the
 * ECS fields keep the wire form), and a ClientHello's JA4 and offered ALPN protocols (picket.tls.*).
 */
export function nameExtras(o: Observation): EcsDoc {
  const extras: EcsDoc = {};
  const u = unicodeName(observedName(o));
  if (u !== null) extras.name_unicode = u;
  if (o.kind === 'tls_client_hello') extras.tls = { ja4: o.ja4, ...(o.alpn.length > 0 ? { supported_protocols: o.alpn } : {}) };
  return extras;
}

const DATASET: Record<Observation['kind'], string> = { dns_query: 'picket.dns', tls_client_hello: 'picket.tls', http_request: 'picket.http', conn: 'picket.conn' };

/** The protocol event for one observation (--metadata): one per DNS query, ClientHello and HTTP request. */
export function protocolEvent(o: Observation, obs: ObserverInfo): EcsDoc {
  return {
    '@timestamp': isoTime(o.tsSec, o.tsNsec),
    event: { kind: 'event', category: ['network'], type: ['protocol', 'info'], module: 'picket', dataset: o.kind === 'tls_client_hello' && o.quic ? 'picket.quic' : DATASET[o.kind] },
    ...protocolFields(o),
    network: networkFields(o),
    observer: observerFields(obs),
    // An UPDATE's prerequisite and update names have no ECS field: picket.dns.update.*.
    picket: { packet: o.ordinal + 1, ...tunnelFields(o.tunnel), ...nameExtras(o), ...(o.kind === 'dns_query' && o.update !== undefined ? { dns: { update: o.update } } : {}) },
  };
}

/**
 * The protocol event for a message of a protocol that ECS has no fields for (--metadata): its fields under
 * picket.<protocol>, dataset picket.<protocol>.
 */
export function appEvent(o: AppObservation, obs: ObserverInfo): EcsDoc {
  return {
    '@timestamp': isoTime(o.tsSec, o.tsNsec),
    event: { kind: 'event', category: ['network'], type: ['protocol', 'info'], module: 'picket', dataset: `picket.${o.protocol}` },
    source: { ip: o.srcIp, port: o.srcPort },
    destination: { ip: o.dstIp, port: o.dstPort },
    network: baseNetworkFields(o, o.protocol),
    observer: observerFields(obs),
    picket: { packet: o.ordinal + 1, ...tunnelFields(o.tunnel), [o.protocol]: o.fields },
  };
}

/**
 * The sensor's own counters at the end of a run (event.kind: metric, picket.stats.*), so that decode errors, cut
 * files and alert counts reach the SIEM beside the alerts.
 */
/** What the alerting stage counted, for the final counters. */
export interface AlertCounts {
  alertsByRule(): Map<string, number>;
  allowlistedByRule(): Map<string, number>;
  /** Scan sources summarised early because max_sources was reached. */
  scanSourcesEvicted(): number;
}

/** What the final counters need of a file's report (live capture has none). */
export interface FileCounts {
  truncated: boolean;
  error: string | null;
  /** Damage that cost no packets, such as a bad gzip trailer. */
  damage: string | null;
  /** Decode events the framer counted (DecodeEvent codes). */
  decode: readonly number[];
}

export function statsDoc(stats: EngineStats, files: FileCounts[], counts: AlertCounts, obs: ObserverInfo): EcsDoc {
  const alerts = counts.alertsByRule();
  const allowlisted = counts.allowlistedByRule();
  const decode: Record<string, number> = {};
  let errors = 0;
  withFileEvents(stats.decode, files).forEach((n, code) => {
    if (n === 0) return;
    decode[DECODE_EVENT_NAMES[code]] = n;
    if (isDecodeError(code)) errors += n;
  });
  // A run that saw no packets has no packet time: the wall clock then, never 1970-01-01.
  const now = Date.now() / 1000;
  const first = Number.isFinite(stats.firstTs) ? stats.firstTs : now;
  const last = Number.isFinite(stats.lastTs) ? stats.lastTs : first;
  const iso = (t: number): string => isoTime(Math.floor(t), Math.round((t - Math.floor(t)) * 1e6) * 1000);
  return {
    '@timestamp': iso(last),
    event: { kind: 'metric', category: ['network'], type: ['info'], module: 'picket', dataset: 'picket.stats', start: iso(first), end: iso(last) },
    observer: observerFields(obs),
    picket: {
      stats: {
        files: files.length,
        files_truncated: files.filter((f) => f.truncated).length,
        files_corrupt: files.filter((f) => f.error !== null).length,
        files_damaged: files.filter((f) => f.damage !== null).length,
        packets: stats.packets,
        bytes: stats.bytes,
        wire_bytes: stats.wireBytes,
        decode_errors: errors,
        decode,
        ...stats.app,
        connections_to_intel_addresses: stats.connections,
        connection_attempts: stats.probes,
        streams_evicted: stats.streamsEvicted,
        scan_sources_evicted: counts.scanSourcesEvicted(),
        alerts: Object.fromEntries([...alerts.entries()].sort()),
        allowlisted: Object.fromEntries([...allowlisted.entries()].sort()),
      },
    },
  };
}

/** The ECS facts of the interface a live capture's documents came in on (observer.ingress.*). */
export interface Ingress {
  interface: string;
}

/** Nanoseconds from event.start to event.end, from isoTime's microsecond strings (Date keeps only ms). */
function durationNs(start: string, end: string): number | null {
  const a = isoMicros(start);
  const b = start === end ? a : isoMicros(end);
  return a === null || b === null || b < a ? null : (b - a) * 1000;
}

/** Microseconds of an isoTime string, or null; whole seconds' parses are remembered (bounded, as in secondText). */
const parsedHeads = new Map<string, number>();
function isoMicros(t: string): number | null {
  const head = t.slice(0, 19);
  let ms = parsedHeads.get(head);
  if (ms === undefined) {
    if (parsedHeads.size >= 4096) parsedHeads.clear();
    ms = Date.parse(`${head}Z`);
    parsedHeads.set(head, ms);
  }
  const frac = /^\.(\d{6})Z$/.exec(t.slice(19));
  return Number.isFinite(ms) && frac !== null ? ms * 1000 + Number(frac[1]) : null;
}

/**
 * What makes each document exact ECS at the one place every document passes before output: ecs.version, a unique
 * event.id, event.duration where the document spans time, and the capture interface (fixed, or asked for each
 * document when a capture has several). event.id is a random
 * 128-bit run id (hex) and the document's sequence number in the run: unique across runs without coordination,
 * and the sequence keeps one run's documents in the order they were written.
 */
export function createEcsStamper(ingress: Ingress | (() => Ingress | null) | null = null): (doc: EcsDoc) => EcsDoc {
  const run = randomBytes(16).toString('hex');
  let seq = 0;
  return (doc) => {
    const event = (doc.event ?? {}) as EcsDoc;
    event.id = `${run}-${seq++}`;
    if (typeof event.start === 'string' && typeof event.end === 'string' && event.duration === undefined) {
      const ns = durationNs(event.start, event.end);
      if (ns !== null) event.duration = ns;
    }
    doc.event = event;
    doc.ecs = { version: ECS_VERSION };
    const from = typeof ingress === 'function' ? ingress() : ingress;
    if (from !== null) {
      const observer = (doc.observer ?? {}) as EcsDoc;
      observer.ingress = { interface: { name: from.interface } };
      doc.observer = observer;
    }
    return doc;
  };
}
