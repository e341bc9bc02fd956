import { parseArgs } from 'node:util';
import * as os from 'node:os';
import type { JsMsg, KV } from 'nats';
import { createEcsStamper, observerInfo, withRelated, type EcsDoc } from '../alert/ecs';
import type { PicketConfig } from '../config/config-file';
import { loadConfigFile } from '../config/config-file';
import { PicketError, EXIT_UNDELIVERED } from '../errors';
import {
  applySummary, fleetAlert, fleetOnlyKinds, incidentEventId, newReportedEpisode, nextFleetDocument, reportedEventId, sourceKey, type FleetIncident, type SourceState,
} from '../fleet/correlate';
import { createLeases } from '../fleet/leases';
import { partitionDurable, partitionOf } from '../fleet/partition';
import { checkUnpartitioned, clusterSize, connectFleet, type FleetAuth, CORRELATE_BUCKET, ensurePartitionConsumer, ensureStreams, parseServers, settled, SUMMARIES_STREAM, unstickConsumer } from '../fleet/streams';
import { SCAN_RULES } from '../scan/scan-alert';
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

/** This instance's name in the leases and the members key: host, process and a random part (KV key characters). */
function instanceId(): string {
  return `${os.hostname().replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Every instance must split the summaries into the same partitions: the first records fleet.partitions in the
 * bucket, the others check it. (Sensors read the same policy; a summary in the wrong partition is merged all the
 * same and counted, picket_correlate_misrouted_summaries_total.)
 */
async function checkPartitions(kv: KV, partitions: number): Promise<void> {
  const key = 'config.partitions';
  const read = async (): Promise<number | null> => {
    const e = await kv.get(key);
    return e === null || e.operation !== 'PUT' ? null : Number(Buffer.from(e.value).toString('utf8'));
  };
  let recorded = await read();
  if (recorded === null) {
    // Created here, or by another instance starting at the same moment (then its value is checked).
    await kv.create(key, Buffer.from(String(partitions), 'utf8')).catch(() => undefined);
    recorded = await read();
  }
  if (recorded !== partitions) {
    throw new PicketError(`fleet.partitions is ${partitions} here but ${recorded} for the correlate instances before (key ${key} of the KV bucket ${CORRELATE_BUCKET}): `
      + 'every sensor and correlate must use the same; to change it, stop them all, delete the partition consumers and that key');
  }
}

/**
 * picket correlate: the summaries are partitioned by source (partition.ts); instances share the partitions through
 * leases in the KV bucket (leases.ts), each pulling the durable consumer of every partition it holds. A batch of
 * summaries is merged into each source's state, kept in the KV bucket (compare-and-set, so that even two instances
 * briefly on one source never lose an update), judged, its fleet alerts written and flushed, their keys created in
 * the bucket, and only then acknowledged: a correlate killed at any point leaves its batch unacknowledged for the
 * partition's next holder (itself restarted or another), which finds the state and alerts made so far in the bucket,
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
  const rules = loadRules();
  const policy = rules.policy.scan;
  const policyFleet = rules.policy.fleet;
  const partitions = policyFleet.partitions;
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
    const said = await checkUnpartitioned(nc);
    if (said !== null) say(said);
    // Another instance starting at the same moment may be creating the bucket: its timeout is waited out.
    const bucket = await settled(() => nc.jetstream().views.kv(CORRELATE_BUCKET, { replicas: Math.min(3, clusterSize(nc)), history: 1 }));
    await settled(() => checkPartitions(bucket, partitions));
    kv = bucket;
  } catch (e) {
    await nc.close();
    throw e instanceof PicketError ? e : new PicketError(`NATS: ${(e as Error).message}`);
  }
  const outputs = createOutputs(specs, sinkCommon(values, cfg));
  const stamp = createEcsStamper();
  const out = outputs.out;
  const observer = observerInfo(version, 'correlate');
  let stopping = false;
  let wake = (): void => undefined;
  const stop = (): void => {
    stopping = true;
    wake();
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
  // One worker per partition held: its durable consumer pulled, batch after batch, while the lease is valid.
  const workers = new Map<number, { stopped: boolean; done: Promise<void> }>();
  let idleSince = Date.now();
  counts.instance = instanceId();
  say(`instance ${counts.instance}, ${partitions} partitions, leases of ${policyFleet.lease} s`);
  const leases = createLeases({
    kv, id: counts.instance, partitions, leaseMs: policyFleet.lease * 1000, say,
    start(p) {
      const w = { stopped: false, done: Promise.resolve() };
      const mine = (): boolean => !w.stopped && !stopping && leases.valid(p);
      w.done = (async () => {
        // NATS failing under it (a node restarting) does not end the worker while the lease is held.
        while (mine()) {
          await consumePartition(p, mine).catch(async (e: unknown) => {
            say(`partition ${p}: ${(e as Error).message}`);
            await new Promise((r) => setTimeout(r, 1000));
          });
        }
      })();
      workers.set(p, w);
    },
    async stop(p) {
      const w = workers.get(p);
      if (w === undefined) return;
      w.stopped = true;
      workers.delete(p);
      await w.done;
    },
  });
  counts.held = () => leases.held().length;
  counts.leases = leases.counts;
  try {
    const tickMs = (policyFleet.lease * 1000) / 3;
    while (!stopping) {
      await leases.tick().catch((e: unknown) => say(`leases: ${(e as Error).message}`));
      if (idleExit !== undefined && Date.now() - idleSince >= idleExit * 1000) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(tickMs, idleExit !== undefined ? idleExit * 1000 : tickMs));
        wake = (): void => {
          clearTimeout(t);
          r();
        };
      });
    }
    stopping = true;
    await leases.leave().catch((e: unknown) => say(`leases: ${(e as Error).message}`));
  } finally {
    stopping = true;
    await Promise.all([...workers.values()].map((w) => w.done));
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

  /** A partition's consumer pulled while `mine()` (the lease held and valid, not given up, correlate not stopping). */
  async function consumePartition(p: number, mine: () => boolean): Promise<void> {
    const consumer = await nc.jetstream().consumers.get(SUMMARIES_STREAM, await ensurePartitionConsumer(nc, p));
    let lastStallCheck = Date.now();
    while (mine()) {
      const batch: JsMsg[] = [];
      for await (const m of await consumer.fetch({ max_messages: BATCH, expires: 1000 })) batch.push(m);
      if (batch.length === 0) {
        if (Date.now() - lastStallCheck >= STALL_CHECK_MS) {
          lastStallCheck = Date.now();
          const moved = await unstickConsumer(nc, p).catch((e: unknown) => {
            say(`stall check of partition ${p}: ${(e as Error).message}`);
            return false;
          });
          if (moved) say(`consumer ${partitionDurable(p)} had summaries it did not deliver: its leader was asked to step down`);
        }
        continue;
      }
      idleSince = Date.now();
      try {
        await mergeBatch(p, batch, () => leases.valid(p));
      } catch (e) {
        // NATS failed under the batch (a timeout of the bucket): given back at once, not after ack_wait.
        for (const m of batch) m.nak();
        counts.givenBack += batch.length;
        throw e;
      }
    }
  }

  /**
   * A batch's summaries merged into their sources' states, judged; its alerts written and flushed, then recorded as
   * made, then the batch acknowledged: a crash before the record gets the batch again and writes the same alerts
   * again (same event.id); never none. A lease that ran out meanwhile: the alerts are not written and the batch is
   * given back (nak) for the partition's next holder.
   */
  async function mergeBatch(p: number, batch: JsMsg[], leaseValid: () => boolean): Promise<void> {
    const bySource = new Map<string, FleetSummary[]>();
    // Counted once the batch is acknowledged (a batch given back is counted by the instance that merges it).
    let good = 0;
    let bad = 0;
    let misrouted = 0;
    for (const m of batch) {
      const s = parseSummary(m.data);
      if (s === null) {
        bad++;
        continue;
      }
      good++;
      // A sensor with another fleet.partitions: merged all the same (the state is compare-and-set), but counted.
      if (partitionOf(s.source, partitions) !== p) misrouted++;
      let l = bySource.get(s.source);
      if (l === undefined) bySource.set(s.source, (l = []));
      l.push(s);
    }
    const made: Made[] = [];
    // Sources are independent: their state round trips to the bucket overlap.
    await Promise.all([...bySource].map(([source, list]) => judgeSource(kv, source, list, made)));
    if (!leaseValid()) {
      for (const m of batch) m.nak();
      counts.givenBack += batch.length;
      return;
    }
    counts.batches++;
    for (const m of made) {
      out.write(m.doc);
      alertsMade++;
      counts.alerts.set(m.rule, (counts.alerts.get(m.rule) ?? 0) + 1);
      say(m.line);
    }
    out.flush();
    await Promise.all(outputs.sinks.map((s) => s.flush(10_000)));
    await Promise.all(made.map((m) => (m.revision === undefined ? kv.create(m.key, Buffer.from(m.value, 'utf8')) : kv.update(m.key, Buffer.from(m.value, 'utf8'), m.revision)).catch(() => {
      // Made by another instance at the same moment: the event.id is the same, an index keeps one.
    })));
    for (const m of batch) m.ack();
    await nc.flush();
    counts.acks += batch.length;
    counts.summaries += good;
    counts.bad += bad;
    counts.misrouted += misrouted;
    counts.byPartition.set(p, (counts.byPartition.get(p) ?? 0) + good);
  }

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
      made.push({
        doc, key: viewKey, value: JSON.stringify({ id, last: judged.merged.last }), revision: held === null ? undefined : done!.revision, rule: `${SCAN_RULES[view.kind].id} reported`,
        line: `${SCAN_RULES[view.kind].id} of ${source} reported by ${view.sensors.length} sensors (${view.sensors.join(', ')}): one fleet view`,
      });
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
    made.push({
      doc, key: incKey, value: JSON.stringify(incident), revision: rec === null || rec.length === 0 ? undefined : rec.revision, rule: `${SCAN_RULES[trigger].id} fleet_only`,
      line: `${SCAN_RULES[trigger].id} of ${source} across ${judged.merged.shares.length} sensors (${judged.merged.counts.hosts} hosts), document ${incident.documents} of ${incident.id}`,
    });
  }
}

/**
 * An alert made in this batch: the document, written once the batch's lease is known still held; its key in the
 * bucket, created (or, for a reported view's new episode, updated at revision) once the sinks took it.
 */
interface Made {
  doc: EcsDoc;
  /** Its counter's key (rule.id and view) and what stderr says of it. */
  rule: string;
  line: string;
  key: string;
  value: string;
  revision?: number;
}
