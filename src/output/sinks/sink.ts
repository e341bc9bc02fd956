import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import { fileTransport } from './file';
import type { FleetAuth } from '../../fleet/streams';
import { natsTransport } from './nats';
import { checkPositive, QueuedSink } from './queue';
import { stdoutTransport } from './stdout';
import { threadedTransport } from './threaded';
import type { TlsFiles } from './tls';

export type { TlsFiles } from './tls';

/**
 * What a sink did with the documents it was given. Every accepted document is in exactly one place, so that
 * nothing is lost silently:
 *   accepted = delivered + failures + dropped + queued + spillPending
 */
export interface SinkStats {
  name: string;
  /** Documents given to write() (plus, at start, those found in a spill file left by an earlier run). */
  accepted: number;
  /**
   * Confirmed by the target: written to the file, acknowledged by the HTTP server, read by the TCP collector (it
   * closed the connection that carried it), sent over UDP without an ICMP error for confirmMs.
   */
  delivered: number;
  /** Delivery attempts that failed and will be made again (a refused connection, a 503, items answered 429). */
  retries: number;
  /** Documents the target refused for good (an Elasticsearch mapping error): not retried, reason in lastError. */
  failures: number;
  /** Documents ever written to the spill file (including those replayed since). */
  spilled: number;
  /** Documents that could be neither queued nor spilled (spill file full, no spill directory, sink closed). */
  dropped: number;
  /** Documents in memory: waiting, being sent, or sent and not yet confirmed. */
  queued: number;
  /** Documents in the spill file not yet replayed. */
  spillPending: number;
  /** Delivered, but cut down to fit (a syslog datagram over 64 KiB). */
  truncated: number;
  /** The last delivery attempt failed (the sink is retrying, spilling); false again after a success. */
  failing: boolean;
  /** The spill file, when the sink has a spill directory. */
  spillFile?: string;
  lastError?: string;
}

export interface Sink {
  /** For example "syslog udp://127.0.0.1:5514". */
  readonly name: string;
  /** Never blocks, never throws: queues the document (bounded); what cannot be queued is spilled or counted as dropped. */
  write(doc: EcsDoc): void;
  /** Resolves when everything accepted so far is delivered or spilled (bounded by timeoutMs, default 10 s). */
  flush(timeoutMs?: number): Promise<void>;
  /** Flushes (bounded by timeoutMs), spills what is still in memory, releases sockets and files. */
  close(timeoutMs?: number): Promise<SinkStats>;
  stats(): SinkStats;
}

export type SinkConfig =
  | { type: 'stdout' }
  /** rotateSeconds may be fractional; keep is how many rotated files (path.1 ... path.keep) survive. */
  | { type: 'file'; path: string; rotateBytes?: number; rotateSeconds?: number; keep?: number }
  | {
    type: 'syslog';
    url: string /* udp://host:port, tcp://host:port or tls://host[:port] (RFC 5425, 6514 by default) */;
    tls?: TlsFiles;
    appName?: string;
    hostname?: string;
    facility?: number;
    octetCounting?: boolean;
    /**
     * UDP: how long a sent batch must go without an ICMP port-unreachable before it counts as delivered, and
     * stays resendable; default 1000. TCP does not use it: a batch counts as delivered when the collector closes
     * the connection that carried it, having read it all (see tcpTransport in syslog.ts).
     */
    confirmMs?: number;
  }
  /** A fleet sensor's JetStream publisher (nats.ts): alerts only, plus the scan summaries written to it directly. */
  | { type: 'nats'; servers: string[]; sensor: string; auth?: FleetAuth; /** fleet.partitions of the policy (default 16). */ partitions?: number }
  | {
    type: 'http';
    url: string;
    headers?: Record<string, string>;
    bulk?: { index: string };
    tls?: TlsFiles;
    /** Files holding credentials: USER:PASSWORD (basic) or an encoded Elasticsearch API key. */
    auth?: { basicFile?: string; apiKeyFile?: string };
    /** gzip request bodies (Content-Encoding: gzip). */
    gzip?: boolean;
    batchDocs?: number;
    batchMs?: number;
    timeoutMs?: number;
  };

export interface SinkCommon {
  /** Documents held in memory (waiting and in flight); default 10000. */
  queueDocs?: number;
  /** Where <sink-name-sanitised>.spill.ndjson goes; without it, what does not fit in memory is dropped (counted). */
  spillDir?: string;
  /** Cap of the retry backoff; default 30000. */
  retryMaxMs?: number;
  /** Cap of the spill file; default 256 MiB. */
  spillMaxBytes?: number;
}

/** Builds one sink; a bad url, path or number is a PicketError naming the sink. */
export function createSink(cfg: SinkConfig, common: SinkCommon): Sink {
  const transport =
    cfg.type === 'stdout' ? stdoutTransport()
      : cfg.type === 'file' ? fileTransport(cfg)
        : cfg.type === 'syslog' || cfg.type === 'http' ? threadedTransport(cfg)
          : cfg.type === 'nats' ? natsTransport(cfg)
            : null;
  if (transport === null) throw new PicketError(`sink: unknown type ${JSON.stringify((cfg as { type: unknown }).type)}`);
  const queueDocs = common.queueDocs ?? 10000;
  const retryMaxMs = common.retryMaxMs ?? 30000;
  const spillMaxBytes = common.spillMaxBytes ?? 256 * 1024 * 1024;
  try {
    checkPositive(transport.name, 'queueDocs', queueDocs, true);
    checkPositive(transport.name, 'retryMaxMs', retryMaxMs, false);
    checkPositive(transport.name, 'spillMaxBytes', spillMaxBytes, true);
    return new QueuedSink(transport, { queueDocs, retryMaxMs, spillDir: common.spillDir, spillMaxBytes });
  } catch (e) {
    void transport.close(); // a network transport has a thread to end
    throw e;
  }
}

/** Several sinks at once: each gets every document, and a slow or dead one does not hold up the others. */
export function createFanout(sinks: Sink[]): Sink {
  const name = `fanout(${sinks.map((s) => s.name).join(', ')})`;
  const sum = (all: SinkStats[]): SinkStats => {
    const total: SinkStats = { name, accepted: 0, delivered: 0, retries: 0, failures: 0, spilled: 0, dropped: 0, queued: 0, spillPending: 0, truncated: 0, failing: false };
    const errors: string[] = [];
    for (const s of all) {
      total.accepted += s.accepted;
      total.delivered += s.delivered;
      total.retries += s.retries;
      total.failures += s.failures;
      total.spilled += s.spilled;
      total.dropped += s.dropped;
      total.queued += s.queued;
      total.spillPending += s.spillPending;
      total.truncated += s.truncated;
      total.failing ||= s.failing;
      if (s.lastError !== undefined) errors.push(`${s.name}: ${s.lastError}`);
    }
    if (errors.length > 0) total.lastError = errors.join('; ');
    return total;
  };
  return {
    name,
    write(doc) {
      for (const s of sinks) s.write(doc);
    },
    async flush(timeoutMs) {
      await Promise.all(sinks.map((s) => s.flush(timeoutMs)));
    },
    async close(timeoutMs) {
      return sum(await Promise.all(sinks.map((s) => s.close(timeoutMs))));
    },
    stats: () => sum(sinks.map((s) => s.stats())),
  };
}
