import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as os from 'node:os';
import * as tls from 'node:tls';
import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import { checkPositive, errorText } from './queue';
import { tlsOptions, type TlsFiles } from './tls';
import { encodeLines, type NetTransport, type Wire, type WireOutcome } from './wire';

type SyslogConfig = { url: string; appName?: string; hostname?: string; facility?: number; octetCounting?: boolean; confirmMs?: number; tls?: TlsFiles };

/** RFC 5425's port for syslog over TLS. */
export const SYSLOG_TLS_PORT = 6514;

/** The largest UDP payload over IPv4 (65535 - 20 bytes of IP header - 8 of UDP header). */
export const MAX_DATAGRAM = 65507;
const CONNECT_TIMEOUT_MS = 5000;

export interface SyslogHeader {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
}

/** RFC 5424 severity: ECS event.severity on Elastic's risk scale (21/47/73/99) -> notice/warning/err/crit. */
export function syslogSeverity(doc: EcsDoc): number {
  const event = doc.event as { kind?: unknown; severity?: unknown } | undefined;
  if (event?.kind === 'metric') return 6; // informational
  const s = event?.severity;
  if (typeof s !== 'number') return 6;
  if (s >= 99) return 2;
  if (s >= 73) return 3;
  if (s >= 47) return 4;
  return 5;
}

/** Header fields are 1*PRINTUSASCII with a length limit (RFC 5424 section 6); "-" is the NILVALUE. */
function headerField(v: unknown, max: number): string {
  if (typeof v !== 'string' || v === '') return '-';
  return v.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
}

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

/** The document's own time (packet time), at most microseconds as RFC 5424 allows; NILVALUE if it has none. */
function timestamp(doc: EcsDoc): string {
  const m = RFC3339.exec(String(doc['@timestamp'] ?? ''));
  if (m === null) return '-';
  return m[1] + (m[2] === undefined ? '' : m[2].slice(0, 7)) + m[3];
}

/**
 * The document as pure-ASCII JSON: every non-ASCII character as a \u escape. It stays the same JSON value, and
 * an ASCII MSG needs no BOM (RFC 5424 asks a UTF-8 MSG to start with one, which many JSON parsers reject).
 */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** One RFC 5424 message: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG, the MSG the JSON document. */
export function formatSyslog(doc: EcsDoc, h: SyslogHeader, msg: string = asciiJson(doc)): string {
  const pri = h.facility * 8 + syslogSeverity(doc);
  const msgId = headerField((doc.rule as { id?: unknown } | undefined)?.id, 32);
  return `<${pri}>1 ${timestamp(doc)} ${h.hostname} ${h.appName} ${h.procId} ${msgId} - ${msg}`;
}

/** Never dropped to make a document fit: when, what kind, which rule. */
const ESSENTIAL = new Set(['@timestamp', 'event', 'rule']);

/**
 * A document too large for one datagram, cut down so that it is still JSON a SIEM can parse: its largest
 * top-level fields go first until it fits, and picket.truncated, picket.original_bytes and
 * picket.removed_fields say so. Cutting the JSON text at a byte count would leave it unparseable.
 */
function shrink(doc: EcsDoc, originalBytes: number, h: SyslogHeader): string {
  const kept: EcsDoc = { ...doc };
  const removed: string[] = [];
  const bySize = Object.keys(doc)
    .filter((k) => !ESSENTIAL.has(k))
    .map((k) => ({ k, n: asciiJson(doc[k]).length }))
    .sort((a, b) => b.n - a.n);
  for (const { k } of bySize) {
    delete kept[k];
    removed.push(k);
    const own = kept.picket !== null && typeof kept.picket === 'object' ? (kept.picket as EcsDoc) : {};
    const line = formatSyslog(doc, h, asciiJson({ ...kept, picket: { ...own, truncated: true, original_bytes: originalBytes, removed_fields: removed } }));
    if (line.length <= MAX_DATAGRAM) return line;
  }
  const ev = doc.event as { kind?: unknown; severity?: unknown } | undefined;
  const mark = { truncated: true, original_bytes: originalBytes, removed_fields: Object.keys(doc) };
  return formatSyslog(doc, h, asciiJson({ '@timestamp': doc['@timestamp'], event: { kind: ev?.kind, severity: ev?.severity }, picket: mark }));
}

function parseUrl(raw: string): { scheme: 'udp' | 'tcp' | 'tls'; host: string; port: number } {
  const bad = (): never => {
    throw new PicketError(`syslog sink: bad url ${JSON.stringify(raw)} (expected udp://host:port, tcp://host:port or tls://host[:port])`);
  };
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return bad();
  }
  const scheme = u.protocol.slice(0, -1);
  const port = scheme === 'tls' && u.port === '' ? SYSLOG_TLS_PORT : Number(u.port);
  if ((scheme !== 'udp' && scheme !== 'tcp' && scheme !== 'tls') || u.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) bad();
  return { scheme: scheme as 'udp' | 'tcp' | 'tls', host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

export function syslogTransport(cfg: SyslogConfig): NetTransport {
  const { scheme, host, port } = parseUrl(cfg.url);
  const name = `syslog ${scheme}://${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
  const facility = cfg.facility ?? 16; // local0
  if (!Number.isInteger(facility) || facility < 0 || facility > 23) throw new PicketError(`${name}: facility must be 0..23, not ${facility}`);
  const confirmMs = cfg.confirmMs ?? 1000;
  checkPositive(name, 'confirmMs', confirmMs, false);
  const header: SyslogHeader = {
    facility,
    hostname: headerField(cfg.hostname ?? os.hostname(), 255),
    appName: headerField(cfg.appName ?? 'picket', 48),
    procId: String(process.pid),
  };
  if (scheme !== 'tls' && cfg.tls !== undefined) throw new PicketError(`${name}: TLS options for a ${scheme}:// url (tls:// is meant?)`);
  if (scheme === 'udp') return udpTransport(name, host, port, header, confirmMs);
  if (scheme === 'tcp') return tcpTransport(name, header, cfg.octetCounting ?? true, () => ({ socket: net.connect({ host, port, allowHalfOpen: true }), ready: 'connect' }));
  // RFC 5425: octet-counted frames (its section 4.3), whatever `octetCounting` says, over TLS.
  const opts: tls.ConnectionOptions = { host, port, ...tlsOptions(name, cfg.tls) };
  if (net.isIP(host) === 0) opts.servername = host; // SNI takes names only
  return tcpTransport(name, header, true, () => ({ socket: tls.connect(opts), ready: 'secureConnect' }));
}

interface Unconfirmed {
  resolve: () => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Datagrams sent and not yet taken as delivered (UDP). Nothing acknowledges a datagram, so silence is the only
 * confirmation there is: a batch is delivered once it has been out for confirmMs with no ICMP port-unreachable
 * reported on the socket; at the first such report every unconfirmed batch goes back to the queue and is sent
 * again. At-least-once: a collector that restarts may see up to confirmMs worth of documents twice. (The timers
 * fire on time because transports run in a thread of their own: see threaded.ts.)
 */
class ConfirmWindow {
  private pending: Unconfirmed[] = [];
  constructor(private readonly ms: number) {}

  /** `out` sends the batch and calls done() (or done(error)) once its bytes are out. */
  track(outcome: WireOutcome, out: (done: (err?: Error) => void) => void): Promise<WireOutcome> {
    return new Promise((resolve, reject) => {
      const p: Unconfirmed = { resolve: () => resolve(outcome), reject };
      this.pending.push(p);
      out((err) => {
        if (err !== undefined) return this.failAll(err);
        if (!this.pending.includes(p)) return; // already sent back by a failure meanwhile
        p.timer = setTimeout(() => {
          this.pending = this.pending.filter((x) => x !== p);
          p.resolve();
        }, this.ms);
      });
    });
  }

  failAll(e: Error): void {
    const all = this.pending;
    this.pending = [];
    for (const p of all) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(e);
    }
  }
}

/** Encodes a batch for syslog, counting what had to be cut down to fit a datagram. */
function encodeSyslog(docs: EcsDoc[], h: SyslogHeader, frame: (m: string) => string, maxBytes: number): Wire {
  let shrunk = 0;
  const w = encodeLines(docs, (d) => {
    let m = formatSyslog(d, h);
    if (m.length > maxBytes) {
      shrunk++;
      m = shrink(d, m.length, h);
    }
    return frame(m); // ASCII: characters are bytes
  });
  w.shrunk = shrunk;
  return w;
}

/** UDP: up to 1000 documents a send, sent as soon as they are queued, 32 sends in flight. */
const UDP_BATCHING = { batchDocs: 1000, batchMs: 0, maxInFlight: 32 } as const;

/**
 * One datagram per document, on a connected socket: the kernel then reports a collector's ICMP port-unreachable
 * as an error on the socket, which sends the unconfirmed batches back for another try (and, if it goes on, the
 * spill takes over) instead of the alerts vanishing. A collector that is down without saying so (a firewall
 * that drops) is invisible to UDP: use TCP for that.
 */
function udpTransport(name: string, host: string, port: number, h: SyslogHeader, confirmMs: number): NetTransport {
  let ready: Promise<dgram.Socket> | null = null;
  let truncated = 0;
  const window = new ConfirmWindow(confirmMs);
  const connect = (): Promise<dgram.Socket> => {
    ready ??= new Promise((resolve, reject) => {
      const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
      const fail = (e: Error): void => {
        s.close();
        ready = null;
        reject(new Error(`${name}: ${errorText(e)}`));
      };
      s.once('error', fail);
      s.connect(port, host, () => {
        s.off('error', fail);
        s.on('error', (e) => window.failAll(new Error(`${name}: ${errorText(e)}`)));
        resolve(s);
      });
    });
    return ready;
  };
  const closeSocket = async (): Promise<void> => {
    const r = ready;
    ready = null;
    if (r !== null) (await r.catch(() => null))?.close();
  };
  return {
    name,
    ...UDP_BATCHING,
    encode: (docs) => encodeSyslog(docs, h, (m) => m, MAX_DATAGRAM),
    async send({ lines, failed, shrunk }) {
      const s = await connect();
      const outcome = await window.track({ retry: [], failed }, (done) => {
        let left = lines.length;
        if (left === 0) return done();
        let failedOnce = false;
        for (const line of lines) {
          s.send(Buffer.from(line, 'latin1'), (err) => {
            if (failedOnce) return;
            if (err) {
              failedOnce = true;
              return done(new Error(`${name}: ${errorText(err)}`));
            }
            if (--left === 0) done();
          });
        }
      });
      truncated += shrunk;
      return outcome;
    },
    close: closeSocket,
    abort() {
      window.failAll(new Error(`${name}: aborted`));
      void closeSocket();
    },
    truncated: () => truncated,
  };
}

/** Most documents one TCP connection carries: the most a collector that goes away can be sent twice (below). */
export const TCP_BATCH_DOCS = 1000;
/** A partial batch waits this long to fill, so that a trickle of alerts does not open a connection for each. */
const TCP_BATCH_MS = 20;
/** A collector that has not taken a batch and closed the connection within this long is taken as hung. */
const TCP_READ_TIMEOUT_MS = 30_000;

/**
 * RFC 6587 framing over TCP, one connection per batch; the collector closing its side is the confirmation.
 *
 * Plain TCP syslog has no acknowledgement, and on a long-lived connection nothing the sender can see says how much
 * the collector has read. A write callback only means the bytes reached this host's send buffer, and the send and
 * receive buffers between the two processes hold megabytes (on Linux they autotune to 4 MiB and 6-32 MiB: tens of
 * thousands of alerts). Any confirmation by elapsed time or by bytes written since is either unsound (what sits
 * in those buffers dies with the collector, yet counts as delivered) or loose (everything in a window that size is
 * sent again, mostly duplicates). A timer also never fires while a replay keeps the event loop busy, which is how
 * a time window turned every document of a replay into a resend.
 *
 * So a batch gets a connection of its own: connect, write the batch, half-close (FIN), and wait for the collector
 * to close its side. A collector closes when read() returns end-of-file, and TCP delivers that only after every
 * byte sent before our FIN: its FIN after our last byte left means the collector has read the whole batch and,
 * since a collector handles what it read before it reads again, queued it. A collector that dies, or is stopped
 * and killed, with bytes unread answers with a reset instead (Linux resets a connection closed with data in its
 * receive queue), and a hung one does not answer (then TCP_READ_TIMEOUT_MS); either way the batch is not
 * delivered and goes back to the queue.
 *
 * One FIN is not proof enough: a process that exits closes its sockets, and one whose receive queue is empty gets
 * a FIN, not a reset. rsyslog stopped by SIGTERM just after reading a batch, before queueing it, does exactly that
 * and the batch is gone. So a batch counts as delivered only once a second, empty connection (the probe) has been
 * accepted, read to its end and closed by the collector: an exiting collector refuses or resets it, a running one
 * closed the batch's connection at end-of-file.
 *
 * The bound on duplicates: connections are used one after the other, the next batch sent only once the previous
 * one is confirmed, and one carries at most TCP_BATCH_DOCS documents (small batches are joined up to that). So at
 * any moment at most one batch is sent and unconfirmed. When the collector goes away, that batch is the only one
 * sent again that it may already have read: at most TCP_BATCH_DOCS duplicates per break. Everything confirmed was
 * read and queued by a collector still running afterwards, so nothing is lost on the way; one connection at a time
 * also keeps the collector's order.
 *
 * What this cannot see: documents a collector has read and then loses itself. rsyslog keeps what it read in an
 * in-memory queue; on SIGTERM (a service restart) it writes that queue out before exiting, on SIGKILL it is gone.
 * Only an acknowledgement from the collector's application (RELP) or a disk-assisted queue there covers that.
 * Also unseen: a collector closing for a reason of its own (an idle timeout) just as a batch is on the way would
 * send a FIN too; a connection here lives for milliseconds, collectors' idle timeouts are minutes.
 *
 * Over TLS (RFC 5425, tls://) the same holds one layer up: end() sends TLS's close_notify and then the FIN, and
 * the collector's TLS layer reports end-of-stream only after every record before the close_notify; a collector
 * that verifies client certificates refuses the handshake of a sensor without one, which fails the batch.
 *
 * The cost is two short connections per batch (with TLS, two handshakes). On loopback rsyslog reads faster than it writes its file, so this
 * is not the bottleneck; across a WAN it bounds the rate to TCP_BATCH_DOCS per four round trips.
 */
function tcpTransport(
  name: string, h: SyslogHeader, octetCounting: boolean, open: () => { socket: net.Socket; ready: 'connect' | 'secureConnect' },
): NetTransport {
  interface Job {
    bytes: Buffer;
    docs: number;
    outcome: WireOutcome;
    resolve: (o: WireOutcome) => void;
    reject: (e: Error) => void;
  }
  const jobs: Job[] = [];
  const PROBE = Buffer.alloc(0);
  let running = false;
  let current: net.Socket | null = null;

  /** One connection: resolves once the collector has closed its side after the whole of `data` left (may be empty). */
  const deliver = (data: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const { socket: s, ready } = open();
      current = s;
      let written = false;
      let settled = false;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(connectTimer);
        clearTimeout(readTimer);
        if (current === s) current = null;
        s.destroy();
        if (err === null) resolve();
        else reject(err);
      };
      const connectTimer = setTimeout(() => settle(new Error(`${name}: connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      // From the connect on: bytes stuck in either buffer and a collector that reads but never closes look alike.
      const readTimer = setTimeout(
        () => settle(new Error(`${name}: the collector neither read the batch nor closed within ${TCP_READ_TIMEOUT_MS} ms`)),
        TCP_READ_TIMEOUT_MS,
      );
      s.once(ready, () => {
        clearTimeout(connectTimer);
        s.setNoDelay(true); // the FIN right behind the last byte
        s.end(data);
      });
      s.once('finish', () => (written = true));
      // The collector sends nothing; reading is how its close (FIN or reset) is seen.
      s.on('data', () => undefined);
      // A FIN before all of the batch had left is a collector that closed on us, not one that read to the end.
      s.once('end', () => settle(written ? null : new Error(`${name}: closed by the collector before the batch was written`)));
      s.on('error', (e) => settle(new Error(`${name}: ${errorText(e)}`)));
      s.once('close', () => settle(new Error(`${name}: connection closed`)));
    });

  const run = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (jobs.length > 0) {
      let docs = jobs[0].docs;
      let k = 1;
      while (k < jobs.length && docs + jobs[k].docs <= TCP_BATCH_DOCS) docs += jobs[k++].docs;
      const group = jobs.slice(0, k);
      try {
        await deliver(k === 1 ? group[0].bytes : Buffer.concat(group.map((j) => j.bytes)));
        await deliver(PROBE);
      } catch (e) {
        // This batch and every later one go back to the queue, which sends them again in their order.
        for (const j of jobs.splice(0)) j.reject(e as Error);
        break;
      }
      jobs.splice(0, k);
      for (const j of group) j.resolve(j.outcome);
    }
    running = false;
  };

  // Newline framing is safe too: the MSG is JSON, which escapes newlines.
  const frame = octetCounting ? (m: string): string => `${m.length} ${m}` : (m: string): string => `${m}\n`;
  return {
    name,
    batchDocs: TCP_BATCH_DOCS,
    batchMs: TCP_BATCH_MS,
    maxInFlight: 32,
    encode: (docs) => encodeSyslog(docs, h, frame, Infinity),
    send({ lines, failed }) {
      if (lines.length === 0) return Promise.resolve({ retry: [], failed });
      return new Promise<WireOutcome>((resolve, reject) => {
        jobs.push({ bytes: Buffer.from(lines.join(''), 'latin1'), docs: lines.length, outcome: { retry: [], failed }, resolve, reject });
        void run();
      });
    },
    async close() {
      // Called once nothing is in flight; a connection still open is one that abort() did not reach.
      current?.destroy(new Error('closed'));
    },
    abort() {
      current?.destroy(new Error('aborted'));
    },
  };
}
