import { ANALYZERS } from '../app/registry';
import { DECODE_EVENT_NAMES, isDecodeError } from '../decode/events';
import type { EngineStats } from '../core/observation';
import type { LiveStats } from '../capture/live';
import type { MetricFamily, MetricsRegistry, Sample } from '../output/metrics';
import type { SinkStats } from '../output/sinks/sink';

export const counter = (name: string, help: string): MetricFamily => ({ name, help, type: 'counter' });
export const gauge = (name: string, help: string): MetricFamily => ({ name, help, type: 'gauge' });

const F = {
  packets: counter('picket_packets_total', 'Packets decoded by the engine'),
  bytes: counter('picket_bytes_total', 'Captured bytes decoded by the engine'),
  decodeErrors: counter('picket_decode_errors_total', 'Malformed or truncated packets, by decode event (counted, not fatal)'),
  attempts: counter('picket_connection_attempts_total', 'Connection attempts seen (SYNs, new UDP flows, ICMP echo/timestamp)'),
  received: counter('picket_capture_received_total', 'Packets libpcap handed to picket, per interface'),
  kernelDrop: counter('picket_capture_kernel_dropped_total', 'Packets the kernel dropped because the capture buffer was full (pcap_stats ps_drop)'),
  ifDrop: counter('picket_capture_interface_dropped_total', 'Packets the interface or driver dropped (pcap_stats ps_ifdrop)'),
  picketDrop: counter('picket_capture_picket_dropped_total', 'Packets picket dropped because the packet path fell behind (all capture buffers with JavaScript)'),
  socketReceived: counter('picket_capture_socket_received_total', 'Packets libpcap handed to one worker\'s socket (--workers N, PACKET_FANOUT), per interface and worker'),
  socketKernelDrop: counter('picket_capture_socket_kernel_dropped_total', 'Packets the kernel dropped because one worker\'s socket buffer was full, per interface and worker'),
  socketIfDrop: counter('picket_capture_socket_interface_dropped_total', 'Interface drops as one worker\'s socket reports them, per interface and worker'),
  socketPicketDrop: counter('picket_capture_socket_picket_dropped_total', 'Packets one worker\'s capture discarded for lack of a batch buffer, per interface and worker'),
  queueDrop: counter('picket_workers_dropped_total', 'Packets dropped because every batch slot was still with the workers'),
  alerts: counter('picket_alerts_total', 'Alerts written, by rule.id'),
  allowlisted: counter('picket_allowlisted_total', 'Alerts an allowlist entry held back, by rule.id'),
  sinkUp: gauge('picket_sink_up', 'Whether an output sink delivers: 0 while its deliveries fail (retrying, spilling), 1 otherwise'),
  sinkAccepted: counter('picket_sink_accepted_total', 'Documents given to an output sink'),
  sinkDelivered: counter('picket_sink_delivered_total', 'Documents an output sink delivered'),
  sinkRetries: counter('picket_sink_retries_total', 'Failed delivery attempts that will be retried'),
  sinkFailures: counter('picket_sink_failures_total', 'Documents the target refused for good'),
  sinkSpilled: counter('picket_sink_spilled_total', 'Documents written to the spill file'),
  sinkDropped: counter('picket_sink_dropped_total', 'Documents neither delivered, queued nor spilled (lost, counted)'),
  sinkQueued: gauge('picket_sink_queued', 'Documents held in memory by an output sink'),
  sinkSpillPending: gauge('picket_sink_spill_pending', 'Documents in spill files not yet replayed (accepted = delivered + failures + dropped + queued + spill pending)'),
  sinkTruncated: counter('picket_sink_truncated_total', 'Documents delivered cut down to fit (a syslog datagram over 64 KiB)'),
  up: gauge('picket_up_seconds', 'Seconds since picket started'),
};

/** picket_<protocol>_<counter>_total, one family per counter an analyzer declares (made once, then reused). */
const appFamilies = new Map<string, MetricFamily>();
function appFamily(protocol: string, name: string, help: string): MetricFamily {
  const key = `${protocol}_${name}`;
  let f = appFamilies.get(key);
  if (f === undefined) appFamilies.set(key, (f = counter(`picket_${key}_total`, help)));
  return f;
}

export interface SensorView {
  engine(): EngineStats;
  picketQueueDropped(): number;
  capture(): Array<{ iface: string; stats: LiveStats }>;
  /** With --workers N: each worker's own socket (the capture() figures are their sums). */
  sockets(): Array<{ iface: string; worker: number; stats: LiveStats }>;
  alerts(): Map<string, number>;
  allowlisted(): Map<string, number>;
  sinks(): SinkStats[];
  startedAt: number;
}

/** The sensor's counters as Prometheus metrics, read at scrape time from the live objects. */
export function registerSensorMetrics(reg: MetricsRegistry, v: SensorView): void {
  reg.register((): Sample[] => {
    const st = v.engine();
    const out: Sample[] = [
      { family: F.packets, value: st.packets },
      { family: F.bytes, value: st.bytes },
      { family: F.attempts, value: st.probes },
      { family: F.up, value: (Date.now() - v.startedAt) / 1000 },
      { family: F.queueDrop, value: v.picketQueueDropped() },
    ];
    for (const spec of ANALYZERS) {
      for (const [name, n] of Object.entries(st.app[spec.name] ?? {})) out.push({ family: appFamily(spec.name, name, spec.counters[name]), value: n });
    }
    st.decode.forEach((n, code) => {
      if (isDecodeError(code)) out.push({ family: F.decodeErrors, labels: { kind: DECODE_EVENT_NAMES[code] }, value: n });
    });
    for (const { iface, stats } of v.capture()) {
      const labels = { interface: iface };
      out.push({ family: F.received, labels, value: stats.received }, { family: F.kernelDrop, labels, value: stats.kernelDropped },
        { family: F.ifDrop, labels, value: stats.ifDropped }, { family: F.picketDrop, labels, value: stats.picketDropped });
    }
    for (const { iface, worker, stats } of v.sockets()) {
      const labels = { interface: iface, worker: String(worker) };
      out.push({ family: F.socketReceived, labels, value: stats.received }, { family: F.socketKernelDrop, labels, value: stats.kernelDropped },
        { family: F.socketIfDrop, labels, value: stats.ifDropped }, { family: F.socketPicketDrop, labels, value: stats.picketDropped });
    }
    for (const [rule, n] of v.alerts()) out.push({ family: F.alerts, labels: { rule }, value: n });
    for (const [rule, n] of v.allowlisted()) out.push({ family: F.allowlisted, labels: { rule }, value: n });
    out.push(...sinkSamples(v.sinks()));
    return out;
  });
}

/** The output sinks' counters (picket_sink_*), for the sensor's and for correlate's /metrics. */
export function sinkSamples(sinks: SinkStats[]): Sample[] {
  const out: Sample[] = [];
  for (const s of sinks) {
    const labels = { sink: s.name };
    out.push({ family: F.sinkUp, labels, value: s.failing ? 0 : 1 },
      { family: F.sinkAccepted, labels, value: s.accepted }, { family: F.sinkDelivered, labels, value: s.delivered }, { family: F.sinkRetries, labels, value: s.retries },
      { family: F.sinkFailures, labels, value: s.failures }, { family: F.sinkSpilled, labels, value: s.spilled }, { family: F.sinkDropped, labels, value: s.dropped },
      { family: F.sinkQueued, labels, value: s.queued }, { family: F.sinkSpillPending, labels, value: s.spillPending }, { family: F.sinkTruncated, labels, value: s.truncated });
  }
  return out;
}
