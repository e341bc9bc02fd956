import type { EcsDoc } from '../../alert/ecs';
import { errorText } from './queue';

/** A batch serialised for a network transport: one line per document that could be serialised. */
export interface Wire {
  lines: string[];
  /** For each line, the position in the batch of the document it came from. */
  at: number[];
  /** Documents that could not be serialised (a cycle, a BigInt), by position in the batch: refused for good. */
  failed: Array<{ i: number; reason: string }>;
  /** Lines cut down to fit (a syslog datagram over 64 KiB). */
  shrunk: number;
}

/** What became of a Wire batch; documents by position in the batch, those not listed were delivered. */
export interface WireOutcome {
  retry: number[];
  retryReason?: string;
  failed: Array<{ i: number; reason: string }>;
}

/**
 * A transport that talks to a collector over the network, in two halves: encode() is pure and runs in the thread
 * that holds the documents, send() does the I/O in the transport's own thread (threaded.ts). Strings cross
 * between threads for the cost of a copy, documents for the cost of a serialisation each way.
 */
export interface NetTransport {
  readonly name: string;
  readonly batchDocs: number;
  readonly batchMs: number;
  readonly maxInFlight: number;
  encode(docs: EcsDoc[]): Wire;
  /** Delivers a batch; rejects when the whole batch must be sent again. */
  send(w: Wire, id: number): Promise<WireOutcome>;
  close(): Promise<void>;
  abort(): void;
  truncated?(): number;
}

/** Serialises each document; one that cannot be serialised fails alone. */
export function encodeLines(docs: EcsDoc[], encode: (doc: EcsDoc) => string): Wire {
  const w: Wire = { lines: [], at: [], failed: [], shrunk: 0 };
  docs.forEach((doc, i) => {
    try {
      w.lines.push(encode(doc));
      w.at.push(i);
    } catch (e) {
      w.failed.push({ i, reason: `not serialisable: ${errorText(e)}` });
    }
  });
  return w;
}

/** Delivered in full: nothing to send again, nothing refused. */
export function clean(o: WireOutcome): boolean {
  return o.retry.length === 0 && o.failed.length === 0;
}
