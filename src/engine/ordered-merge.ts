import type { Observation } from '../core/observation';
import {
  createScanLog, createScanRecord, scanLogAppend, scanLogOrdinal, scanLogRead, scanLogSeal, scanLogTsNsec, scanLogTsSec, type ScanLog, type ScanRecord,
} from '../core/scan-record';
import type { EngineSink } from './engine';

/** What a worker sends for a stretch of packets: its observations and its connection attempts, each in packet order. */
export interface WorkerResults {
  obs: Observation[];
  scans: ScanLog | null;
}

/** A worker's side of the results: collects what its engine reports until it is taken for a message. */
export interface Outbox extends EngineSink {
  /** Something to send. */
  readonly size: number;
  /** The results so far (their buffers may be transferred), and a fresh start. */
  take(): WorkerResults;
}

export function createOutbox(): Outbox {
  let obs: Observation[] = [];
  let scans = createScanLog();
  return {
    get size() {
      return obs.length + scans.count;
    },
    observe(o) {
      obs.push(o);
    },
    scan(r) {
      scanLogAppend(scans, r);
    },
    take() {
      const out: WorkerResults = { obs, scans: scans.count > 0 ? scanLogSeal(scans) : null };
      obs = [];
      scans.count = 0;
      return out;
    },
  };
}

/** One connection attempt of a worker's results, as an item of a time merge (live capture with several sockets). */
export interface ScanItem {
  tsSec: number;
  tsNsec: number;
  log: ScanLog;
  index: number;
}

/**
 * A worker's results as one list in the order its engine reported them: by ordinal, a packet's attempt record
 * before its observations. Records become small items here (live capture with workers only).
 */
export function interleave(r: WorkerResults): Array<Observation | ScanItem> {
  const out: Array<Observation | ScanItem> = [];
  const log = r.scans;
  const n = log === null ? 0 : log.count;
  let i = 0;
  for (const o of r.obs) {
    for (; log !== null && i < n && scanLogOrdinal(log, i) <= o.ordinal; i++) out.push(scanItem(log, i));
    out.push(o);
  }
  for (; log !== null && i < n; i++) out.push(scanItem(log, i));
  return out;
}

function scanItem(log: ScanLog, index: number): ScanItem {
  return { tsSec: scanLogTsSec(log, index), tsNsec: scanLogTsNsec(log, index), log, index };
}

/** Hands an interleaved item to the sink (`rec` is the sink's reused record). */
export function deliver(item: Observation | ScanItem, sink: EngineSink, rec: ScanRecord): void {
  if ('log' in item) {
    scanLogRead(item.log, item.index, rec);
    sink.scan(rec);
  } else {
    sink.observe(item);
  }
}

/** The buffers of a message's results, for postMessage's transfer list. */
export function transferables(r: WorkerResults): ArrayBuffer[] {
  return r.scans === null ? [] : [r.scans.num.buffer as ArrayBuffer, r.scans.addr.buffer as ArrayBuffer];
}

/**
 * Results from several shard-owning workers, released in packet order: each worker reports its results (in its
 * own order) with how far it has got; everything below the point all workers have passed is handed on by
 * ordinal. So the results do not depend on the number of workers or on their timing. A packet's attempt record
 * goes before its observations, as the engine reports them (a packet belongs to one worker, so ties are within one).
 */
export interface OrderedMerge {
  push(worker: number, results: WorkerResults, upTo: number): void;
  /** The worker has finished: it holds nothing back any more. */
  done(worker: number): void;
}

interface WorkerQueue {
  obs: Observation[];
  obsAt: number;
  logs: ScanLog[];
  logAt: number;
}

export function createOrderedMerge(count: number, sink: EngineSink): OrderedMerge {
  const queues: WorkerQueue[] = Array.from({ length: count }, () => ({ obs: [], obsAt: 0, logs: [], logAt: 0 }));
  const progress: number[] = new Array<number>(count).fill(0);
  const rec: ScanRecord = createScanRecord();
  const scanHead = (q: WorkerQueue): number => (q.logs.length === 0 ? Infinity : scanLogOrdinal(q.logs[0], q.logAt));
  const obsHead = (q: WorkerQueue): number => (q.obsAt < q.obs.length ? q.obs[q.obsAt].ordinal : Infinity);
  const release = (): void => {
    const upTo = Math.min(...progress);
    for (;;) {
      let best: WorkerQueue | null = null;
      let bestOrdinal = upTo;
      let scan = false;
      for (const q of queues) {
        const s = scanHead(q);
        if (s < bestOrdinal) {
          best = q;
          bestOrdinal = s;
          scan = true;
        }
        const o = obsHead(q);
        if (o < bestOrdinal) {
          best = q;
          bestOrdinal = o;
          scan = false;
        }
      }
      if (best === null) break;
      if (scan) {
        scanLogRead(best.logs[0], best.logAt, rec);
        if (++best.logAt === best.logs[0].count) {
          best.logs.shift();
          best.logAt = 0;
        }
        sink.scan(rec);
      } else {
        sink.observe(best.obs[best.obsAt++]);
      }
    }
    for (const q of queues) {
      if (q.obsAt > 0 && (q.obsAt === q.obs.length || q.obsAt >= 4096)) {
        q.obs = q.obs.slice(q.obsAt);
        q.obsAt = 0;
      }
    }
  };
  return {
    push(w, results, upTo) {
      const q = queues[w];
      for (const o of results.obs) q.obs.push(o);
      if (results.scans !== null && results.scans.count > 0) q.logs.push(results.scans);
      progress[w] = Math.max(progress[w], upTo);
      release();
    },
    done(w) {
      progress[w] = Infinity;
      release();
    },
  };
}
