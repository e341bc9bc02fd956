import { parentPort, workerData } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch';
import { createEngine } from './engine';
import type { EngineStats } from '../core/observation';
import { createOutbox, transferables, type WorkerResults } from './ordered-merge';
import { engineConfig, loadAllRules, type EngineSetup } from './setup';

/** A batch slot in shared memory: the packet bytes and the per-packet arrays, written by the main thread. */
export interface SharedSlot {
  data: SharedArrayBuffer;
  offset: SharedArrayBuffer;
  caplen: SharedArrayBuffer;
  origlen: SharedArrayBuffer;
  tsSec: SharedArrayBuffer;
  tsNsec: SharedArrayBuffer;
  linktype: SharedArrayBuffer;
}

export interface LiveWorkerInput {
  setup: EngineSetup;
  shardIndex: number;
  shardCount: number;
  slots: SharedSlot[];
}

export type LiveWorkerRequest =
  | { type: 'batch'; slot: number; count: number; firstOrdinal: number }
  | { type: 'reload' }
  | { type: 'stop' };

export type LiveWorkerReply =
  | { type: 'done'; slot: number; results: WorkerResults; upTo: number; stats: EngineStats }
  | { type: 'reloaded'; error: string | null }
  | { type: 'stopped'; stats: EngineStats }
  | { type: 'error'; message: string };

export function slotBatch(s: SharedSlot): PacketBatch {
  return {
    data: Buffer.from(s.data), count: 0, offset: new Int32Array(s.offset), caplen: new Int32Array(s.caplen), origlen: new Int32Array(s.origlen),
    tsSec: new Float64Array(s.tsSec), tsNsec: new Uint32Array(s.tsNsec), linktype: new Uint16Array(s.linktype), firstOrdinal: 0,
  };
}

/**
 * A live-capture worker: every batch is in shared memory, seen by all workers; each decodes the packets of its
 * own shard of flows (a symmetric hash, as in replay) and sends back only observations, with its counters.
 */
function run(input: LiveWorkerInput): void {
  const port = parentPort;
  if (port === null) return;
  let rules = loadAllRules(input.setup);
  const outbox = createOutbox();
  const engine = createEngine(engineConfig(input.setup, rules, input.shardIndex, input.shardCount), outbox);
  const batches = input.slots.map(slotBatch);
  port.on('message', (m: LiveWorkerRequest) => {
    try {
      if (m.type === 'batch') {
        const b = batches[m.slot];
        b.count = m.count;
        b.firstOrdinal = m.firstOrdinal;
        engine.processBatch(b);
        const results = outbox.take();
        const reply: LiveWorkerReply = { type: 'done', slot: m.slot, results, upTo: m.firstOrdinal + m.count, stats: engine.stats() };
        port.postMessage(reply, transferables(results));
      } else if (m.type === 'reload') {
        try {
          rules = loadAllRules(input.setup);
          engine.reload({ intel: rules.intel, fingerprints: rules.fingerprints, signatures: rules.signatures, policy: rules.policy });
          port.postMessage({ type: 'reloaded', error: null } satisfies LiveWorkerReply);
        } catch (e) {
          port.postMessage({ type: 'reloaded', error: (e as Error).message } satisfies LiveWorkerReply);
        }
      } else {
        port.postMessage({ type: 'stopped', stats: engine.stats() } satisfies LiveWorkerReply);
        port.close();
      }
    } catch (e) {
      port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies LiveWorkerReply);
    }
  });
}

run(workerData as LiveWorkerInput);
