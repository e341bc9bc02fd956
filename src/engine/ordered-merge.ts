import type { Observation } from '../core/observation';

/**
 * Observations from several shard-owning workers, released in packet order: each worker reports its observations
 * (in its own order) with how far it has got; everything below the point all workers have passed is sorted by
 * ordinal and handed on. So the results do not depend on the number of workers or on their timing.
 */
export interface OrderedMerge {
  push(worker: number, obs: Observation[], upTo: number): void;
  /** The worker has finished: it holds nothing back any more. */
  done(worker: number): void;
}

export function createOrderedMerge(count: number, observe: (o: Observation) => void): OrderedMerge {
  const queues: Observation[][] = Array.from({ length: count }, () => []);
  const progress: number[] = new Array<number>(count).fill(0);
  const release = (): void => {
    const upTo = Math.min(...progress);
    const ready: Observation[] = [];
    for (let w = 0; w < count; w++) {
      const q = queues[w];
      let n = 0;
      while (n < q.length && q[n].ordinal < upTo) n++;
      if (n > 0) ready.push(...q.splice(0, n));
    }
    if (ready.length > 1) ready.sort((a, b) => a.ordinal - b.ordinal);
    for (const o of ready) observe(o);
  };
  return {
    push(w, obs, upTo) {
      if (obs.length > 0) queues[w].push(...obs);
      progress[w] = Math.max(progress[w], upTo);
      release();
    },
    done(w) {
      progress[w] = Infinity;
      release();
    },
  };
}
