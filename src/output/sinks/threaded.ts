import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { EcsDoc } from '../../alert/ecs';
import { httpTransport } from './http';
import { errorText, type Outcome, type Transport } from './queue';
import type { SinkConfig } from './sink';
import { syslogTransport } from './syslog';
import type { NetTransport, Wire, WireOutcome } from './wire';

/** The sinks whose transport runs in a thread of its own: those that talk to a collector over the network. */
export type RemoteConfig = Extract<SinkConfig, { type: 'syslog' | 'http' }>;

export type ToWorker = { type: 'send'; id: number; round: number; wire: Wire } | { type: 'close' } | { type: 'abort' };

export type FromWorker =
  | { type: 'done'; id: number; outcome: WireOutcome }
  | { type: 'error'; id: number; round: number; message: string }
  | { type: 'closed' };

export interface WorkerInit {
  cfg: RemoteConfig;
  /** Int32Array of slots + 1: slot id % slots holds id + 1 once batch id is delivered clean; the last, truncated(). */
  shared: SharedArrayBuffer;
  slots: number;
}

export function makeTransport(cfg: RemoteConfig): NetTransport {
  return cfg.type === 'syslog' ? syslogTransport(cfg) : httpTransport(cfg);
}

interface Pending {
  docs: EcsDoc[];
  resolve: (o: Outcome) => void;
  reject: (e: Error) => void;
}

/** A WireOutcome back in terms of the batch's documents. */
function outcomeOf(docs: EcsDoc[], w: WireOutcome): Outcome {
  const at = (i: number): EcsDoc[] => (docs[i] === undefined ? [] : [docs[i]]);
  const o: Outcome = { retry: w.retry.flatMap(at), failed: w.failed.flatMap((f) => at(f.i).map((doc) => ({ doc, reason: f.reason }))) };
  if (w.retryReason !== undefined) o.retryReason = w.retryReason;
  return o;
}

/**
 * A network transport run in a worker thread, behind the same Transport interface.
 *
 * Why a thread: a replay hands documents to the sinks from one long run of synchronous code and promise callbacks
 * (the capture file is read with readSync), so the main thread's event loop does not turn until the replay is over:
 * no socket callback, no timer, no HTTP response. In this thread a transport could send nothing and confirm nothing
 * meanwhile, and everything past queueDocs went to the spill file however healthy the collector. The worker's event
 * loop keeps turning: it connects, sends and confirms while the replay runs. The queue (memory bound, order,
 * retries, spill, counters) stays in the main thread, and so does encoding (as before, and cheaper than a
 * structured clone of the documents plus encoding in the worker); what crosses is each batch's lines one way and
 * its outcome the other way.
 *
 * Outcomes come back as messages, which the main thread reads only when its loop turns, and also, for a batch
 * delivered in full, through shared memory, which deliveredNow() reads synchronously: that is what lets the queue
 * free room and send the next batch from inside write() while a replay is running.
 *
 * Order after a failure: the main thread learns of a failed batch late, and may have sent more batches meanwhile;
 * sent on a new connection they would overtake the failed one. So the worker refuses every batch of the round
 * (`round`) that failed, and the main thread starts a new round once it has the failure in hand, which is before
 * the queue can send anything again.
 */
export function threadedTransport(cfg: RemoteConfig): Transport {
  // Built here too, for encode() and so that a bad url or number is reported by createSink, not by a thread
  // later; only the worker's copy sends.
  const local = makeTransport(cfg);
  const name = local.name;
  const slots = local.maxInFlight * 2; // the queue never has more than maxInFlight ids open at once
  const shared = new SharedArrayBuffer(4 * (slots + 1));
  const ring = new Int32Array(shared);
  const pending = new Map<number, Pending>();
  let worker: Worker | null = null;
  let round = 0;
  let closing: (() => void) | null = null;

  // A worker with nothing in flight must not keep the process alive; one with sends in flight must.
  const holdProcess = (): void => {
    if (worker === null) return;
    if (pending.size > 0 || closing !== null) worker.ref();
    else worker.unref();
  };
  const failAll = (e: Error): void => {
    const all = [...pending.values()];
    pending.clear();
    for (const p of all) p.reject(e);
    holdProcess();
  };
  const onMessage = (m: FromWorker): void => {
    if (m.type === 'closed') {
      closing?.();
      return;
    }
    if (m.type === 'error' && m.round === round) round++;
    const p = pending.get(m.id);
    if (p === undefined) return; // aborted meanwhile
    pending.delete(m.id);
    holdProcess();
    if (m.type === 'error') p.reject(new Error(m.message));
    else p.resolve(outcomeOf(p.docs, m.outcome));
  };
  const start = (): Worker => {
    const init: WorkerInit = { cfg, shared, slots };
    const w = new Worker(path.join(__dirname, 'transport-worker.js'), { workerData: init });
    w.on('message', onMessage);
    w.on('error', (e) => {
      if (worker === w) worker = null;
      failAll(new Error(`${name}: transport thread: ${errorText(e)}`));
    });
    w.on('exit', () => {
      if (worker === w) {
        worker = null;
        failAll(new Error(`${name}: transport thread exited`));
      }
      closing?.();
    });
    return w;
  };

  // Started now rather than at the first send: a replay that begins at once never lets this thread wait for it.
  worker = start();
  holdProcess();

  return {
    name,
    batchDocs: local.batchDocs,
    batchMs: local.batchMs,
    maxInFlight: local.maxInFlight,
    send(docs, id) {
      const wire = local.encode(docs);
      if (wire.lines.length === 0) return Promise.resolve(outcomeOf(docs, { retry: [], failed: wire.failed }));
      const w = (worker ??= start());
      return new Promise<Outcome>((resolve, reject) => {
        pending.set(id, { docs, resolve, reject });
        holdProcess();
        w.postMessage({ type: 'send', id, round, wire } satisfies ToWorker);
      });
    },
    deliveredNow(id) {
      // Set by the worker only for a batch with nothing to retry and nothing refused (see transport-worker.ts).
      return Atomics.load(ring, id % slots) === ((id + 1) | 0);
    },
    async close() {
      const w = worker;
      if (w === null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        closing = () => {
          clearTimeout(timer);
          resolve();
        };
        holdProcess();
        w.postMessage({ type: 'close' } satisfies ToWorker);
      });
      closing = null;
      worker = null;
      await w.terminate();
    },
    abort() {
      worker?.postMessage({ type: 'abort' } satisfies ToWorker);
      failAll(new Error(`${name}: aborted`));
    },
    truncated: () => Atomics.load(ring, slots),
  };
}
