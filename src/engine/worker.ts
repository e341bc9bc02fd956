import { parentPort, workerData } from 'node:worker_threads';
import { createReadWindow, readCaptureFile, type FileReport } from '../capture/file';
import { createEngine } from './engine';
import type { Observation } from '../core/observation';
import { engineConfig, loadAllRules, type EngineSetup } from './setup';

export interface WorkerInput {
  setup: EngineSetup;
  files: string[];
  shardIndex: number;
  shardCount: number;
}

export type WorkerMessage =
  | { type: 'obs'; obs: Observation[]; upTo: number }
  | { type: 'done'; stats: ReturnType<ReturnType<typeof createEngine>['stats']>; files: FileReport[] }
  | { type: 'error'; message: string };

/**
 * A replay worker reads every input itself (from the page cache) and keeps only its shard of flows: packets never
 * cross threads, only the rare observations do, each batch's worth with how far this worker has got.
 */
const PROGRESS_EVERY = 32;

async function run(input: WorkerInput): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const rules = loadAllRules(input.setup);
  let pending: Observation[] = [];
  const engine = createEngine(engineConfig(input.setup, rules, input.shardIndex, input.shardCount), (o) => pending.push(o));
  const reports: FileReport[] = [];
  let ordinal = 0;
  let quiet = 0;
  const window = createReadWindow();
  for (const file of input.files) {
    const rep = await readCaptureFile(file, (batch) => {
      engine.processBatch(batch);
      // A message costs tens of µs: send when there is something to say, or now and then to report progress
      // (the main thread releases observations only below every worker's progress).
      if (pending.length > 0 || ++quiet >= PROGRESS_EVERY) {
        const msg: WorkerMessage = { type: 'obs', obs: pending, upTo: batch.firstOrdinal + batch.count };
        port.postMessage(msg);
        pending = [];
        quiet = 0;
      }
    }, { firstOrdinal: ordinal, window, batchPackets: input.setup.batchPackets });
    ordinal += rep.packets;
    reports.push(rep);
  }
  const done: WorkerMessage = { type: 'done', stats: engine.stats(), files: reports };
  port.postMessage(done);
}

run(workerData as WorkerInput).catch((e: unknown) => {
  const msg: WorkerMessage = { type: 'error', message: e instanceof Error ? e.message : String(e) };
  parentPort?.postMessage(msg);
});
