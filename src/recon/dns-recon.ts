import { dnsRcodeName, dnsTypeName, QTYPE_AXFR, QTYPE_IXFR, QTYPE_PTR, RCODE_NXDOMAIN } from '../app/dns/dns';
import { alertEnvelope, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { DnsReconPolicy, DnsReconTool } from '../config/rules';
import type { DnsQueryObservation, DnsResponseObservation } from '../core/observation';
import type { Severity } from '../intel/domains';
import { packetSeconds } from '../core/time';

/** Public contract: rule.id values of DNS reconnaissance alerts and their picket.branch labels. */
const DNS_RECON_RULES = {
  axfr: { id: 'dns.axfr', name: 'DNS zone transfer request', branch: 'DNSZoneTransfer' },
  ptr: { id: 'dns.ptr_sweep', name: 'Reverse DNS sweep of an address block', branch: 'DNSReverseSweep' },
  brute: { id: 'dns.bruteforce', name: 'DNS subdomain brute force', branch: 'DNSSubdomainBruteForce' },
} as const;
type ReconKind = keyof typeof DNS_RECON_RULES;

/** One client's lookups of one kind under one parent (a /24's reverse zone, a domain, a zone transferred). */
interface Episode {
  kind: ReconKind;
  client: string;
  parent: string;
  first: [number, number];
  last: [number, number];
  lastTs: number;
  firstTs: number;
  /** Distinct names (capped); `distinct` goes on counting past the cap. */
  names: Set<string>;
  distinct: number;
  queries: number;
  nxdomain: number;
  /** Answers with records: reverse names that resolved, a zone that was transferred. */
  answered: number;
  /** Outcomes of a zone transfer's requests (axfr episodes only: made at the first). */
  rcodes: Map<string, number> | null;
  /**
   * Servers asked, and TXIDs, in the order first seen (capped, so arrays: an NXDOMAIN storm from many clients makes
   * an episode per client and domain, and three collections each were a third of its replay in garbage).
   */
  servers: string[];
  /** TXIDs seen: nmap's dns-brute sends every query with id 1, its zone transfer with 0xDEAD. */
  ids: number[];
  /** The last TXID and how many queries carried the one after the previous (nmap's resolver counts up). */
  lastId: number;
  sequentialIds: number;
  alertedAt: number;
}

/** A zone transfer request waiting for its response. */
interface PendingTransfer {
  o: DnsQueryObservation;
  ts: number;
}

const MAX_NAMES = 4096;
const SAMPLES = 10;
const MAX_IDS = 8;
const SWEEP_EVERY_SEC = 10;

export interface DnsReconDetector {
  query(o: DnsQueryObservation): void;
  response(o: DnsResponseObservation): void;
  finish(): void;
  tick(now: number): void;
  reload(policy: DnsReconPolicy): void;
}

/**
 * Zone transfers, reverse sweeps and subdomain brute force, from DNS questions and the answers that matter
 * (NXDOMAIN, PTR, AXFR/IXFR), per client: one alert when an episode crosses its threshold (a transfer: when
 * its answer arrives), an update when it has doubled, a summary when it goes quiet. Memory: at most
 * max_tracked episodes, each with at most MAX_NAMES names.
 */
export function createDnsReconDetector(policy: DnsReconPolicy, observer: ObserverInfo, emit: (doc: EcsDoc) => void): DnsReconDetector {
  const episodes = new Map<string, Episode>();
  const transfers = new Map<string, PendingTransfer>();
  let lastSweep = -Infinity;

  function episode(kind: ReconKind, client: string, parent: string, o: { tsSec: number; tsNsec: number }): Episode {
    const key = `${kind}|${client}|${parent}`;
    let e = episodes.get(key);
    if (e !== undefined) return e;
    if (episodes.size >= policy.maxTracked) {
      const victims: Episode[] = [];
      for (const v of episodes.values()) {
        victims.push(v);
        if (victims.length >= Math.max(1, Math.floor(policy.maxTracked / 10))) break;
      }
      for (const v of victims) close(v);
    }
    const ts = packetSeconds(o.tsSec, o.tsNsec);
    e = {
      kind, client, parent, first: [o.tsSec, o.tsNsec], last: [o.tsSec, o.tsNsec], firstTs: ts, lastTs: ts, names: new Set(), distinct: 0,
      queries: 0, nxdomain: 0, answered: 0, rcodes: null, servers: [], ids: [], lastId: -1, sequentialIds: 0, alertedAt: 0,
    };
    episodes.set(key, e);
    return e;
  }

  function touch(e: Episode, o: DnsQueryObservation | DnsResponseObservation, name: string | null): boolean {
    e.last = [o.tsSec, o.tsNsec];
    e.lastTs = packetSeconds(o.tsSec, o.tsNsec);
    if (e.servers.length < SAMPLES && !e.servers.includes(o.dstIp)) e.servers.push(o.dstIp);
    // A response carries its query's id: brute-force episodes, fed by NXDOMAIN answers, see the ids that way.
    if (e.ids.length < MAX_IDS && !e.ids.includes(o.id)) e.ids.push(o.id);
    if (o.id === ((e.lastId + 1) & 0xffff)) e.sequentialIds++;
    e.lastId = o.id;
    if (name === null || e.names.has(name)) return false;
    if (e.names.size < MAX_NAMES) e.names.add(name);
    e.distinct++;
    return true;
  }

  function judge(e: Episode): void {
    const threshold = e.kind === 'ptr' ? policy.ptrSweepAddresses : policy.bruteforceNames;
    const measure = e.distinct;
    if (measure < threshold) return;
    if (e.alertedAt === 0) {
      e.alertedAt = measure;
      emit(alertDoc(e, false, false));
    } else if (measure >= 2 * e.alertedAt) {
      e.alertedAt = measure;
      emit(alertDoc(e, true, false));
    }
  }

  function close(e: Episode): void {
    episodes.delete(`${e.kind}|${e.client}|${e.parent}`);
    if (e.alertedAt > 0 && (e.kind !== 'axfr' || e.queries > 1)) emit(alertDoc(e, true, true));
  }

  function settleTransfer(key: string, p: PendingTransfer, r: DnsResponseObservation | null): void {
    transfers.delete(key);
    const o = p.o;
    const e = episode('axfr', o.srcIp, o.name, o);
    e.queries++;
    touch(e, o, `${dnsTypeName(o.qtype)} ${o.name}`);
    const code = r === null ? 'no response' : dnsRcodeName(r.rcode);
    e.rcodes ??= new Map();
    e.rcodes.set(code, (e.rcodes.get(code) ?? 0) + 1);
    if (r !== null && r.rcode === 0 && r.ancount > 0) e.answered++;
    // Every transfer attempt of a new zone alerts once its outcome is known; repeats fold into the summary.
    if (e.alertedAt === 0) {
      e.alertedAt = 1;
      emit(alertDoc(e, false, false, o.qtype, code));
    }
  }

  function sweep(now: number): void {
    if (now - lastSweep < SWEEP_EVERY_SEC) return;
    lastSweep = now;
    for (const [k, p] of [...transfers]) if (now - p.ts >= policy.axfrReplyTimeout) settleTransfer(k, p, null);
    for (const e of [...episodes.values()]) if (now - e.lastTs >= policy.window || now - e.firstTs >= policy.maxAge) close(e);
  }

  /** The tool a client's queries name by their transaction ids (rules/dns-recon.yaml tools), or null. */
  function toolOf(e: Episode): DnsReconTool | null {
    for (const t of policy.tools) {
      if (t.rule !== DNS_RECON_RULES[e.kind].id || e.queries < t.minQueries) continue;
      const ids = t.transactionIds;
      if (ids === 'sequential' ? e.sequentialIds >= e.queries - 2 : e.ids.every((id) => ids.includes(id))) return t;
    }
    return null;
  }

  function alertDoc(e: Episode, update: boolean, final: boolean, qtype = 0, outcome = ''): EcsDoc {
    const r = DNS_RECON_RULES[e.kind];
    const tool = toolOf(e);
    const transferred = e.kind === 'axfr' && e.answered > 0;
    const severity: Severity = transferred ? 'high' : 'medium';
    const description = e.kind === 'axfr'
      ? `${e.client} asked ${[...e.servers].join(', ')} for a transfer of zone ${e.parent}${transferred ? ', and got it' : outcome !== '' ? ` (${outcome})` : ''}`
      : e.kind === 'ptr'
        ? `${e.client} resolved the reverse names of ${e.distinct} addresses under ${e.parent}`
        : `${e.client} asked for ${e.distinct} subdomains of ${e.parent} that do not exist`;
    const doc = alertEnvelope({ id: r.id, name: r.name, category: 'dns-reconnaissance', description }, 'T1590.002', severity, e.first, e.last, observer);
    const rcodes = Object.fromEntries(e.rcodes ?? []);
    return {
      ...doc,
      ...(tool !== null ? { threat: { ...(doc.threat as EcsDoc), software: { name: tool.tool, type: 'Tool' } } } : {}),
      source: { ip: e.client },
      destination: { ip: e.servers[0], ...(e.kind !== 'ptr' ? { domain: e.parent } : {}) },
      related: { ip: [e.client, ...e.servers] },
      network: { protocol: 'dns' },
      dns: {
        question: { name: e.parent, ...(e.kind === 'axfr' && qtype !== 0 ? { type: dnsTypeName(qtype) } : e.kind === 'ptr' ? { type: 'PTR' } : {}) },
        ...(e.kind === 'axfr' && outcome !== '' && outcome !== 'no response' ? { response_code: outcome } : {}),
      },
      picket: {
        branch: r.branch, severity, update, final,
        dns_recon: {
          names: e.distinct,
          queries: e.queries,
          nxdomain: e.nxdomain,
          answered: e.answered,
          ...(e.kind === 'axfr' ? { transferred, outcomes: rcodes } : {}),
          servers: [...e.servers],
          sample_names: [...e.names].slice(0, SAMPLES),
          transaction_ids: [...e.ids],
          ...(tool !== null ? { tool: { name: tool.tool, why: tool.why, rule: `${tool.file}:${tool.line}` } } : {}),
          duration_seconds: Number((e.lastTs - e.firstTs).toFixed(3)),
        },
      },
    };
  }

  /** The /24 (in-addr.arpa) or /64 (ip6.arpa) reverse zone a PTR name is under, or null for other names. */
  function reverseBlock(name: string): string | null {
    if (name.endsWith('.in-addr.arpa')) {
      const labels = name.split('.');
      return labels.length === 6 ? labels.slice(1).join('.') : null;
    }
    if (name.endsWith('.ip6.arpa')) {
      const labels = name.split('.');
      return labels.length === 34 ? labels.slice(16).join('.') : null;
    }
    return null;
  }

  /**
   * The parent a brute-forced name is tried under: the name less its first label. Not for names of one or two
   * labels (a TLD or a registered domain itself), reverse names, parents the policy ignores (blocklists), or
   * numeric labels under numeric labels (an address reversed under some zone, as blocklist lookups are).
   */
  function bruteParent(name: string): string | null {
    const dot = name.indexOf('.');
    if (dot <= 0) return null;
    const parent = name.slice(dot + 1);
    if (!parent.includes('.') || parent.endsWith('.arpa') || parent === 'arpa') return null;
    for (const ig of policy.ignoreParents) if (parent === ig || parent.endsWith(`.${ig}`)) return null;
    if (/^\d+$/.test(name.slice(0, dot)) && /^\d+\./.test(parent)) return null;
    return parent;
  }

  return {
    query(o) {
      const now = packetSeconds(o.tsSec, o.tsNsec);
      sweep(now);
      if (o.qtype === QTYPE_AXFR || o.qtype === QTYPE_IXFR) {
        const key = `${o.srcIp}|${o.dstIp}|${o.id}|${o.qtype}|${o.name}`;
        if (!transfers.has(key)) transfers.set(key, { o, ts: now });
        return;
      }
      if (o.qtype !== QTYPE_PTR) return;
      const block = reverseBlock(o.name);
      if (block === null) return;
      const e = episode('ptr', o.srcIp, block, o);
      e.queries++;
      if (touch(e, o, o.name)) judge(e);
    },
    response(o) {
      const now = packetSeconds(o.tsSec, o.tsNsec);
      sweep(now);
      if (o.qtype === QTYPE_AXFR || o.qtype === QTYPE_IXFR) {
        const key = `${o.srcIp}|${o.dstIp}|${o.id}|${o.qtype}|${o.name}`;
        const p = transfers.get(key);
        if (p !== undefined) settleTransfer(key, p, o);
        return;
      }
      if (o.qtype === QTYPE_PTR) {
        const block = reverseBlock(o.name);
        const e = block === null ? undefined : episodes.get(`ptr|${o.srcIp}|${block}`);
        if (e === undefined) return;
        if (o.rcode === 0 && o.ancount > 0) e.answered++;
        else if (o.rcode === RCODE_NXDOMAIN) e.nxdomain++;
        return;
      }
      if (o.rcode !== RCODE_NXDOMAIN) return;
      const parent = bruteParent(o.name);
      if (parent === null) return;
      const e = episode('brute', o.srcIp, parent, o);
      e.nxdomain++;
      e.queries++;
      if (touch(e, o, o.name)) judge(e);
    },
    finish() {
      for (const [k, p] of [...transfers]) settleTransfer(k, p, null);
      for (const e of [...episodes.values()]) close(e);
    },
    reload(p) {
      policy = p;
    },
    tick: (now) => sweep(now),
  };
}
