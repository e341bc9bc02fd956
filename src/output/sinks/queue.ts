import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import type { Sink, SinkStats } from './sink';
import { Spill } from './spill';

/** What became of a batch that was sent: documents not listed here were delivered. */
export interface Outcome {
  /** To be sent again, in their order (an Elasticsearch item answered 429, a file write cut short). */
  retry: EcsDoc[];
  retryReason?: string;
  /** Refused for good, with the target's reason; never retried. */
  failed: Array<{ doc: EcsDoc; reason: string }>;
}

/** One kind of target. The queue does the buffering, ordering, retrying, spilling and counting around it. */
export interface Transport {
  readonly name: string;
  /** Most documents per send(). */
  readonly batchDocs: number;
  /** How long a batch may wait to fill up; 0 sends what is there at once. */
  readonly batchMs: number;
  /** Batches handed to the transport before the first is settled. */
  readonly maxInFlight: number;
  /** Delivers a batch; rejects when the whole batch must be sent again. id: the queue's number for it, 0, 1, 2, ... */
  send(docs: EcsDoc[], id: number): Promise<Outcome>;
  /**
   * Whether batch `id` is already known to be delivered in full (nothing to retry, nothing refused), ahead of its
   * promise. A transport that works in another thread answers from shared memory, which this thread can read while
   * a replay keeps its event loop busy and no promise of a send() could settle.
   */
  deliveredNow?(id: number): boolean;
  /** Ends gracefully, once nothing is in flight. */
  close(): Promise<void>;
  /** Drops connections at once: sends in progress reject. */
  abort(): void;
  /** Documents delivered cut down to fit. */
  truncated?(): number;
}

export interface QueueOptions {
  queueDocs: number;
  retryMaxMs: number;
  spillDir?: string;
  spillMaxBytes: number;
}

/** Failed attempts in a row after which new documents go to the spill file rather than memory. */
const SPILL_AFTER_FAILURES = 3;
const FIRST_BACKOFF_MS = 100;
const DEFAULT_WAIT_MS = 10_000;

interface Batch {
  id: number;
  docs: EcsDoc[];
  done: boolean;
  outcome?: Outcome;
  error?: unknown;
}

interface Waiter {
  ready: () => boolean;
  resolve: () => void;
}

export function checkPositive(sink: string, what: string, v: number, integer: boolean): void {
  if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
    throw new PicketError(`${sink}: ${what} must be a positive ${integer ? 'integer' : 'number'}, not ${v}`);
  }
}

/** Serialises a batch for a transport; a document JSON cannot represent (a cycle, a BigInt) fails for good. */
export function encodeAll(docs: EcsDoc[], encode: (doc: EcsDoc) => string): { sent: EcsDoc[]; lines: string[]; failed: Outcome['failed'] } {
  const sent: EcsDoc[] = [];
  const lines: string[] = [];
  const failed: Outcome['failed'] = [];
  for (const doc of docs) {
    try {
      lines.push(encode(doc));
      sent.push(doc);
    } catch (e) {
      failed.push({ doc, reason: `not serialisable: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  return { sent, lines, failed };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * A bounded, ordered, retrying queue in front of a transport: the part every sink shares.
 *
 * Documents live in one of three places, oldest first: memory (waiting, or sent and not yet settled), then the
 * spill file, and order is kept by one rule: once anything is in the spill file, new documents go there too, until
 * it has been read back. So a sink that recovers sends what it held in memory, then the spill, then new documents.
 * Documents that come back from a failed batch go to the front of memory, ahead of everything newer.
 *
 * write() never waits for a target. It pushes (or spills, or counts a drop); a partial batch is sent on a later turn
 * of the event loop. A full batch is handed to the transport at once, and batches the transport has confirmed are
 * settled at once, because a replay produces documents without ever yielding: waiting for a turn of the event loop
 * would leave the transport idle and send everything past queueDocs to the spill file, however fast the target.
 */
export class QueuedSink implements Sink {
  readonly name: string;
  private mem: EcsDoc[] = [];
  private head = 0;
  private inflight: Batch[] = [];
  private inflightDocs = 0;
  private nextId = 0;
  /** Documents back from failed batches, waiting for the batches sent after them to settle. */
  private returned: EcsDoc[] = [];
  private returning = false;
  /** Documents read from the spill as a probe while the target was failing (put back if the probe fails). */
  private probe = 0;
  private failuresInARow = 0;
  private spilling = false;
  private closed = false;
  private aborted = false;
  private pumpScheduled = false;
  private backoff: NodeJS.Timeout | null = null;
  private batchTimer: NodeJS.Timeout | null = null;
  private batchDue = false;
  private waiters: Waiter[] = [];
  private readonly spill: Spill | null;
  private readonly c = { accepted: 0, delivered: 0, retries: 0, failures: 0, spilled: 0, dropped: 0 };
  private lastError: string | undefined;

  constructor(private readonly t: Transport, private readonly o: QueueOptions) {
    this.name = t.name;
    this.spill = o.spillDir === undefined ? null : new Spill(o.spillDir, t.name, o.spillMaxBytes, (n, why) => {
      this.c.dropped += n;
      this.lastError = `${why}: ${n} spilled documents lost`;
    });
    if (this.spill !== null && this.spill.pending > 0) {
      // Left by an earlier run: accepted then, delivered now, before anything new.
      this.c.accepted += this.spill.pending;
      this.c.spilled += this.spill.pending;
      this.spilling = true;
      this.kick();
    }
  }

  write(doc: EcsDoc): void {
    this.c.accepted++;
    this.collect();
    if (this.closed) {
      this.drop(1, 'sink closed');
    } else if (!this.spilling && this.held() < this.o.queueDocs) {
      this.mem.push(doc);
      if (this.mem.length - this.head >= this.t.batchDocs) this.pump();
      else this.kick();
    } else {
      this.toSpill([doc], this.spilling ? 'target failing or spill not yet replayed' : `queue full (${this.o.queueDocs} documents)`);
    }
  }

  flush(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    // Partial batches go now rather than after batchMs.
    const p = this.waitFor(() => this.idle(), timeoutMs);
    this.kick();
    return p;
  }

  async close(timeoutMs = DEFAULT_WAIT_MS): Promise<SinkStats> {
    if (this.closed) return this.stats();
    this.closed = true;
    await this.flush(timeoutMs);
    if (this.inflight.length > 0 || this.held() > 0) {
      // Out of time: what is still in memory goes to the spill file for the next run.
      this.aborted = true;
      this.t.abort();
      await this.waitFor(() => this.inflight.length === 0, 2000);
      // Oldest first: back from failed batches, then any batch that ignored abort(), then never sent.
      const stuck = this.inflight.flatMap((b) => b.docs);
      const left = this.returned.concat(stuck, this.mem.slice(this.head));
      this.returned = [];
      this.mem = [];
      this.head = 0;
      this.inflight = [];
      this.inflightDocs = 0;
      this.keepForNextRun(left);
    }
    this.clearTimers();
    try {
      await this.t.close();
    } catch (e) {
      this.lastError = `close: ${errorText(e)}`;
    }
    this.spill?.close();
    return this.stats();
  }

  stats(): SinkStats {
    const s: SinkStats = {
      name: this.name,
      ...this.c,
      queued: this.held(),
      spillPending: this.spill?.pending ?? 0,
      truncated: this.t.truncated?.() ?? 0,
      failing: this.failuresInARow > 0 || this.returning,
    };
    if (this.spill !== null) s.spillFile = this.spill.path;
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  private held(): number {
    return this.mem.length - this.head + this.inflightDocs + this.returned.length;
  }

  /**
   * Nothing left in memory, and the spill empty, or the target failing (then the spill file is where the
   * documents rest until it recovers).
   */
  private idle(): boolean {
    return this.held() === 0 && (this.spill === null || this.spill.pending === 0 || this.failuresInARow > 0);
  }

  private kick(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.aborted || this.backoff !== null || this.returning) return;
    while (this.inflight.length < this.t.maxInFlight) {
      this.refill();
      const n = this.mem.length - this.head;
      if (n === 0) break;
      if (n < this.t.batchDocs && this.t.batchMs > 0 && !this.batchDue && this.waiters.length === 0 && !this.closed) {
        this.batchTimer ??= setTimeout(() => {
          this.batchTimer = null;
          this.batchDue = true;
          this.pump();
        }, this.t.batchMs);
        break;
      }
      this.batchDue = false;
      const take = Math.min(n, this.t.batchDocs);
      this.dispatch(this.mem.slice(this.head, this.head + take));
      this.head += take;
      if (this.head > 4096 && this.head * 2 > this.mem.length) {
        this.mem = this.mem.slice(this.head);
        this.head = 0;
      }
    }
    this.checkWaiters();
  }

  /** Reads the spill back into memory: all that fits when the target is up, one probe batch while it fails. */
  private refill(): void {
    const spill = this.spill;
    if (spill === null || spill.pending === 0) return;
    const inMem = this.mem.length - this.head;
    if (inMem >= this.t.batchDocs) return;
    const failing = this.failuresInARow > 0;
    if (failing && (inMem > 0 || this.inflight.length > 0)) return;
    const room = this.o.queueDocs - this.held();
    if (room <= 0) return;
    let lines: string[];
    try {
      lines = spill.read(failing ? Math.min(room, this.t.batchDocs) : room);
    } catch (e) {
      this.lastError = `spill file ${spill.path}: ${errorText(e)}`;
      return;
    }
    for (const line of lines) {
      try {
        this.mem.push(JSON.parse(line) as EcsDoc);
      } catch {
        this.drop(1, `unreadable line in spill file ${spill.path}`);
      }
    }
    this.probe = failing ? lines.length : 0;
    if (!failing) this.caughtUp(); // a probe may still have to be put back: not yet
  }

  /** Everything spilled has been read back: new documents may stay in memory again, the file can be emptied. */
  private caughtUp(): void {
    if (this.spill === null || this.spill.pending > 0) return;
    this.spilling = false;
    this.spill.release();
  }

  private dispatch(docs: EcsDoc[]): void {
    const b: Batch = { id: this.nextId++, docs, done: false };
    this.inflight.push(b);
    this.inflightDocs += docs.length;
    let p: Promise<Outcome>;
    try {
      p = this.t.send(docs, b.id);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (o) => {
        if (!b.done) b.outcome = o;
      },
      (e: unknown) => {
        if (!b.done) b.error = e ?? new Error('send failed');
      },
    ).then(() => {
      if (b.done) return; // confirmed earlier by collect()
      b.done = true;
      this.settle();
    });
  }

  /** Settles, without waiting for their promises, the oldest batches the transport already knows are delivered. */
  private collect(): void {
    const known = this.t.deliveredNow;
    if (known === undefined) return;
    let any = false;
    for (const b of this.inflight) {
      if (b.done) continue;
      // Transports confirm in the order of sending; the first batch not confirmed ends the look.
      if (!known.call(this.t, b.id)) break;
      b.outcome = { retry: [], failed: [] };
      b.done = true;
      any = true;
    }
    if (any) this.settle();
  }

  /** Batches are settled in the order they were sent, so that documents to retry go back in their order. */
  private settle(): void {
    while (this.inflight.length > 0 && this.inflight[0].done) {
      const b = this.inflight.shift() as Batch;
      this.inflightDocs -= b.docs.length;
      if (b.outcome === undefined) {
        this.returned = this.returned.concat(b.docs);
        this.returning = true;
        this.lastError = errorText(b.error);
        continue;
      }
      const o = b.outcome;
      this.c.delivered += b.docs.length - o.retry.length - o.failed.length;
      if (o.retry.length > 0) {
        this.returned = this.returned.concat(o.retry);
        this.returning = true;
        this.lastError = o.retryReason ?? `${o.retry.length} document(s) to retry`;
      } else if (!this.returning) {
        this.failuresInARow = 0;
        this.probe = 0;
        this.caughtUp();
      }
      if (o.failed.length > 0) {
        // After the retry reason: a document lost for good is the thing to report.
        this.c.failures += o.failed.length;
        this.lastError = `${o.failed.length} document(s) refused: ${o.failed[0].reason}`;
      }
    }
    if (this.returning && this.inflight.length === 0) this.afterFailure();
    this.pump();
    this.checkWaiters();
  }

  /** Everything in flight is back: requeue at the front, wait, and past a limit let the spill take new documents. */
  private afterFailure(): void {
    this.returning = false;
    this.mem = this.returned.concat(this.mem.slice(this.head));
    this.head = 0;
    this.returned = [];
    if (this.aborted) return;
    this.c.retries++;
    this.failuresInARow++;
    const spill = this.spill;
    if (spill !== null && this.failuresInARow >= SPILL_AFTER_FAILURES) {
      // A failed probe goes back where it came from; otherwise memory moves to an empty spill (order kept).
      if (this.probe > 0 && this.probe === this.mem.length && spill.unread()) {
        this.mem = [];
        this.spilling = true;
      } else if (spill.pending === 0 && this.mem.length > 0) {
        const docs = this.mem;
        this.mem = [];
        this.toSpill(docs, 'target failing');
      }
      this.probe = 0;
    }
    const delay = Math.min(this.o.retryMaxMs, FIRST_BACKOFF_MS * 2 ** Math.min(this.failuresInARow - 1, 30));
    // Jitter, so that sensors that lost the same collector do not all come back at the same instant.
    this.backoff = setTimeout(() => {
      this.backoff = null;
      this.pump();
    }, delay * (0.8 + 0.4 * Math.random()));
  }

  private toSpill(docs: EcsDoc[], why: string): void {
    const spill = this.spill;
    if (spill === null) {
      this.drop(docs.length, `${why}, no spill directory`);
      return;
    }
    for (const doc of docs) {
      let line: string;
      try {
        line = JSON.stringify(doc);
      } catch (e) {
        this.c.failures++;
        this.lastError = `document not serialisable: ${errorText(e)}`;
        continue;
      }
      if (spill.append(line)) {
        this.c.spilled++;
        this.spilling = true;
      } else {
        this.drop(1, `${why}, and spill file ${spill.path} is full (${this.o.spillMaxBytes} bytes)`);
      }
    }
  }

  /** At close, after the time ran out. */
  private keepForNextRun(docs: EcsDoc[]): void {
    if (docs.length === 0) return;
    if (this.spill === null) {
      this.drop(docs.length, 'closed before delivery, no spill directory');
      return;
    }
    const lines: string[] = [];
    for (const doc of docs) {
      try {
        lines.push(JSON.stringify(doc));
      } catch (e) {
        this.c.failures++;
        this.lastError = `document not serialisable: ${errorText(e)}`;
      }
    }
    try {
      // Over the cap if need be: these were accepted, and there are at most queueDocs of them.
      this.spill.prepend(lines);
      this.c.spilled += lines.length;
      this.lastError = `closed before delivery: ${lines.length} document(s) kept in ${this.spill.path}`;
    } catch (e) {
      this.drop(lines.length, `closed before delivery, spill file ${this.spill.path}: ${errorText(e)}`);
    }
  }

  private drop(n: number, why: string): void {
    this.c.dropped += n;
    this.lastError = `${why}: ${n} document(s) dropped`;
  }

  private waitFor(ready: () => boolean, timeoutMs: number): Promise<void> {
    if (ready()) {
      this.spill?.sync();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const w: Waiter = {
        ready,
        resolve: () => {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((x) => x !== w);
          this.spill?.sync();
          resolve();
        },
      };
      const timer = setTimeout(w.resolve, timeoutMs);
      this.waiters.push(w);
    });
  }

  private checkWaiters(): void {
    for (const w of [...this.waiters]) if (w.ready()) w.resolve();
  }

  private clearTimers(): void {
    if (this.backoff !== null) clearTimeout(this.backoff);
    if (this.batchTimer !== null) clearTimeout(this.batchTimer);
    this.backoff = null;
    this.batchTimer = null;
  }
}
