import { packetSeconds } from '../core/time';
/** Anything with a packet timestamp: observations today, per-source scan records tomorrow. */
export interface Timed {
  tsSec: number;
  tsNsec: number;
}

/**
 * Items from several workers that each read their own capture socket, released in packet-time order. There is no
 * packet ordinal across sockets, so each worker reports, with its items, a watermark: "I have seen every packet up
 * to time T" (the last packet time of a batch; for an idle socket, the wall clock less what the kernel and the
 * addon may still hold). Items at or before the lowest watermark of all workers are sorted by time (ties: worker,
 * then the order the worker sent them) and handed on. An item older than what was already released (a worker
 * whose socket fell behind its own idle watermark) goes out with the next release, never held or lost.
 */
export interface TimeMerge<T extends Timed> {
  push(worker: number, items: readonly T[], upTo: number): void;
  /** The worker has finished: it holds nothing back any more. */
  done(worker: number): void;
  /** Items waiting for a slower worker's watermark. */
  waiting(): number;
  /** The point up to which items have been released (seconds). */
  released(): number;
}

export function timeOf(t: Timed): number {
  return packetSeconds(t.tsSec, t.tsNsec);
}

interface Held<T> {
  item: T;
  at: number;
  worker: number;
  seq: number;
}

export function createTimeMerge<T extends Timed>(count: number, release: (item: T, worker: number) => void): TimeMerge<T> {
  const queues: Array<Array<Held<T>>> = Array.from({ length: count }, () => []);
  const marks: number[] = new Array<number>(count).fill(-Infinity);
  let seq = 0;
  let held = 0;
  let upTo = -Infinity;
  const flush = (): void => {
    upTo = Math.max(upTo, Math.min(...marks));
    if (held === 0) return;
    const ready: Array<Held<T>> = [];
    for (let w = 0; w < count; w++) {
      const q = queues[w];
      if (q.length === 0) continue;
      const keep: Array<Held<T>> = [];
      for (const h of q) (h.at <= upTo ? ready : keep).push(h);
      queues[w] = keep;
    }
    if (ready.length === 0) return;
    held -= ready.length;
    ready.sort((a, b) => a.at - b.at || a.worker - b.worker || a.seq - b.seq);
    for (const h of ready) release(h.item, h.worker);
  };
  return {
    push(w, items, mark) {
      for (const item of items) queues[w].push({ item, at: timeOf(item), worker: w, seq: seq++ });
      held += items.length;
      if (mark > marks[w]) marks[w] = mark;
      flush();
    },
    done(w) {
      marks[w] = Infinity;
      flush();
    },
    waiting: () => held,
    released: () => upTo,
  };
}
