import { parentPort, workerData } from 'node:worker_threads';
import { createReadWindow, readCaptureFile, type FileReport } from '../capture/file';
import { createEngine } from './engine';
import { createOutbox, transferables, type WorkerResults } from './ordered-merge';
import { engineConfig, loadAllRules, type EngineSetup } from './setup';

export interface WorkerInput {
  setup: EngineSetup;
  files: string[];
  shardIndex: number;
  shardCount: number;
  /** One BigInt64: the ordinal below which the main thread has released every worker's observations. */
  released: SharedArrayBuffer;
}

/**
 * How far (packets) a worker may run ahead of what the main thread has released. The merge holds a worker's
 * observations until every worker has passed them, and the main thread's detectors may be slower than the
 * workers' packet path (a flood: every packet an attempt of a new source): unbounded, the lead of one worker and
 * the messages waiting for the main thread took 1.1-1.7 GB for 2 M SYNs or datagrams with 2 workers.
 */
const MAX_AHEAD = 32768n;

export type WorkerMessage =
  | { type: 'obs'; results: WorkerResults; upTo: number }
  | { type: 'done'; stats: ReturnType<ReturnType<typeof createEngine>['stats']>; files: FileReport[] }
  | { type: 'error'; message: string };

/**
 * A replay worker reads every input itself (from the page cache) and keeps only its shard of flows: packets never
 * cross threads, only the rare observations do, each batch's worth with how far this worker has got.
 */
const PROGRESS_EVERY = 1;

async function run(input: WorkerInput): Promise<void> {
  const port = parentPort;
  if (port === null) return;
  const rules = loadAllRules(input.setup);
  const outbox = createOutbox();
  const engine = createEngine(engineConfig(input.setup, rules, input.shardIndex, input.shardCount), outbox);
  const reports: FileReport[] = [];
  const released = new BigInt64Array(input.released);
  let ordinal = 0;
  let quiet = 0;
  const window = createReadWindow();
  for (const file of input.files) {
    const rep = await readCaptureFile(file, (batch) => {
      engine.processBatch(batch);
      // A message costs tens of µs: send when there is something to say, or now and then to report progress
      // (the main thread releases observations only below every worker's progress).
      if (outbox.size > 0 || ++quiet >= PROGRESS_EVERY) {
        const results = outbox.take();
        const msg: WorkerMessage = { type: 'obs', results, upTo: batch.firstOrdinal + batch.count };
        port.postMessage(msg, transferables(results));
        quiet = 0;
        // Blocking is fine: this thread has nothing else to do until the others and the main thread catch up. The
        // worker furthest behind never waits (what it reported is the released point), so they cannot all wait.
        const upTo = BigInt(msg.upTo);
        for (let r = Atomics.load(released, 0); upTo - r > MAX_AHEAD; r = Atomics.load(released, 0)) Atomics.wait(released, 0, r, 1000);
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
