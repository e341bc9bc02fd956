// The worker side of threaded.ts: one network transport, driven by messages from the sink's queue.
import { parentPort, workerData } from 'node:worker_threads';
import { errorText } from './queue';
import { makeTransport, type FromWorker, type ToWorker, type WorkerInit } from './threaded';
import { clean, type Wire, type WireOutcome } from './wire';

const init = workerData as WorkerInit;
const port = parentPort;
if (port === null) throw new Error('transport-worker.js runs as a worker thread');
const t = makeTransport(init.cfg);
const ring = new Int32Array(init.shared);
/** Batches of an earlier round than this are refused: a batch of that round failed (see threaded.ts). */
let refuseBelow = 0;
let lastFailure = '';

const post = (m: FromWorker): void => port.postMessage(m);

function send(id: number, round: number, wire: Wire): void {
  if (round < refuseBelow) {
    // The same reason as the failure itself: it is what the queue reports.
    post({ type: 'error', id, round, message: lastFailure });
    return;
  }
  let p: Promise<WireOutcome>;
  try {
    p = t.send(wire, id);
  } catch (e) {
    p = Promise.reject(e);
  }
  p.then(
    (outcome) => {
      Atomics.store(ring, init.slots, t.truncated?.() ?? 0);
      // Shared memory only for a clean outcome: anything to retry or count as refused needs the message.
      if (clean(outcome)) Atomics.store(ring, id % init.slots, (id + 1) | 0);
      post({ type: 'done', id, outcome });
    },
    (e: unknown) => {
      refuseBelow = Math.max(refuseBelow, round + 1);
      lastFailure = errorText(e);
      post({ type: 'error', id, round, message: lastFailure });
    },
  );
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'send') send(m.id, m.round, m.wire);
  else if (m.type === 'abort') t.abort();
  else {
    t.close()
      .catch(() => undefined)
      .then(() => post({ type: 'closed' }));
  }
});
