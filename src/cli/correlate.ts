import { parseArgs } from 'node:util';
import type { KV } from 'nats';
import { createEcsStamper, observerInfo, withRelated, type EcsDoc } from '../alert/ecs';
import type { PicketConfig } from '../config/config-file';
import { loadConfigFile } from '../config/config-file';
import { PicketError, EXIT_UNDELIVERED } from '../errors';
import {
  applySummary, fleetAlert, fleetOnlyKinds, incidentEventId, newReportedEpisode, nextFleetDocument, reportedEventId, sourceKey, type FleetIncident, type SourceState,
} from '../fleet/correlate';
import { SCAN_RULES } from '../scan/scan-alert';
import { clusterSize, connectFleet, type FleetAuth, CORRELATE_BUCKET, CORRELATE_DURABLE, ensureCorrelateConsumer, ensureStreams, parseServers, SUMMARIES_STREAM, unstickConsumer } from '../fleet/streams';
import { createRegistry, serveMetrics, type MetricsServer } from '../output/metrics';
import { createOutputs, deliveryReport, type OutputSpec } from '../output/outputs';
import { parseSummary, type FleetSummary } from '../scan/fleet-summary';
import { CORRELATE, CORRELATE_OPTIONS } from './commands';
import { correlateCounts, registerCorrelateMetrics } from './correlate-metrics';
import { commandHelp, parseArgsOptions } from './option-table';
import { detectionSettings, durationFlag, flagSinks, sinkCommon } from './settings';

const PARSE = parseArgsOptions(CORRELATE_OPTIONS);
/** Summaries taken from the consumer at once: merged together before judging, acked together after. */
const BATCH = 500;
/** Tries of a compare-and-set of one source's state against other instances before the batch is given back. */
const CAS_TRIES = 20;
/** While idle, how often the consumer is checked for a stall (streams.ts, unstickConsumer). */
const STALL_CHECK_MS = 3000;

/**
 * picket correlate: a durable pull consumer of PICKET_SUMMARIES shared by every instance. A batch of summaries is
 * merged into each source's state, kept in the KV bucket (compare-and-set, so instances can share the work), judged,
 * its fleet alerts written and flushed, their keys created in the bucket, and only then acknowledged: a correlate
 * killed at any point gets the unacknowledged batch again, finds the state and alerts made so far in the bucket,
 * and neither loses nor repeats an alert.
 */
export async function correlateCommand(argv: string[], version: string): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof PARSE; allowPositionals: false; strict: true }>>['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: PARSE, allowPositionals: false, strict: true }));
  } catch (e) {
    throw new PicketError(`${(e as Error).message.split('\n')[0]} (try picket correlate --help)`);
  }
  if (values.help) {
    process.stdout.write(commandHelp(CORRELATE));
    return 0;
  }
  const cfg: PicketConfig = values.config !== undefined ? loadConfigFile(values.config) : {};
  // The fleet: --nats (and --nats-creds), else picket.yaml's nats output (servers, credentials, tls.ca).
  const fromFile = cfg.outputs?.find((o) => o.type === 'nats');
  const fileNats = fromFile?.type === 'nats' ? fromFile : undefined;
  if (values.nats === undefined && fileNats === undefined) throw new PicketError('correlate needs --nats URL[,URL...] or a nats output in --config (try picket correlate --help)');
  const servers = values.nats !== undefined ? parseServers(values.nats) : fileNats!.servers;
  const auth: FleetAuth = { credsFile: values['nats-creds'] ?? fileNats?.auth?.credsFile, tlsCa: fileNats?.auth?.tlsCa };
  const { loadRules } = detectionSettings({ ...values, metadata: false }, cfg, 1);
  const policy = loadRules().policy.scan;
  const idleExit = durationFlag('idle-exit', values['idle-exit']);
  const say = (line: string): void => {
    if (!values.quiet) process.stderr.write(`picket correlate: ${line}\n`);
  };

  const fileSinks = cfg.outputs?.filter((o) => o.type !== 'nats') ?? [];
  const specs: OutputSpec[] = flagSinks({ ...values, nats: undefined, 'nats-creds': undefined })
    ?? (values.out !== undefined ? [{ type: 'file', path: values.out }] : fileSinks.length > 0 ? fileSinks : [{ type: 'stdout' }]);
  const nc = await connectFleet(servers, 'picket correlate', auth);
  let kv: KV;
  try {
    await ensureStreams(nc);
    await ensureCorrelateConsumer(nc);
    kv = await nc.jetstream().views.kv(CORRELATE_BUCKET, { replicas: Math.min(3, clusterSize(nc)), history: 1 });
  } catch (e) {
    await nc.close();
    throw e instanceof PicketError ? e : new PicketError(`NATS: ${(e as Error).message}`);
  }
  const outputs = createOutputs(specs, sinkCommon(values, cfg));
  const stamp = createEcsStamper();
  const out = outputs.out;
  const observer = observerInfo(version, 'correlate');
  let stopping = false;
  const stop = (): void => {
    stopping = true;
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const counts = correlateCounts();
  let alertsMade = 0;
  let connected = true;
  // The connection's state for /metrics: the client reports each loss and each reconnection.
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') {
        connected = false;
        counts.disconnects++;
      } else if (s.type === 'reconnect') {
        connected = true;
      }
    }
  })().catch(() => undefined);
  let metrics: MetricsServer | null = null;
  const metricsListen = values['metrics-listen'] ?? cfg.metricsListen;
  if (metricsListen !== undefined) {
    const reg = createRegistry({ onCollectorError: (err) => say(`metrics: a collector failed: ${err.message}`) });
    registerCorrelateMetrics(reg, { counts, connected: () => connected && !nc.isClosed(), sinks: () => outputs.sinks.map((k) => k.stats()), startedAt: Date.now() });
    try {
      metrics = await serveMetrics(metricsListen, reg);
    } catch (e) {
      await nc.close();
      await outputs.close(1000);
      throw e;
    }
    say(`metrics on http://${metrics.address}/metrics`);
  }
  try {
    const consumer = await nc.jetstream().consumers.get(SUMMARIES_STREAM, CORRELATE_DURABLE);
    let idleSince = Date.now();
    let lastStallCheck = Date.now();
    while (!stopping) {
      const batch = [];
      for await (const m of await consumer.fetch({ max_messages: BATCH, expires: 1000 })) batch.push(m);
      if (batch.length === 0) {
        if (idleExit !== undefined && Date.now() - idleSince >= idleExit * 1000) break;
        if (Date.now() - lastStallCheck >= STALL_CHECK_MS) {
          lastStallCheck = Date.now();
          const moved = await unstickConsumer(nc).catch((e: unknown) => {
            say(`stall check: ${(e as Error).message}`);
            return false;
          });
          if (moved) say(`consumer ${CORRELATE_DURABLE} had summaries it did not deliver: its leader was asked to step down`);
        }
        continue;
      }
      idleSince = Date.now();
      counts.batches++;
      const bySource = new Map<string, FleetSummary[]>();
      for (const m of batch) {
        const s = parseSummary(m.data);
        if (s === null) {
          counts.bad++;
          continue;
        }
        counts.summaries++;
        let l = bySource.get(s.source);
        if (l === undefined) bySource.set(s.source, (l = []));
        l.push(s);
      }
      // The batch's alerts are written and flushed, then recorded as made, then the batch is acknowledged: a crash
      // before the record gets the batch again and writes the same alerts again (same event.id); never none.
      const made: Made[] = [];
      // Sources are independent: their state round trips to the bucket overlap.
      await Promise.all([...bySource].map(([source, list]) => judgeSource(kv, source, list, made)));
      out.flush();
      await Promise.all(outputs.sinks.map((s) => s.flush(10_000)));
      await Promise.all(made.map((m) => (m.revision === undefined ? kv.create(m.key, Buffer.from(m.value, 'utf8')) : kv.update(m.key, Buffer.from(m.value, 'utf8'), m.revision)).catch(() => {
        // Made by another instance at the same moment: the event.id is the same, an index keeps one.
      })));
      for (const m of batch) m.ack();
      await nc.flush();
      counts.acks += batch.length;
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    say(`${counts.summaries} summaries in ${counts.batches} batches, ${counts.bad} not summaries, ${alertsMade} fleet alerts`);
    await metrics?.close();
    await nc.drain().catch(() => undefined);
  }
  const report = deliveryReport(await outputs.close(30_000));
  if (report !== null) {
    process.stderr.write(`picket correlate: ${report}\n`);
    return EXIT_UNDELIVERED;
  }
  return 0;

  /** One source's summaries of this batch into its state (compare-and-set), then its fleet alerts not yet made. */
  async function judgeSource(bucket: KV, source: string, list: FleetSummary[], made: Made[]): Promise<void> {
    const key = `state.${sourceKey(source)}`;
    let state: SourceState = {};
    for (let i = 0; ; i++) {
      if (i === CAS_TRIES) throw new PicketError(`state of ${source}: changed by other instances ${CAS_TRIES} times in a row`);
      const e = await bucket.get(key);
      state = e === null || e.length === 0 ? {} : (JSON.parse(Buffer.from(e.value).toString('utf8')) as SourceState);
      let changed = false;
      for (const s of list) changed = applySummary(state, s) || changed;
      if (!changed) break;
      const value = Buffer.from(JSON.stringify(state), 'utf8');
      try {
        if (e === null || e.length === 0) await bucket.create(key, value);
        else await bucket.update(key, value, e.revision);
        counts.updates++;
        if (Object.keys(state).length >= 2) counts.merged++;
        break;
      } catch (err) {
        if (!/wrong last sequence|exists/i.test((err as Error).message)) throw err;
        counts.conflicts++;
      }
    }
    const judged = fleetOnlyKinds(state, policy);
    if (judged === null) return;
    const view = judged.reported;
    if (view !== null) {
      // Sensors raised it themselves: one fleet document per source and episode (its key holds the episode's end).
      const viewKey = `alerted.reported.${sourceKey(source)}`;
      const done = await bucket.get(viewKey);
      const held = done === null || done.length === 0 ? null : (JSON.parse(Buffer.from(done.value).toString('utf8')) as { id: string; last: [number, number] });
      if (held !== null && !newReportedEpisode(state, view, held.last)) return;
      const doc = stamp(withRelated(fleetAlert(view.kind, source, judged.merged, policy, observer, view.sensors)));
      const id = reportedEventId(source, view);
      (doc.event as EcsDoc).id = id;
      out.write(doc);
      made.push({ key: viewKey, value: JSON.stringify({ id, last: judged.merged.last }), revision: held === null ? undefined : done!.revision });
      alertsMade++;
      const ruleKey = `${SCAN_RULES[view.kind].id} reported`;
      counts.alerts.set(ruleKey, (counts.alerts.get(ruleKey) ?? 0) + 1);
      say(`${SCAN_RULES[view.kind].id} of ${source} reported by ${view.sensors.length} sensors (${view.sensors.join(', ')}): one fleet view`);
      return;
    }
    // A fleet-only incident: a first document when fleet-only kinds appear, an update when a kind or the severity
    // changes, nothing otherwise; its record in the bucket says what was sent, whichever instance sent it.
    const incKey = `incident.${sourceKey(source)}`;
    const rec = await bucket.get(incKey);
    const held = rec === null || rec.length === 0 ? null : (JSON.parse(Buffer.from(rec.value).toString('utf8')) as FleetIncident);
    const next = nextFleetDocument(held, judged.kinds, source, judged.merged, policy);
    if (next === null) return;
    const { trigger, incident } = next;
    const doc = stamp(withRelated(fleetAlert(trigger, source, judged.merged, policy, observer, undefined, incident)));
    // The same document from a restarted or racing instance has the same event.id (an index keeps one).
    (doc.event as EcsDoc).id = incidentEventId(trigger, source, judged.merged, incident);
    out.write(doc);
    made.push({ key: incKey, value: JSON.stringify(incident), revision: rec === null || rec.length === 0 ? undefined : rec.revision });
    alertsMade++;
    const ruleKey = `${SCAN_RULES[trigger].id} fleet_only`;
    counts.alerts.set(ruleKey, (counts.alerts.get(ruleKey) ?? 0) + 1);
    say(`${SCAN_RULES[trigger].id} of ${source} across ${judged.merged.shares.length} sensors (${judged.merged.counts.hosts} hosts), document ${incident.documents} of ${incident.id}`);
  }
}

/** An alert made in this batch: its key in the bucket, created (or, for a reported view's new episode, updated at revision) once the sinks took it. */
interface Made {
  key: string;
  value: string;
  revision?: number;
}
