import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { ANALYZERS } from '../app/registry';
import type { LiveOptions, LiveStats } from '../capture/live';
import { createIngressMap } from '../capture/ingress';
import { emptyCounters } from '../core/analyzer';
import { addStats, emptyStats, type EngineStats, type Observation } from '../core/observation';
import { createScanRecord } from '../core/scan-record';
import type { EngineSink } from './engine';
import { deliver, interleave, type ScanItem } from './ordered-merge';
import { DECODE_EVENT_COUNT } from '../decode/events';
import { PicketError } from '../errors';
import type { FanoutProgress, FanoutRing, FanoutWorkerInput, FanoutWorkerReply, FanoutWorkerRequest } from './fanout-worker';
import type { Rules } from '../config/rules';
import type { EngineSetup } from './setup';
import { createTimeMerge, timeOf } from './time-merge';

/** An idle worker reports every IDLE_MS, claiming to have seen everything up to LAG_MS ago (see time-merge.ts). */
const IDLE_MS = 100;
/** Above the libpcap block timeout (20 ms) plus the addon's flush interval (50 ms), with room for a busy machine. */
const LAG_MS = 500;

export interface SocketStats {
  iface: string;
  worker: number;
  stats: LiveStats;
}

export interface LiveFanout {
  /** The PACKET_FANOUT group of each interface, in the order given. */
  readonly groups: number[];
  readonly linktypes: number[];
  stats(): EngineStats;
  /** Capture counters per interface, summed over the workers' sockets. */
  capture(): Array<{ iface: string; stats: LiveStats }>;
  /** Capture counters of every socket. */
  sockets(): SocketStats[];
  /** Observations waiting in the merge for a slower worker. */
  waiting(): number;
  /**
   * With several interfaces, called from the sink: the interface packet `ordinal` came in on, of the worker whose
   * observation or attempt is being handed over (workers number their own packets, and say which socket each of
   * their batches came from); null otherwise.
   */
  ingressOf(ordinal: number): string | null;
  /**
   * New rules from packet time `at` (seconds) on: every worker takes them before its first packet at or after `at`,
   * and `swap` (the caller's alert pipeline taking them) runs when the merge first hands on an item at or after
   * `at`, or its watermark passes `at`. Every thread thus changes rules at one point of the merged stream, and no
   * observation's rule positions (intel entries, signatures, fingerprints) are read against the other set.
   * Resolves when every worker has the rules; rejects if one could not take them.
   */
  reload(rules: Rules, at: number, swap: () => void): Promise<void>;
  /** Stops every socket, delivers what they still held, stops the workers; resolves with their final counters. */
  stop(): Promise<EngineStats>;
}

const zero = (): LiveStats => ({ received: 0, kernelDropped: 0, ifDropped: 0, picketDropped: 0, batches: 0 });

/**
 * `picket capture --workers N`: N workers, each with its own socket on every interface, joined per interface in a
 * PACKET_FANOUT group, so the kernel spreads whole flows over them and no thread copies another's packets. The
 * first worker founds the groups, the others join them. Their observations are merged in packet-time order
 * (time-merge.ts) and handed to `sink`; DNS answer ties one worker reads are passed to all the others.
 */
export async function startLiveFanout(setup: EngineSetup, rules: Rules, count: number, captures: LiveOptions[], ring: FanoutRing | null,
  sink: EngineSink, onError: (e: Error) => void, onProgress: () => void): Promise<LiveFanout> {
  const rec = createScanRecord();
  const ingress = captures.length > 1 ? Array.from({ length: count }, () => createIngressMap()) : null;
  /** The worker whose item is being delivered (-1: none). */
  let deliveringWorker = -1;
  /** Reloads whose packet time the merge has not reached yet, oldest first. */
  const swaps: Array<{ at: number; swap: () => void }> = [];
  const swapUpTo = (t: number): void => {
    while (swaps.length > 0 && swaps[0].at <= t) swaps.shift()!.swap();
  };
  const merge = createTimeMerge<Observation | ScanItem>(count, (item, w) => {
    swapUpTo(timeOf(item));
    deliveringWorker = w;
    try {
      deliver(item, sink, rec);
    } finally {
      deliveringWorker = -1;
    }
  });
  const lastStats: EngineStats[] = Array.from({ length: count }, () => emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS)));
  const lastCapture: LiveStats[][] = Array.from({ length: count }, () => captures.map(zero));
  const workers: Worker[] = [];
  const stopped: Array<Promise<void>> = [];
  let reloadWaiters: Array<{ left: number; errors: string[]; done: (err: string | null) => void }> = [];
  /** Until every worker has opened its sockets, a failure fails the start (the caller is not running yet). */
  let running = false;
  const failed = (e: Error, reject: (e: Error) => void): void => {
    if (running) onError(e);
    else reject(e);
  };

  const take = (w: number, p: FanoutProgress): void => {
    lastStats[w] = p.stats;
    lastCapture[w] = p.capture;
    for (let k = 0; ingress !== null && k + 2 < p.ingress.length; k += 3) ingress[w].record(p.ingress[k], p.ingress[k + 1], captures[p.ingress[k + 2]].iface);
    if (p.answers.length > 0) {
      const msg: FanoutWorkerRequest = { type: 'answers', list: p.answers };
      workers.forEach((other, k) => {
        if (k !== w) other.postMessage(msg);
      });
    }
    merge.push(w, interleave(p.results), p.upTo);
    // A quiet link: the watermark passes a reload's time with no item to carry it.
    swapUpTo(merge.released());
  };

  const spawn = (w: number, groups: Array<number | 'new'>): Promise<{ groups: number[]; linktypes: number[] }> => {
    const input: FanoutWorkerInput = { setup, rules, index: w, captures: captures.map((c, i) => ({ ...c, fanout: groups[i] })), ring, idleMs: IDLE_MS, lagMs: LAG_MS };
    const worker = new Worker(path.join(__dirname, 'fanout-worker.js'), { workerData: input });
    workers[w] = worker;
    let stoppedResolve: () => void = () => undefined;
    stopped[w] = new Promise<void>((resolve) => (stoppedResolve = resolve));
    return new Promise((resolve, reject) => {
      worker.on('message', (m: FanoutWorkerReply) => {
        if (m.type === 'opened') {
          resolve({ groups: m.groups, linktypes: m.linktypes });
        } else if (m.type === 'open-error') {
          reject(new PicketError(m.message));
        } else if (m.type === 'progress') {
          take(w, m);
          onProgress();
        } else if (m.type === 'stopped') {
          take(w, m);
          merge.done(w);
          stoppedResolve();
        } else if (m.type === 'reloaded') {
          const r = reloadWaiters[0];
          if (m.error !== null) r.errors.push(m.error);
          if (--r.left === 0) {
            reloadWaiters = reloadWaiters.slice(1);
            r.done(r.errors.length > 0 ? r.errors[0] : null);
          }
        } else {
          failed(new PicketError(`worker ${w}: ${m.message}`), reject);
        }
      });
      worker.on('error', (e) => {
        failed(e, reject);
        merge.done(w);
        stoppedResolve();
      });
    });
  };

  let groups: number[];
  let linktypes: number[];
  try {
    // The first worker founds each interface's group (the kernel picks an id free in this network namespace);
    // the others join it.
    ({ groups, linktypes } = await spawn(0, captures.map(() => 'new' as const)));
    const fixed = groups;
    await Promise.all(Array.from({ length: count - 1 }, (_, k) => spawn(k + 1, fixed)));
    running = true;
  } catch (e) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw e;
  }

  const sum = (): EngineStats => {
    const total = emptyStats(DECODE_EVENT_COUNT, emptyCounters(ANALYZERS));
    for (const s of lastStats) addStats(total, s);
    return total;
  };
  let stopping: Promise<EngineStats> | null = null;
  return {
    groups,
    linktypes,
    stats: sum,
    capture: () => captures.map((c, i) => {
      const t = zero();
      for (const per of lastCapture) {
        const s = per[i];
        t.received += s.received;
        t.kernelDropped += s.kernelDropped;
        t.ifDropped += s.ifDropped;
        t.picketDropped += s.picketDropped;
        t.batches += s.batches;
      }
      return { iface: c.iface, stats: t };
    }),
    sockets: () => lastCapture.flatMap((per, w) => per.map((stats, i) => ({ iface: captures[i].iface, worker: w, stats: { ...stats } }))),
    waiting: () => merge.waiting(),
    ingressOf: (ordinal) => (ingress === null || deliveringWorker < 0 ? null : ingress[deliveringWorker].lookup(ordinal)),
    reload(next, at, swap) {
      return new Promise((resolve, reject) => {
        swaps.push({ at, swap });
        reloadWaiters.push({ left: count, errors: [], done: (err) => (err === null ? resolve() : reject(new PicketError(err))) });
        for (const w of workers) w.postMessage({ type: 'reload', rules: next, at } satisfies FanoutWorkerRequest);
      });
    },
    stop() {
      stopping ??= (async () => {
        for (const w of workers) w.postMessage({ type: 'stop' } satisfies FanoutWorkerRequest);
        await Promise.all(stopped);
        return sum();
      })();
      return stopping;
    },
  };
}
