import { parentPort, workerData } from 'node:worker_threads';
import type { PacketBatch } from '../capture/batch';
import { ReloadsAt } from './reload-at';
import { openLive, type LiveOptions, type LiveSource, type LiveStats } from '../capture/live';
import type { EngineStats } from '../core/observation';
import { createOutbox, transferables, type WorkerResults } from './ordered-merge';
import type { SharedAnswer } from '../intel/resolved';
import { createPcapRing, type PcapRing } from '../output/pcap-ring';
import { createEngine } from './engine';
import type { Rules } from '../config/rules';
import { engineConfig, engineRules, receivedRules, type EngineSetup } from './setup';
import { packetSeconds } from '../core/time';

export interface FanoutRing {
  dir: string;
  fileBytes: number;
  files: number;
}

export interface FanoutWorkerInput {
  setup: EngineSetup;
  /** The main thread's rules (receivedRules); a reload brings the next ones. */
  rules: Rules;
  index: number;
  /** One capture per interface, each joining (or, for the first worker, founding) that interface's group. */
  captures: LiveOptions[];
  ring: FanoutRing | null;
  /** How often an idle worker reports progress, and how far behind the wall clock it then claims to be (ms). */
  idleMs: number;
  lagMs: number;
}

export type FanoutWorkerRequest =
  | { type: 'answers'; list: SharedAnswer[] }
  /** New rules, for the packets from packet time `at` (seconds) on: live-fanout.ts says why. */
  | { type: 'reload'; rules: Rules; at: number }
  | { type: 'stop' };

export interface FanoutProgress {
  results: WorkerResults;
  answers: SharedAnswer[];
  /** Every packet up to this time (seconds) has been read and processed. */
  upTo: number;
  stats: EngineStats;
  capture: LiveStats[];
  /** The batches since the last progress, as (first ordinal, count, capture index) triples: which interface each packet came in on. */
  ingress: number[];
}

export type FanoutWorkerReply =
  | { type: 'opened'; groups: number[]; linktypes: number[] }
  | { type: 'open-error'; message: string }
  | ({ type: 'progress' } & FanoutProgress)
  | { type: 'reloaded'; error: string | null }
  | ({ type: 'stopped' } & FanoutProgress)
  | { type: 'error'; message: string };

/**
 * A live-capture worker with a socket of its own on every interface (PACKET_FANOUT): the kernel hands it whole
 * flows, it runs the engine on all it reads and sends the main thread observations, the DNS answer ties other
 * workers need, and how far in packet time it has got.
 */
function run(input: FanoutWorkerInput): void {
  const port = parentPort;
  if (port === null) return;
  const post = (m: FanoutWorkerReply): void => port.postMessage(m, 'results' in m ? transferables(m.results) : []);
  const rules = receivedRules(input.rules);
  const outbox = createOutbox();
  let answers: SharedAnswer[] = [];
  const cfg = { ...engineConfig(input.setup, rules, 0, 1), shareAnswer: (a: SharedAnswer) => void answers.push(a) };
  const engine = createEngine(cfg, outbox);
  const sources: LiveSource[] = [];
  try {
    for (const c of input.captures) sources.push(openLive(c));
  } catch (e) {
    for (const s of sources) void s.stop();
    post({ type: 'open-error', message: (e as Error).message });
    port.close();
    return;
  }
  post({ type: 'opened', groups: sources.map((s) => s.fanout), linktypes: sources.map((s) => s.linktype) });

  const rings: Array<PcapRing | null> = sources.map((s) => input.ring === null ? null : createPcapRing(input.ring.dir, input.ring.fileBytes, input.ring.files, `${s.iface}.w${input.index}`));
  /** Per socket: packet time of its last packet, and when (wall clock, ms) its last batch came. */
  const lastTs = sources.map(() => -Infinity);
  const lastBatchAt = sources.map(() => Date.now());
  let ordinal = 0;
  let stopping = false;
  let ingress: number[] = [];

  const progress = (): FanoutProgress => {
    const now = Date.now();
    let upTo = Infinity;
    for (let i = 0; i < sources.length; i++) {
      // A socket that has been quiet for a while has nothing older than the wall clock less what the kernel block
      // and the addon's batch may still hold back; one that delivers says how far its packets have come.
      const idle = now - lastBatchAt[i] >= input.idleMs ? (now - input.lagMs) / 1000 : -Infinity;
      upTo = Math.min(upTo, Math.max(lastTs[i], idle));
    }
    const p: FanoutProgress = { results: outbox.take(), answers, upTo, stats: engine.stats(), capture: sources.map((s) => s.stats()), ingress };
    answers = [];
    ingress = [];
    return p;
  };

  const reloads = new ReloadsAt<Rules>((next) => engine.reload(engineRules(next)));
  const run = (b: PacketBatch): void => engine.processBatch(b);

  const onBatch = (i: number, batch: PacketBatch): void => {
    if (sources.length > 1) ingress.push(ordinal, batch.count, i);
    batch.firstOrdinal = ordinal;
    ordinal += batch.count;
    rings[i]?.write(batch);
    reloads.process(batch, run);
    for (let k = 0; k < batch.count; k++) {
      const t = packetSeconds(batch.tsSec[k], batch.tsNsec[k]);
      if (t > lastTs[i]) lastTs[i] = t;
    }
    lastBatchAt[i] = Date.now();
    if (!stopping) post({ type: 'progress', ...progress() });
  };

  const ticker = setInterval(() => {
    // Every socket quiet: nothing older than the wall clock less the lag can still come (a busy socket may be behind
    // by more; its packets put the reload in force).
    const now = Date.now();
    if (lastBatchAt.every((t) => now - t >= input.idleMs)) reloads.applyUpTo((now - input.lagMs) / 1000);
    post({ type: 'progress', ...progress() });
  }, input.idleMs);
  sources.forEach((s, i) => s.start((b) => onBatch(i, b), (e) => post({ type: 'error', message: e.message })));

  port.on('message', (m: FanoutWorkerRequest) => {
    try {
      if (m.type === 'answers') {
        engine.rememberAnswers(m.list);
      } else if (m.type === 'reload') {
        try {
          reloads.add(receivedRules(m.rules), m.at);
          post({ type: 'reloaded', error: null });
        } catch (e) {
          post({ type: 'reloaded', error: (e as Error).message });
        }
      } else if (!stopping) {
        stopping = true;
        clearInterval(ticker);
        void Promise.all(sources.map((s) => s.stop())).then(() => {
          for (const r of rings) r?.close();
          post({ type: 'stopped', ...progress(), upTo: Infinity });
          port.close();
        });
      }
    } catch (e) {
      post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
    }
  });
}

run(workerData as FanoutWorkerInput);
