import { parseArgs } from 'node:util';
import { createEcsStamper, observerInfo, statsDoc, type EcsDoc } from '../alert/ecs';
import { createAlertPipeline } from '../engine/alert-pipeline';
import { listInterfaces, openLive, type LiveOptions, type LiveSource, type LiveStats } from '../capture/live';
import { loadConfigFile, type PicketConfig } from '../config/config-file';
import type { Rules } from '../config/rules';
import { BATCH_MAX_PACKETS } from '../capture/batch';
import { createIngressMap } from '../capture/ingress';
import { createEngine, type EngineSink } from '../engine/engine';
import { startLiveFanout, type LiveFanout } from '../engine/live-fanout';
import { ReloadsAt } from '../engine/reload-at';
import type { EngineStats, Observation } from '../core/observation';
import type { ScanRecord } from '../core/scan-record';
import type { PacketBatch } from '../capture/batch';
import { engineConfig, engineRules, type EngineSetup } from '../engine/setup';
import { EXIT_UNDELIVERED, PicketError } from '../errors';
import { createRegistry, serveMetrics, type MetricsServer } from '../output/metrics';
import { prepareFleet, summaryHook, withPartitions } from './fleet-setup';
import { createOutputs, deliveryReport, stampedOutput, watchSinkHealth, type OutputSpec } from '../output/outputs';
import { createPcapRing, type PcapRing } from '../output/pcap-ring';
import { registerSensorMetrics } from './sensor-metrics';
import { detectionSettings, durationFlag, flagSinks, sinkCommon, wholeFlag } from './settings';
import { CAPTURE_CMD, CAPTURE_OPTIONS } from './commands';
import { commandHelp, parseArgsOptions } from './option-table';
import { formatAnalysis, SUMMARY_WIDTH, summaryLevel, useColour } from './summary';
import { analysedOutput } from '../report/aggregate';

const OPTIONS = parseArgsOptions(CAPTURE_OPTIONS);

export function interfacesCommand(): number {
  for (const i of listInterfaces()) {
    const flags = [i.up ? 'up' : 'down', ...(i.running ? ['running'] : []), ...(i.loopback ? ['loopback'] : [])].join(',');
    process.stdout.write(`${i.name}\t${flags}\t${i.addresses.join(' ')}${i.description !== '' ? `\t${i.description}` : ''}\n`);
  }
  return 0;
}

/** Output specs from flags, else from the config file, else stdout. */
function outputSpecs(values: ReturnType<typeof parseCapture>['values'], cfg: PicketConfig): OutputSpec[] {
  const fromFlags = flagSinks(values);
  if (fromFlags !== null) return fromFlags;
  if (values.out !== undefined) return [{ type: 'file', path: values.out }];
  if (cfg.outputs !== undefined && cfg.outputs.length > 0) return cfg.outputs;
  const format = values.format ?? 'ndjson';
  if (format !== 'ndjson' && format !== 'text') throw new PicketError(`--format must be ndjson or text, not "${format}"`);
  return [{ type: 'stdout', format }];
}

function parseCapture(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: false; strict: true }>> {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true });
  } catch (e) {
    throw new PicketError(`${(e as Error).message.split('\n')[0]} (try picket capture --help)`);
  }
}

export async function captureCommand(argv: string[], version: string): Promise<number> {
  const { values } = parseCapture(argv);
  if (values.help) {
    process.stdout.write(commandHelp(CAPTURE_CMD));
    return 0;
  }
  const cfg: PicketConfig = values.config !== undefined ? loadConfigFile(values.config) : {};
  const ifaces = values.interface.length > 0 ? values.interface : cfg.capture?.interfaces ?? [];
  if (ifaces.length === 0) throw new PicketError('capture needs an interface: -i IFACE (picket interfaces lists them), or capture.interfaces in picket.yaml');
  const { setup, loadRules: load } = detectionSettings(values, cfg, BATCH_MAX_PACKETS);
  const rules = load();
  const liveOpts = (iface: string): LiveOptions => ({
    iface, bpf: values.bpf ?? cfg.capture?.bpf, snaplen: wholeFlag('snaplen', values.snaplen, 64, 262144) ?? cfg.capture?.snaplen,
    bufferMb: wholeFlag('buffer-mb', values['buffer-mb'], 1, 2047) ?? cfg.capture?.bufferMb, promisc: values.promisc ?? cfg.capture?.promisc ?? false,
    backend: (values.backend ?? cfg.capture?.backend ?? 'auto') as LiveOptions['backend'],
  });
  const maxPackets = wholeFlag('count', values.count, 1, Number.MAX_SAFE_INTEGER);
  const maxSeconds = durationFlag('duration', values.duration);
  const statsEvery = durationFlag('stats-interval', values['stats-interval']) ?? cfg.statsInterval ?? 60;
  const ringDir = values['write-pcap'] ?? cfg.writePcap?.dir;
  const ringFileMb = wholeFlag('pcap-file-mb', values['pcap-file-mb'], 1, 65536) ?? cfg.writePcap?.fileMb ?? 64;
  const ringFiles = wholeFlag('pcap-files', values['pcap-files'], 1, 100000) ?? cfg.writePcap?.files ?? 16;
  const metricsListen = values['metrics-listen'] ?? cfg.metricsListen;
  const say = (line: string): void => {
    if (!values.quiet) process.stderr.write(`picket: ${line}\n`);
  };

  const specs = withPartitions(outputSpecs(values, cfg), rules);
  const fleet = await prepareFleet(specs, (line) => process.stderr.write(`picket: ${line}\n`));
  const observer = observerInfo(version, fleet?.sensor);
  const outputs = createOutputs(specs, sinkCommon(values, cfg));
  // observer.ingress.interface.name: with one interface, on every document; with several, on the documents an
  // observation writes as it is handed on (a protocol event, an alert that packet raised), the interface of its
  // packet (inline: by ordinal, recorded per batch; with workers, which number their own packets, the fanout says
  // which socket the delivered item's packet came from). Documents written later (scan summaries from a timer, the
  // final counters) span interfaces and have none; picket.stats.capture has the per-interface counters.
  const workers = wholeFlag('workers', values.workers, 0, 64) ?? cfg.workers ?? 0;
  const ingress = ifaces.length > 1 && workers === 0 ? createIngressMap() : null;
  let fan: LiveFanout | null = null;
  let packetIface: string | null = null;
  const summary = summaryLevel(values.summary, values.quiet, process.stderr.isTTY === true);
  const stamper = createEcsStamper(ifaces.length === 1 ? { interface: ifaces[0] } : () => (packetIface === null ? null : { interface: packetIface }));
  const { out, analyzer } = analysedOutput(stampedOutput(outputs.out, stamper), summary === 'full');
  const pipeline = createAlertPipeline(rules, observer, out, setup.metadata, summaryHook(fleet, outputs, rules));
  /** With several interfaces, what a packet hands on is written with its interface named. */
  const atPacket = (ordinal: number, handOn: () => void): void => {
    packetIface = ingress !== null ? ingress.lookup(ordinal) : (fan?.ingressOf(ordinal) ?? null);
    try {
      handOn();
    } finally {
      packetIface = null;
    }
  };
  const sink: EngineSink = ifaces.length === 1 ? pipeline : {
    observe: (o: Observation) => atPacket(o.ordinal, () => pipeline.observe(o)),
    scan: (r: ScanRecord) => atPacket(r.ordinal, () => pipeline.scan(r)),
  };
  let failure: Error | null = null;
  /** Set once stopAll exists: a worker that fails before that (while the metrics server starts) is stopped then. */
  let stopOnFailure: ((why: string) => void) | null = null;
  const workerFailed = (e: Error): void => {
    failure ??= e;
    stopOnFailure?.(`worker failed: ${e.message}`);
  };
  // SIGHUP from the start: starting the workers takes a moment, and the default action would end picket. The rules
  // are being loaded then anyway.
  let onHangup = (): void => say('SIGHUP while starting: nothing to reload yet (the rules are being loaded)');
  process.on('SIGHUP', () => onHangup());
  /** Set once the capture runs: --count with workers is checked as their counters come in. */
  let countCheck: () => void = () => undefined;

  // Open every interface before starting any, so that a bad name or filter stops start-up with nothing running.
  // --workers 0: one socket per interface, read here; --workers N: N sockets per interface, one in each worker,
  // joined in a PACKET_FANOUT group (src/engine/live-fanout.ts).
  const sources: LiveSource[] = [];
  const rings = new Map<string, PcapRing>();
  try {
    if (workers === 0) {
      for (const iface of ifaces) {
        const src = openLive(liveOpts(iface));
        sources.push(src);
        say(`capturing on ${iface} (link type ${src.linktype}) with ${src.backend === 'addon' ? "picket's libpcap addon (batches, drop counters)" : 'the cap package (fallback: one event per packet, no kernel drop counters)'}`);
        if (ringDir !== undefined) rings.set(iface, createPcapRing(ringDir, ringFileMb * 1024 * 1024, ringFiles, iface));
      }
    } else {
      const ring = ringDir !== undefined ? { dir: ringDir, fileBytes: ringFileMb * 1024 * 1024, files: ringFiles } : null;
      fan = await startLiveFanout(setup, rules, workers, ifaces.map(liveOpts), ring, sink, (e) => workerFailed(e), () => countCheck());
      for (const [i, iface] of ifaces.entries()) {
        say(`capturing on ${iface} (link type ${fan.linktypes[i]}) with ${workers} workers, a socket each in PACKET_FANOUT group ${fan.groups[i]} (picket's libpcap addon, batches, drop counters per socket)`);
      }
    }
  } catch (e) {
    for (const s of sources) await s.stop();
    await outputs.close(2000);
    throw e;
  }
  const path = fan !== null ? fanoutPath(fan) : inlinePath(setup, rules, sink);
  const captureStats = (): Array<{ iface: string; stats: LiveStats }> => fan !== null ? fan.capture() : sources.map((s) => ({ iface: s.iface, stats: s.stats() }));

  const started = Date.now();
  let metrics: MetricsServer | null = null;
  if (metricsListen !== undefined) {
    const reg = createRegistry({ onCollectorError: (err) => say(`metrics: a collector failed: ${err.message}`) });
    registerSensorMetrics(reg, {
      engine: () => path.stats(), picketQueueDropped: () => path.dropped(), capture: captureStats, sockets: () => fan?.sockets() ?? [],
      alerts: () => pipeline.alertsByRule(), allowlisted: () => pipeline.allowlistedByRule(), sinks: () => outputs.sinks.map((k) => k.stats()), startedAt: started,
    });
    metrics = await serveMetrics(metricsListen, reg);
    say(`metrics on http://${metrics.address}/metrics`);
  }

  let ordinal = 0;
  let stopping: Promise<number> | null = null;
  const stopAll = (why: string): Promise<number> => {
    stopping ??= (async () => {
      say(`stopping (${why})`);
      clearInterval(ticker);
      if (statsTimer !== null) clearInterval(statsTimer);
      const finals: Array<{ iface: string; stats: LiveStats }> = [];
      for (const s of sources) finals.push({ iface: s.iface, stats: await s.stop() });
      for (const r of rings.values()) r.close();
      const engineStats = await path.stop();
      if (fan !== null) finals.push(...fan.capture());
      pipeline.finish();
      const doc = statsDoc(engineStats, [], pipeline, observer);
      const st = (doc.picket as EcsDoc).stats as EcsDoc;
      const socketDocs = fan?.sockets() ?? [];
      st.capture = Object.fromEntries(finals.map(({ iface, stats }) => [iface, {
        ...captureCounters(stats),
        // With workers: each one's own socket, in its PACKET_FANOUT group.
        ...(fan !== null ? { sockets: socketDocs.filter((s) => s.iface === iface).map((s) => ({ worker: s.worker, ...captureCounters(s.stats) })) } : {}),
      }]));
      st.workers = { count: workers, dropped: path.dropped() };
      out.write(doc);
      out.flush();
      clearInterval(healthTimer);
      const report = deliveryReport(await outputs.close(10_000));
      await metrics?.close();
      if (summary !== 'none') {
        process.stderr.write(`picket: ${summaryLine(finals, engineStats.packets, pipeline.alertsByRule(), (Date.now() - started) / 1000)}${path.dropped() > 0 ? `; ${path.dropped()} packets dropped because the workers fell behind` : ''}\n`);
      }
      if (analyzer !== null) process.stderr.write(formatAnalysis(analyzer.result(), SUMMARY_WIDTH, useColour(process.stderr)));
      if (failure !== null) throw failure;
      if (report !== null) {
        // Even with --quiet: documents that did not reach their target are never a silent matter.
        process.stderr.write(`picket: ${report}\n`);
        return EXIT_UNDELIVERED;
      }
      return 0;
    })();
    return stopping;
  };

  stopOnFailure = (why) => void stopAll(why);
  if (failure !== null) stopOnFailure(`worker failed: ${(failure as Error).message}`);
  const healthTimer = watchSinkHealth(outputs.sinks, (line) => process.stderr.write(`picket: ${line}\n`));

  // Windows and idle timers run on packet time; on a quiet link the wall clock moves them on.
  const ticker = setInterval(() => {
    path.idle(Date.now());
    pipeline.tick(Date.now() / 1000);
  }, 1000);
  let lastPackets = 0;
  let lastAt = Date.now();
  const statsTimer = statsEvery > 0 && !values.quiet ? setInterval(() => {
    const st = path.stats();
    const now = Date.now();
    const pps = ((st.packets - lastPackets) * 1000) / Math.max(1, now - lastAt);
    lastPackets = st.packets;
    lastAt = now;
    say(`${summaryLine(captureStats(), st.packets, pipeline.alertsByRule(), (now - started) / 1000)}; ${pps.toFixed(0)} packets/s now`);
  }, statsEvery * 1000) : null;

  return new Promise<number>((resolve, reject) => {
    const finish = (why: string): void => {
      stopAll(why).then(resolve, reject);
    };
    process.once('SIGINT', () => finish('SIGINT'));
    // Every SIGTERM, not only the first: a supervisor or a wrapper (timeout(1), a process-group kill) may send it to
    // the process and to its group, and a second one taking the default action would end picket in the middle of
    // flushing its alerts. A stop that hangs is for SIGKILL; a second SIGINT (a terminal) still ends it at once.
    process.on('SIGTERM', () => finish('SIGTERM'));
    onHangup = () => {
      try {
        const next = load();
        // In force from a packet time every thread can still honour (live-fanout.ts says why): a fanout worker may
        // read a batch or two more before the message reaches it, so the time is set a little after the signal.
        const at = (Date.now() + RELOAD_AHEAD_MS) / 1000;
        path.reload(next, at, () => {
          pipeline.reload(next);
          say(`rules reloaded: ${next.files.length} files, in force from ${new Date(at * 1000).toISOString()}`);
        }).catch((e: Error) => say(`rules NOT reloaded in every worker: ${e.message}`));
      } catch (e) {
        say(`rules NOT reloaded, the old ones stay: ${(e as Error).message}`);
      }
    };
    countCheck = () => {
      if (maxPackets !== undefined && path.stats().packets >= maxPackets) finish(`--count ${maxPackets}`);
    };
    if (maxSeconds !== undefined) setTimeout(() => finish(`--duration ${maxSeconds}s`), maxSeconds * 1000).unref();
    for (const src of sources) {
      const ring = rings.get(src.iface);
      src.start((batch, hold) => {
        if (stopping !== null && maxPackets !== undefined && ordinal >= maxPackets) return;
        batch.firstOrdinal = ordinal;
        ingress?.record(ordinal, batch.count, src.iface);
        ordinal += batch.count;
        ring?.write(batch);
        path.process(batch, hold);
        if (maxPackets !== undefined && ordinal >= maxPackets) finish(`--count ${maxPackets}`);
      }, (err) => {
        failure = err;
        finish(`capture error on ${src.iface}: ${err.message}`);
      });
    }
  });
}

function captureCounters(s: LiveStats): EcsDoc {
  return { received: s.received, kernel_dropped: s.kernelDropped, interface_dropped: s.ifDropped, picket_dropped: s.picketDropped };
}

/** The packet path of a live capture: the engine inline, or the fanout workers (which read their own sockets). */
interface PacketPath {
  process(batch: PacketBatch, hold: () => (() => void) | null): void;
  stats(): EngineStats;
  /** Packets dropped because the workers fell behind (always 0 inline: the capture waits for the engine). */
  dropped(): number;
  /** New rules for the packets from packet time `at` on; `swap` moves the alert pipeline to them at that point. */
  reload(rules: Rules, at: number, swap: () => void): Promise<void>;
  /** Called every second (wall clock, ms): a quiet capture puts due reloads in force without a packet. */
  idle(now: number): void;
  stop(): Promise<EngineStats>;
}

/** How long after its time a reload is put in force on a quiet capture: past what the kernel block and a batch hold. */
const QUIET_RELOAD_MS = 500;
/**
 * How far after SIGHUP a reload's packet time is set: above what a fanout worker may read between the signal and the
 * message (the batch it is in, one more at the addon's 50 ms flush), with room for a busy machine.
 */
const RELOAD_AHEAD_MS = 250;

function inlinePath(setup: EngineSetup, rules: Rules, sink: EngineSink): PacketPath {
  const engine = createEngine(engineConfig(setup, rules, 0, 1), sink);
  // One thread: the engine and the pipeline change rules together, at the first packet of the reload's time.
  const reloads = new ReloadsAt<{ rules: Rules; swap: () => void }>((next) => {
    engine.reload(engineRules(next.rules));
    next.swap();
  });
  const run = (b: PacketBatch): void => engine.processBatch(b);
  let lastBatchAt = Date.now();
  return {
    process: (b) => {
      lastBatchAt = Date.now();
      reloads.process(b, run);
    },
    stats: () => engine.stats(),
    dropped: () => 0,
    reload: async (r, at, swap) => reloads.add({ rules: r, swap }, at),
    idle: (now) => {
      if (now - lastBatchAt >= QUIET_RELOAD_MS) reloads.applyUpTo((now - QUIET_RELOAD_MS) / 1000);
    },
    stop: async () => engine.stats(),
  };
}

/** The workers read their own sockets: nothing to hand them, and no queue of batches that could drop. */
function fanoutPath(fan: LiveFanout): PacketPath {
  return {
    process: () => undefined, stats: () => fan.stats(), dropped: () => 0, reload: (r, at, swap) => fan.reload(r, at, swap),
    // The merge's watermark puts a reload in force on a quiet link (live-fanout.ts).
    idle: () => undefined, stop: () => fan.stop(),
  };
}

function summaryLine(caps: Array<{ iface: string; stats: LiveStats }>, packets: number, alerts: Map<string, number>, secs: number): string {
  const per = caps.map(({ iface, stats }) => `${iface}: ${stats.received} received, ${stats.kernelDropped} kernel drops, ${stats.ifDropped} interface drops, ${stats.picketDropped} picket drops`).join('; ');
  const total = [...alerts.values()].reduce((a, b) => a + b, 0);
  return `${packets} packets in ${secs.toFixed(0)} s (${per}); alerts: ${total}${total > 0 ? ` (${[...alerts].sort().map(([k, n]) => `${k}=${n}`).join(' ')})` : ''}`;
}
