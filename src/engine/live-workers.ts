import { ANALYZERS } from '../app/registry';
import { emptyCounters } from '../core/analyzer';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch';
import { DECODE_EVENT_COUNT } from '../decode/events';
import { PicketError } from '../errors';
import type { LiveWorkerInput, LiveWorkerReply, LiveWorkerRequest, SharedSlot } from './live-worker';
import { addStats, emptyStats, type EngineStats } from '../core/observation';
import type { EngineSink } from './engine';
import { createOrderedMerge } from './ordered-merge';
import type { EngineSetup } from './setup';

/** Batches in flight between the capture and the workers; all of them busy is when picket drops (and counts). */
const SLOTS = 8;
const SLOT_PACKETS = 32768;
const SLOT_BYTES = 8 << 20;

export interface LiveWorkers {
  /**
   * Hands a batch to the workers. When every slot is busy, the batch is held (`hold`, from the capture source:
   * capture then reads no more into that buffer, and the kernel ring takes the backlog) and handed on as slots free
   * up, in order; where the source cannot hold, it is dropped and counted, and false returned.
   */
  process(batch: PacketBatch, hold: () => (() => void) | null): boolean;
  stats(): EngineStats;
  /** Packets dropped because the workers were behind. */
  dropped(): number;
  reload(): Promise<void>;
  /** Waits for the batches in flight, then stops the workers; resolves with their final counters. */
  stop(): Promise<EngineStats>;
}

function newSlot(): SharedSlot {
  return {
    data: new SharedArrayBuffer(SLOT_BYTES), offset: new SharedArrayBuffer(SLOT_PACKETS * 4), caplen: new SharedArrayBuffer(SLOT_PACKETS * 4),
    origlen: new SharedArrayBuffer(SLOT_PACKETS * 4), tsSec: new SharedArrayBuffer(SLOT_PACKETS * 8), tsNsec: new SharedArrayBuffer(SLOT_PACKETS * 4),
    linktype: new SharedArrayBuffer(SLOT_PACKETS * 2),
  };
}

/**
 * `picket capture --workers N`: the same shard-owning workers as replay, fed from shared memory. The capture
 * thread copies each batch once into a free slot and tells every worker; each decodes its own shard and answers
 * with observations, which are merged in packet order as in replay. A slot is free again when all have answered.
 */
export function startLiveWorkers(setup: EngineSetup, count: number, sink: EngineSink, onError: (e: Error) => void): LiveWorkers {
  const slots = Array.from({ length: SLOTS }, newSlot);
  const views = slots.map((s) => ({
    data: Buffer.from(s.data), offset: new Int32Array(s.offset), caplen: new Int32Array(s.caplen), origlen: new Int32Array(s.origlen),
    tsSec: new Float64Array(s.tsSec), tsNsec: new Uint32Array(s.tsNsec), linktype: new Uint16Array(s.linktype),
  }));
  const busy = new Array<number>(SLOTS).fill(0);
  const lastStats: EngineStats[] = Array.from({ length: count }, () => emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS)));
  const merge = createOrderedMerge(count, sink);
  let dropped = 0;
  let inFlight = 0;
  let drained: (() => void) | null = null;
  let drainWaiting: () => void = () => undefined;
  let reloadWaiters: Array<{ left: number; errors: string[]; done: (err: string | null) => void }> = [];
  const workers: Worker[] = [];

  for (let w = 0; w < count; w++) {
    const input: LiveWorkerInput = { setup, shardIndex: w, shardCount: count, slots };
    const worker = new Worker(path.join(__dirname, 'live-worker.js'), { workerData: input });
    worker.on('message', (m: LiveWorkerReply) => {
      if (m.type === 'done') {
        lastStats[w] = m.stats;
        merge.push(w, m.results, m.upTo);
        if (--busy[m.slot] === 0) {
          inFlight--;
          drainWaiting();
        }
      } else if (m.type === 'reloaded') {
        const r = reloadWaiters[0];
        if (m.error !== null) r.errors.push(m.error);
        if (--r.left === 0) {
          reloadWaiters = reloadWaiters.slice(1);
          r.done(r.errors.length > 0 ? r.errors[0] : null);
        }
      } else if (m.type === 'stopped') {
        lastStats[w] = m.stats;
      } else {
        onError(new PicketError(`worker ${w}: ${m.message}`));
      }
    });
    worker.on('error', (e) => onError(e));
    workers.push(worker);
  }

  /** Batches held by the capture source, waiting for a slot, oldest first, with the end of their packet bytes. */
  const waiting: Array<{ batch: PacketBatch; end: number; release: () => void }> = [];

  /** Copies the batch (its bytes up to `end`) into a free slot and tells every worker; false when no slot is free. */
  const dispatch = (batch: PacketBatch, end: number): boolean => {
    const slot = busy.indexOf(0);
    if (slot < 0) return false;
    const v = views[slot];
    batch.data.copy(v.data, 0, 0, end);
    v.offset.set(batch.offset.subarray(0, batch.count));
    v.caplen.set(batch.caplen.subarray(0, batch.count));
    v.origlen.set(batch.origlen.subarray(0, batch.count));
    v.tsSec.set(batch.tsSec.subarray(0, batch.count));
    v.tsNsec.set(batch.tsNsec.subarray(0, batch.count));
    v.linktype.set(batch.linktype.subarray(0, batch.count));
    busy[slot] = count;
    inFlight++;
    const msg: LiveWorkerRequest = { type: 'batch', slot, count: batch.count, firstOrdinal: batch.firstOrdinal };
    for (const w of workers) w.postMessage(msg);
    return true;
  };

  /** A slot came free: hand on the held batches that fit, in order, and give their buffers back to the capture. */
  drainWaiting = (): void => {
    while (waiting.length > 0 && dispatch(waiting[0].batch, waiting[0].end)) {
      const held = waiting.shift();
      held?.release();
    }
    if (waiting.length === 0 && inFlight === 0 && drained !== null) drained();
  };

  return {
    process(batch, hold) {
      let end = 0;
      for (let i = 0; i < batch.count; i++) end = Math.max(end, batch.offset[i] + batch.caplen[i]);
      if (batch.count > SLOT_PACKETS || end > SLOT_BYTES) {
        dropped += batch.count;
        return false;
      }
      // Behind held batches, a new one waits too: order is kept.
      if (waiting.length === 0 && dispatch(batch, end)) return true;
      const release = hold();
      if (release === null) {
        dropped += batch.count;
        return false;
      }
      waiting.push({ batch, end, release });
      return true;
    },
    stats() {
      const total = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
      for (const s of lastStats) addStats(total, s);
      return total;
    },
    dropped: () => dropped,
    reload() {
      return new Promise((resolve, reject) => {
        reloadWaiters.push({ left: count, errors: [], done: (err) => (err === null ? resolve() : reject(new PicketError(err))) });
        for (const w of workers) w.postMessage({ type: 'reload' } satisfies LiveWorkerRequest);
      });
    },
    async stop() {
      if (inFlight > 0 || waiting.length > 0) await new Promise<void>((resolve) => (drained = resolve));
      await Promise.all(workers.map((w) => new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.postMessage({ type: 'stop' } satisfies LiveWorkerRequest);
      })));
      for (let w = 0; w < count; w++) merge.done(w);
      const total = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
      for (const s of lastStats) addStats(total, s);
      return total;
    },
  };
}
