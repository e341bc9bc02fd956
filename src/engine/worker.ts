import { parentPort, workerData } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch';
import { createEngine } from './engine';
import type { EngineStats } from '../core/observation';
import { createOutbox, transferables, type WorkerResults } from './ordered-merge';
import type { Rules } from '../config/rules';
import { engineConfig, receivedRules, type EngineSetup } from './setup';

/** A batch slot in shared memory: the packet bytes and the per-packet arrays, written by the reading thread. */
export interface SharedSlot {
  data: SharedArrayBuffer;
  offset: SharedArrayBuffer;
  caplen: SharedArrayBuffer;
  origlen: SharedArrayBuffer;
  tsSec: SharedArrayBuffer;
  tsNsec: SharedArrayBuffer;
  linktype: SharedArrayBuffer;
  shard: SharedArrayBuffer;
}

export function newSlot(packets: number, bytes: number): SharedSlot {
  return {
    data: new SharedArrayBuffer(bytes), offset: new SharedArrayBuffer(packets * 4), caplen: new SharedArrayBuffer(packets * 4),
    origlen: new SharedArrayBuffer(packets * 4), tsSec: new SharedArrayBuffer(packets * 8), tsNsec: new SharedArrayBuffer(packets * 4),
    linktype: new SharedArrayBuffer(packets * 2), shard: new SharedArrayBuffer(packets),
  };
}

/** A batch's views of a slot (count and firstOrdinal are set per use). */
export function slotBatch(s: SharedSlot): PacketBatch {
  return {
    data: Buffer.from(s.data), count: 0, offset: new Int32Array(s.offset), caplen: new Int32Array(s.caplen), origlen: new Int32Array(s.origlen),
    tsSec: new Float64Array(s.tsSec), tsNsec: new Uint32Array(s.tsNsec), linktype: new Uint16Array(s.linktype), firstOrdinal: 0,
    shard: new Uint8Array(s.shard),
  };
}

export interface WorkerInput {
  setup: EngineSetup;
  /** The main thread's rules (receivedRules). */
  rules: Rules;
  shardIndex: number;
  shardCount: number;
  slots: SharedSlot[];
}

export type WorkerRequest = { type: 'batch'; slot: number; count: number; firstOrdinal: number } | { type: 'finish' };

export type WorkerMessage =
  | { type: 'done'; slot: number; results: WorkerResults; upTo: number }
  | { type: 'finished'; stats: EngineStats }
  | { type: 'error'; message: string };

/**
 * A replay worker: the main thread reads and frames every capture once into shared slots and tells every worker;
 * each decodes the batch, keeps the packets of its own shard of flows and answers with what its engine reported
 * (observations and attempt records), never the packets.
 */
function run(input: WorkerInput): void {
  const port = parentPort;
  if (port === null) return;
  const rules = receivedRules(input.rules);
  const outbox = createOutbox();
  const engine = createEngine(engineConfig(input.setup, rules, input.shardIndex, input.shardCount), outbox);
  const batches = input.slots.map(slotBatch);
  port.on('message', (m: WorkerRequest) => {
    try {
      if (m.type === 'batch') {
        const b = batches[m.slot];
        b.count = m.count;
        b.firstOrdinal = m.firstOrdinal;
        engine.processBatch(b);
        const results = outbox.take();
        port.postMessage({ type: 'done', slot: m.slot, results, upTo: m.firstOrdinal + m.count } satisfies WorkerMessage, transferables(results));
      } else {
        port.postMessage({ type: 'finished', stats: engine.stats() } satisfies WorkerMessage);
        port.close();
      }
    } catch (e) {
      port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMessage);
    }
  });
}

run(workerData as WorkerInput);
