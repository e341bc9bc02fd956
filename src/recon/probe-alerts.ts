import { alertEnvelope, tunnelFields, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import type { SignatureObservation } from '../core/observation';
import type { Signature } from './signatures';
import { packetSeconds } from '../core/time';

/** Public contract: the probe.* rule ids picket ships, their names and picket.branch labels (users may add their own probe.* ids). */
const PROBE_RULES: Record<string, { name: string; branch: string }> = {
  'probe.nmap_http': { name: 'Nmap HTTP probe', branch: 'NmapHTTPProbe' },
  'probe.nmap_smb': { name: 'Nmap SMB script running', branch: 'NmapSMBScript' },
  'probe.scanner_ua': { name: 'Scanner identified by its User-Agent or RDP cookie', branch: 'ScannerUserAgent' },
  'probe.scanner_ssh': { name: 'Scanner identified by its SSH client', branch: 'ScannerSSHClient' },
};

/** One client's matches of one rule and tool within the repeat window. */
interface Sighting {
  first: SignatureObservation;
  sig: Signature;
  windowEnd: number;
  count: number;
  last: [number, number];
  signatures: Set<string>;
  servers: Set<string>;
}

const MAX_LISTED = 16;
const MAX_OPEN = 50000;

/**
 * Probe signature matches -> alerts: the first match per (client, rule, tool) alerts at once; later ones within
 * the repeat window are counted, and one update alert (count, signatures, servers, span) goes out when the window
 * closes or input ends.
 */
export function createProbeAlerter(sigs: readonly Signature[], repeatWindow: number, observer: ObserverInfo, emit: (doc: EcsDoc) => void): {
  observe(o: SignatureObservation): void;
  finish(): void;
  tick(now: number): void;
  reload(sigs: readonly Signature[], repeatWindow: number): void;
} {
  const open = new Map<string, Sighting>();
  let lastSweep = -Infinity;

  function close(key: string, s: Sighting): void {
    open.delete(key);
    if (s.count > 1) emit(alertDoc(s, true));
  }

  function alertDoc(s: Sighting, update: boolean): EcsDoc {
    const o = s.first;
    const sig = s.sig;
    const r = PROBE_RULES[sig.rule] ?? { name: sig.rule, branch: 'ProbeSignature' };
    const description = `${o.srcIp} sent ${sig.tool}'s ${sig.description !== '' ? sig.description : sig.id} to ${o.dstIp}:${o.dstPort}${update ? ` (${s.count} times)` : ''}`;
    const doc = alertEnvelope({ id: sig.rule, name: r.name, category: 'scanner-probe', description }, sig.technique, 'medium', [o.tsSec, o.tsNsec], s.last, observer);
    const http = o.httpPath !== '' || o.userAgent !== '';
    const protocol = http ? 'http' : o.app?.protocol;
    return {
      ...doc,
      threat: { ...(doc.threat as EcsDoc), software: { name: sig.tool, type: 'Tool' } },
      source: { ip: o.srcIp, port: o.srcPort },
      destination: { ip: o.dstIp, port: o.dstPort },
      network: { transport: 'tcp', direction: o.direction, ...(protocol !== undefined ? { protocol } : {}) },
      ...(http ? { url: { path: o.httpPath, original: o.httpPath }, http: { request: { method: o.httpMethod } } } : {}),
      ...(o.userAgent !== '' ? { user_agent: { original: o.userAgent } } : {}),
      picket: {
        branch: r.branch, severity: 'medium', update, count: s.count, packet: o.ordinal + 1, ...tunnelFields(o.tunnel),
        signature: { id: sig.id, description: sig.description, where: sig.where, excerpt: o.excerpt, rule: `${sig.file}:${sig.line}` },
        signatures: [...s.signatures],
        servers: [...s.servers],
        ...(o.app !== undefined ? { [o.app.protocol]: o.app.fields } : {}),
      },
    };
  }

  function sweep(now: number): void {
    if (now - lastSweep < 60) return;
    lastSweep = now;
    for (const [k, s] of [...open]) if (s.windowEnd <= now) close(k, s);
  }

  return {
    observe(o) {
      const now = packetSeconds(o.tsSec, o.tsNsec);
      sweep(now);
      const sig = sigs[o.signature];
      const key = `${o.srcIp}|${sig.rule}|${sig.tool}`;
      const s = open.get(key);
      if (s !== undefined && now < s.windowEnd) {
        s.count++;
        s.last = [o.tsSec, o.tsNsec];
        if (s.signatures.size < MAX_LISTED) s.signatures.add(sig.id);
        if (s.servers.size < MAX_LISTED) s.servers.add(`${o.dstIp}:${o.dstPort}`);
        return;
      }
      if (s !== undefined) close(key, s);
      if (open.size >= MAX_OPEN) {
        const [k0, s0] = open.entries().next().value as [string, Sighting];
        close(k0, s0);
      }
      const fresh: Sighting = {
        first: o, sig, windowEnd: now + repeatWindow, count: 1, last: [o.tsSec, o.tsNsec], signatures: new Set([sig.id]), servers: new Set([`${o.dstIp}:${o.dstPort}`]),
      };
      open.set(key, fresh);
      emit(alertDoc(fresh, false));
    },
    finish() {
      for (const [k, s] of [...open]) close(k, s);
    },
    reload(s, w) {
      sigs = s;
      repeatWindow = w;
    },
    tick: (now) => sweep(now),
  };
}
