import type { EcsDoc } from '../alert/ecs';
import { createFanout, createSink, type Sink, type SinkConfig, type SinkStats } from './sinks/sink';
import { createOutput, type Output } from './writer';

/**
 * Where documents go: the synchronous writer for plain stdout/--out use (a failing output is known at once and
 * stops a replay), or the asynchronous sinks of picket.yaml / --syslog / --http-out (bounded queues, retries, a
 * spill file: a slow or dead sink never stops capture). Either way the pipeline sees one Output.
 */
export interface Outputs {
  out: Output;
  /** The sinks, each on its own: their counters go to metrics and the summary. */
  sinks: readonly Sink[];
  /**
   * Where fleet scan summaries go: the NATS sinks only, never the other outputs; null when there is no NATS sink
   * (then the scan aggregator is given no summary hook and does no work for it).
   */
  summaries: ((summary: object) => void) | null;
  /** Flushes and closes everything; resolves with each sink's final counters. */
  close(timeoutMs?: number): Promise<SinkStats[]>;
}

export type OutputSpec = SinkConfig & { format?: 'ndjson' | 'text' };

export function createOutputs(specs: OutputSpec[], common: { spillDir?: string; queueDocs?: number; spillMaxBytes?: number }): Outputs {
  const writers: Output[] = [];
  const sinkList: Sink[] = [];
  const natsSinks: Sink[] = [];
  for (const s of specs) {
    // Text is for people reading a terminal; sinks carry NDJSON for machines.
    if (s.type === 'stdout' && s.format === 'text') writers.push(createOutput(null, 'text'));
    else if (s.type === 'nats') natsSinks.push(createSink(s, common));
    else sinkList.push(createSink(s, common));
  }
  // A fleet stream carries alerts: not protocol events, nor the run's counters.
  const alertsOnly = natsSinks.map((n): Sink => ({
    name: n.name,
    write: (doc) => ((doc.event as { kind?: unknown } | undefined)?.kind === 'alert' ? n.write(doc) : undefined),
    flush: (t) => n.flush(t),
    close: (t) => n.close(t),
    stats: () => n.stats(),
  }));
  const all = [...sinkList, ...alertsOnly];
  const sinks = all.length === 0 ? null : all.length === 1 ? all[0] : createFanout(all);
  let closing: Promise<SinkStats[]> | null = null;
  let written = 0;
  const out: Output = {
    write(doc: EcsDoc) {
      written++;
      for (const w of writers) w.write(doc);
      sinks?.write(doc);
    },
    flush() {
      for (const w of writers) w.flush();
    },
    close() {
      for (const w of writers) w.close();
    },
    // Documents written, once each however many outputs took them (each sink's own counts are in its stats).
    written: () => written,
  };
  return {
    out,
    sinks: all,
    summaries: natsSinks.length === 0 ? null : (summary) => {
      for (const n of natsSinks) n.write(summary as EcsDoc);
    },
    close(timeoutMs) {
      closing ??= (async () => {
        out.close();
        await sinks?.close(timeoutMs);
        return all.map((s) => s.stats());
      })();
      return closing;
    },
  };
}

/** A sink that has not delivered everything it was given. */
export function undelivered(s: SinkStats): boolean {
  return s.delivered < s.accepted;
}

/**
 * Where every document of every sink went, one line a sink, when any sink has not delivered everything it was
 * given; null when all did. Said at the end of a run (and the exit status says it too: EXIT_UNDELIVERED).
 */
export function deliveryReport(stats: readonly SinkStats[]): string | null {
  if (!stats.some(undelivered)) return null;
  const lines = ['outputs did not deliver everything:'];
  for (const s of stats) {
    const parts = [`${s.delivered} of ${s.accepted} delivered`];
    if (s.spillPending > 0) parts.push(`${s.spillPending} spilled to ${s.spillFile ?? 'the spill file'} (sent first when the sink is back, by this or the next run)`);
    if (s.dropped > 0) parts.push(`${s.dropped} dropped`);
    if (s.failures > 0) parts.push(`${s.failures} refused by the target`);
    lines.push(`  ${s.name}: ${parts.join(', ')}${undelivered(s) && s.lastError !== undefined ? ` (last error: ${s.lastError})` : ''}`);
  }
  return lines.join('\n');
}

/** An output whose every document is stamped first (ecs.version, event.id: see createEcsStamper). */
export function stampedOutput(out: Output, stamp: (doc: EcsDoc) => EcsDoc): Output {
  return { write: (doc) => out.write(stamp(doc)), flush: () => out.flush(), close: () => out.close(), written: () => out.written() };
}

/** How often a live sensor looks at its sinks' health. */
const HEALTH_EVERY_MS = 1000;

/**
 * Says on stderr (the journal, for the service) when a sink starts failing and when it recovers, with where its
 * documents are meanwhile: a sink that is down is never a silent matter, also with --quiet. Returns the timer.
 */
export function watchSinkHealth(sinks: readonly Sink[], say: (line: string) => void): NodeJS.Timeout {
  const was = sinks.map(() => false);
  const timer = setInterval(() => {
    sinks.forEach((sink, i) => {
      const s = sink.stats();
      if (s.failing === was[i]) return;
      was[i] = s.failing;
      if (s.failing) {
        const spill = s.spillFile === undefined ? ' (no spill directory: lost if the sink is not back before picket exits)' : `, ${s.spillPending} in ${s.spillFile}`;
        say(`output ${s.name} is failing (${s.lastError ?? 'no reason given'}): retrying; ${s.queued} documents in memory${spill}`);
      } else {
        say(`output ${s.name} delivers again: ${s.delivered} delivered so far, ${s.spillPending} still in the spill file (sent first), ${s.dropped} dropped`);
      }
    });
  }, HEALTH_EVERY_MS);
  timer.unref();
  return timer;
}
