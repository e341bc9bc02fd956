import { ANALYZERS } from '../app/registry';
import { emptyCounters } from '../core/analyzer';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { createReadWindow, readCaptureFile, type FileReport } from '../capture/file';
import { DECODE_EVENT_COUNT } from '../decode/events';
import { PicketError } from '../errors';
import { createEngine, type EngineSink } from './engine';
import { addStats, emptyStats, type EngineStats } from '../core/observation';
import { createOrderedMerge } from './ordered-merge';
import { engineConfig, type EngineSetup } from './setup';
import type { Rules } from '../config/rules';
import type { WorkerInput, WorkerMessage } from './worker';

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
  return replayWithWorkers(files, setup, workers, sink);
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

function replayWithWorkers(files: string[], setup: EngineSetup, count: number, sink: EngineSink): Promise<ReplayResult> {
  return new Promise((resolve, reject) => {
    const stats = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
    let reports: FileReport[] = [];
    let finished = 0;
    let failed = false;
    const pool: Worker[] = [];
    const merge = createOrderedMerge(count, sink);
    // What the merge has released, for the workers to hold back on (worker.ts, MAX_AHEAD).
    const releasedBuf = new SharedArrayBuffer(8);
    const released = new BigInt64Array(releasedBuf);
    const progress = new Array<number>(count).fill(0);
    const publish = (): void => {
      const upTo = Math.min(...progress);
      Atomics.store(released, 0, BigInt(upTo === Infinity ? Number.MAX_SAFE_INTEGER : upTo));
      Atomics.notify(released, 0);
    };

    const fail = (err: Error): void => {
      if (failed) return;
      failed = true;
      for (const w of pool) void w.terminate();
      reject(err);
    };

    for (let w = 0; w < count; w++) {
      const input: WorkerInput = { setup, files, shardIndex: w, shardCount: count, released: releasedBuf };
      // A small young generation: workers allocate observations fast and keep few; each of them costs its full
      // young generation in RSS (a few MB here against ~16 by default), measured under floods in bench/RESULTS.md.
      const worker = new Worker(path.join(__dirname, 'worker.js'), { workerData: input, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
      pool.push(worker);
      worker.on('message', (msg: WorkerMessage) => {
        if (failed) return;
        try {
          if (msg.type === 'obs') {
            merge.push(w, msg.results, msg.upTo);
            progress[w] = Math.max(progress[w], msg.upTo);
            publish();
          } else if (msg.type === 'done') {
            progress[w] = Infinity;
            publish();
            addStats(stats, msg.stats);
            if (w === 0) reports = msg.files; // every worker reads every file; one report each is enough
            merge.done(w);
            if (++finished === count) {
              for (const wk of pool) void wk.terminate();
              resolve({ stats, files: reports });
            }
          } else {
            fail(new PicketError(msg.message));
          }
        } catch (e) {
          fail(e as Error);
        }
      });
      worker.on('error', (e) => fail(e));
      worker.on('exit', (code) => {
        if (code !== 0 && finished < count) fail(new Error(`worker ${w} exited with code ${code}`));
      });
    }
  });
}
