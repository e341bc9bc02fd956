import type { Rules } from '../config/rules';
import type { ScanRecord } from '../core/scan-record';
import type { EngineSink } from './engine';
import type { Output } from '../output/writer';
import { appEvent, protocolEvent, withRelated, type AlertCounts, type EcsDoc, type ObserverInfo } from '../alert/ecs';
import { createIntelAlerter, type AlertHead, type LateAlert } from '../alert/intel-alerts';
import { findAllowing } from '../alert/allowlist';
import { createScanAggregator, type SummaryHook } from '../scan/aggregator';
import { createDnsReconDetector } from '../recon/dns-recon';
import { createProbeAlerter } from '../recon/probe-alerts';
import { isReconQtype } from '../app/dns/dns';
import { makeRoom } from '../util/bounded';

export interface AlertPipeline extends AlertCounts, EngineSink {
  /** Closes open aggregations (end of input) and flushes the output. */
  finish(): void;
  /** Live capture on a quiet link: let windows and idle timers run to `now` (seconds) without packets. */
  tick(now: number): void;
  /** New rules (SIGHUP): the detectors keep their state and judge from now on by the new rules. */
  reload(rules: Rules): void;
}

/** Observations in input order -> protocol events (with --metadata) and aggregated ECS alerts -> the output. */
export function createAlertPipeline(rules: Rules, observer: ObserverInfo, out: Output, metadata: boolean, summaries: SummaryHook | null = null): AlertPipeline {
  const byRule = new Map<string, number>();
  const allowed = new Map<string, number>();
  /**
   * Clients of the intel alerts so far (bounded by intel.max_tracked, the oldest forgotten first): a scan that then
   * fails against one of them names the lookup.
   */
  const intelClients = new Map<string, string>();
  /** While the detectors summarise at the end: their documents, to be written in time order. */
  let closing: EcsDoc[] | null = null;
  /** Counts an alert, or its allowlisting (false: it is not written); an intel alert's client is remembered. */
  const book = (h: AlertHead): boolean => {
    const id = h.ruleId;
    // The alert's time is parsed back from its text only when there are allowlist entries to hold it against.
    if (rules.allow.length > 0 && findAllowing(rules.allow, id, h.sourceIp, h.indicator, Date.parse(h.start) / 1000) !== null) {
      allowed.set(id, (allowed.get(id) ?? 0) + 1);
      return false;
    }
    byRule.set(id, (byRule.get(id) ?? 0) + 1);
    if (id.startsWith('intel.') && h.indicator !== undefined) {
      makeRoom(intelClients, rules.policy.intel.maxTracked);
      intelClients.set(h.sourceIp, h.indicator);
    }
    return true;
  };
  const emitAlert = (doc: EcsDoc): void => {
    const head: AlertHead = {
      ruleId: String((doc.rule as { id: string }).id),
      sourceIp: String((doc.source as { ip: string }).ip),
      indicator: (doc.picket as { intel?: { indicator: string } }).intel?.indicator,
      start: String((doc.event as { start: string }).start),
    };
    if (!book(head)) return;
    if (closing !== null) closing.push(withRelated(doc));
    else out.write(withRelated(doc));
  };
  const intel = createIntelAlerter(rules.intel.entries, rules.policy, observer, emitAlert);
  const scans = createScanAggregator(rules.policy.scan, rules.fingerprints, observer, emitAlert, intelClients, summaries);
  const dnsRecon = createDnsReconDetector(rules.policy.dnsRecon, observer, emitAlert);
  const probes = createProbeAlerter(rules.signatures, rules.policy.probe.repeatWindow, observer, emitAlert);
  return {
    observe(o) {
      switch (o.kind) {
        case 'dns_response':
          dnsRecon.response(o);
          return;
        case 'signature':
          probes.observe(o);
          return;
        case 'app':
          if (metadata) out.write(appEvent(o, observer));
          return;
        case 'dns_query':
          // mDNS and LLMNR questions are not reconnaissance (a DNS-SD browse is PTR questions).
          if (o.protocol === undefined && isReconQtype(o.qtype)) dnsRecon.query(o);
          break;
      }
      if (metadata) out.write(protocolEvent(o, observer));
      intel.observe(o);
    },
    scan(r: ScanRecord) {
      scans.observe(r);
    },
    finish() {
      // Every detector's summaries, merged in time order (each is stamped with its subject's last packet).
      // Intel's (up to intel.max_tracked) are booked now, in the order they close, and built as they are written;
      // on a tie in time they go first, as they were made first.
      const docs: EcsDoc[] = (closing = []);
      const late: LateAlert[] = [];
      intel.finish((d) => {
        if (book(d.head)) late.push(d);
      });
      scans.finish();
      dnsRecon.finish();
      probes.finish();
      closing = null;
      const byTime = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
      docs.sort((a, b) => byTime(String(a['@timestamp']), String(b['@timestamp'])));
      late.sort((a, b) => byTime(a.at, b.at));
      let next = 0;
      for (const d of docs) {
        const at = String(d['@timestamp']);
        while (next < late.length && late[next].at <= at) out.write(withRelated(late[next++].build()));
        out.write(d);
      }
      while (next < late.length) out.write(withRelated(late[next++].build()));
      out.flush();
    },
    alertsByRule: () => byRule,
    scanSourcesEvicted: () => scans.evictedSources(),
    tick(now) {
      intel.tick(now);
      scans.tick(now);
      dnsRecon.tick(now);
      probes.tick(now);
      out.flush();
    },
    reload(r) {
      rules = r;
      intel.reload(r.intel.entries, r.policy);
      scans.reload(r.policy.scan, r.fingerprints);
      dnsRecon.reload(r.policy.dnsRecon);
      probes.reload(r.signatures, r.policy.probe.repeatWindow);
    },
    allowlistedByRule: () => allowed,
  };
}
