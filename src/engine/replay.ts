import { ANALYZERS } from '../app/registry';
import { emptyCounters } from '../core/analyzer';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createReadWindow, READ_WINDOW, readCaptureFile, type FileReport } from '../capture/file';
import type { PacketBatch } from '../capture/batch';
import { DECODE_EVENT_COUNT } from '../decode/events';
import { PicketError } from '../errors';
import { createEngine, type EngineSink } from './engine';
import { createFrameSharder } from './frame-shard';
import { addStats, emptyStats, type EngineStats } from '../core/observation';
import { createOrderedMerge } from './ordered-merge';
import { engineConfig, type EngineSetup } from './setup';
import type { Rules } from '../config/rules';
import { newSlot, slotBatch, type WorkerInput, type WorkerMessage, type WorkerRequest } from './worker';

const WORKER_YOUNG_MB = 4;

export interface ReplayResult {
  stats: EngineStats;
  files: FileReport[];
}

/**
 * Runs the packet path over ordered capture files and hands every observation and attempt, in input order, to `sink`.
 * workers = 0 runs inline in this thread; N > 0 runs N shard-owning workers and merges their observations by
 * packet ordinal, so the observations (and all that follows from them) are the same for every N.
 */
export async function replayFiles(
  files: string[], setup: EngineSetup, rules: Rules, workers: number, sink: EngineSink,
): Promise<ReplayResult> {
  if (workers === 0) return replayInline(files, setup, rules, sink);
  return replayWithWorkers(files, setup, rules, workers, sink);
}

async function replayInline(files: string[], setup: EngineSetup, rules: Rules, sink: EngineSink): Promise<ReplayResult> {
  const engine = createEngine(engineConfig(setup, rules, 0, 1), sink);
  const reports: FileReport[] = [];
  const window = createReadWindow();
  let ordinal = 0;
  for (const file of files) {
    const rep = await readCaptureFile(file, (b) => engine.processBatch(b), { firstOrdinal: ordinal, window, batchPackets: setup.batchPackets });
    ordinal += rep.packets;
    reports.push(rep);
  }
  return { stats: engine.stats(), files: reports };
}

/** Read windows shared with the workers: one being read into, the others being processed. */
const SLOTS = 6;
/** Most packets one read window can hold (the smallest record is a 16-byte header). */
const SLOT_BYTES = 4 * READ_WINDOW;
const SLOT_PACKETS = SLOT_BYTES / 16;
/**
 * Packets a window is filled to hold (readCaptureFile's windowPackets): what workers report on a window waits in
 * the merge until every worker has answered, so memory goes with the packets in flight. Full 4 MiB windows of a
 * flood's 54-byte SYNs are 60 k packets each, and 2 workers peaked at 320 MB on bench/flood-rss.ts (215 MB before
 * the shared read); the mix's windows (~11 k packets) are not cut.
 */
const WINDOW_PACKETS = 16384;

/**
 * `--workers N`: this thread reads and frames every capture once, straight into shared read windows, and tells
 * every worker of each filled window; each keeps its own shard of flows. Their results are merged by packet
 * ordinal, so they are the same for every N. Reading waits for a window the workers are done with.
 */
async function replayWithWorkers(files: string[], setup: EngineSetup, rules: Rules, count: number, sink: EngineSink): Promise<ReplayResult> {
  const frameSharder = createFrameSharder(rules.policy, count, setup.metadata);
  const slots = Array.from({ length: SLOTS }, () => newSlot(SLOT_PACKETS, SLOT_BYTES));
  const views = slots.map(slotBatch);
  /** Workers still to answer for each window (0: free). */
  const busy = new Array<number>(SLOTS).fill(0);
  const merge = createOrderedMerge(count, sink);
  const stats = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
  const pool: Worker[] = [];
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const signal = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  let finished = 0;
  for (let w = 0; w < count; w++) {
    const input: WorkerInput = { setup, rules, shardIndex: w, shardCount: count, slots };
    const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
    pool.push(worker);
    worker.on('message', (m: WorkerMessage) => {
      if (failure !== null) return;
      try {
        if (m.type === 'done') {
          merge.push(w, m.results, m.upTo);
          busy[m.slot]--;
        } else if (m.type === 'finished') {
          addStats(stats, m.stats);
          merge.done(w);
          finished++;
        } else {
          failure = new PicketError(m.message);
        }
      } catch (e) {
        failure = e as Error;
      }
      signal();
    });
    worker.on('error', (e) => {
      failure ??= e;
      signal();
    });
    worker.on('exit', (code) => {
      if (code !== 0 && finished < count) failure ??= new Error(`worker ${w} exited with code ${code}`);
      signal();
    });
  }
  const until = async (ready: () => boolean): Promise<void> => {
    while (failure === null && !ready()) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== null) throw failure;
  };
  /** The window being read into, and the packets framed in it so far (one message per window, whatever the batch size). */
  let current = 0;
  const add = (b: PacketBatch): void => {
    const v = views[current];
    if (v.count === 0) v.firstOrdinal = b.firstOrdinal;
    v.offset.set(b.offset.subarray(0, b.count), v.count);
    v.caplen.set(b.caplen.subarray(0, b.count), v.count);
    v.origlen.set(b.origlen.subarray(0, b.count), v.count);
    v.tsSec.set(b.tsSec.subarray(0, b.count), v.count);
    v.tsNsec.set(b.tsNsec.subarray(0, b.count), v.count);
    v.linktype.set(b.linktype.subarray(0, b.count), v.count);
    frameSharder(b, v.shard!, v.count);
    v.count += b.count;
  };
  /** Hands the current window to the workers and waits for a free one to read into next. */
  const nextWindow = async (): Promise<Buffer> => {
    const v = views[current];
    if (v.count > 0) {
      busy[current] = count;
      const msg: WorkerRequest = { type: 'batch', slot: current, count: v.count, firstOrdinal: v.firstOrdinal };
      for (const wk of pool) wk.postMessage(msg);
      await until(() => busy.includes(0));
      current = busy.indexOf(0);
      views[current].count = 0;
    }
    return views[current].data;
  };
  try {
    const reports: FileReport[] = [];
    let ordinal = 0;
    for (const file of files) {
      const rep = await readCaptureFile(file, add, { firstOrdinal: ordinal, window: views[current].data, batchPackets: setup.batchPackets, nextWindow, windowPackets: WINDOW_PACKETS });
      await nextWindow();
      ordinal += rep.packets;
      reports.push(rep);
    }
    await until(() => busy.every((n) => n === 0));
    for (const wk of pool) wk.postMessage({ type: 'finish' } satisfies WorkerRequest);
    await until(() => finished === count);
    return { stats, files: reports };
  } finally {
    for (const wk of pool) void wk.terminate();
  }
}
