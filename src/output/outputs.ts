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
  /** The sinks, when there are any: their counters go to metrics and the summary. */
  sinks: Sink | null;
  /** Flushes and closes everything; resolves with the sinks' final counters. */
  close(timeoutMs?: number): Promise<SinkStats | null>;
}

export type OutputSpec = SinkConfig & { format?: 'ndjson' | 'text' };

export function createOutputs(specs: OutputSpec[], common: { spillDir?: string; queueDocs?: number; spillMaxBytes?: number }): Outputs {
  const writers: Output[] = [];
  const sinkList: Sink[] = [];
  for (const s of specs) {
    // Text is for people reading a terminal; sinks carry NDJSON for machines.
    if (s.type === 'stdout' && s.format === 'text') writers.push(createOutput(null, 'text'));
    else sinkList.push(createSink(s, common));
  }
  const sinks = sinkList.length === 0 ? null : sinkList.length === 1 ? sinkList[0] : createFanout(sinkList);
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
    sinks,
    async close(timeoutMs) {
      out.close();
      return sinks === null ? null : sinks.close(timeoutMs);
    },
  };
}

/** An output whose every document is stamped first (ecs.version, event.id: see createEcsStamper). */
export function stampedOutput(out: Output, stamp: (doc: EcsDoc) => EcsDoc): Output {
  return { write: (doc) => out.write(stamp(doc)), flush: () => out.flush(), close: () => out.close(), written: () => out.written() };
}
