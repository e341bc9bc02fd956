import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as os from 'node:os';
import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import { checkPositive, encodeAll, errorText, type Outcome, type Transport } from './queue';

type SyslogConfig = { url: string; appName?: string; hostname?: string; facility?: number; octetCounting?: boolean; confirmMs?: number };

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

function parseUrl(raw: string): { scheme: 'udp' | 'tcp'; host: string; port: number } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new PicketError(`syslog sink: bad url ${JSON.stringify(raw)} (expected udp://host:port or tcp://host:port)`);
  }
  const scheme = u.protocol.slice(0, -1);
  const port = Number(u.port);
  if ((scheme !== 'udp' && scheme !== 'tcp') || u.hostname === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PicketError(`syslog sink: bad url ${JSON.stringify(raw)} (expected udp://host:port or tcp://host:port)`);
  }
  return { scheme, host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port };
}

export function syslogTransport(cfg: SyslogConfig): Transport {
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
  return scheme === 'udp' ? udpTransport(name, host, port, header, confirmMs) : tcpTransport(name, host, port, header, cfg.octetCounting ?? true, confirmMs);
}

interface Unconfirmed {
  resolve: () => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

/**
 * Batches written and not yet taken as delivered. Syslog has no acknowledgements, so silence is the only
 * confirmation there is: a batch is delivered once it has been out for confirmMs with no sign of trouble (a
 * broken connection, an ICMP port-unreachable); at the first such sign every unconfirmed batch goes back to the
 * queue and is sent again. At-least-once: a collector that restarts may see a few documents twice.
 */
class ConfirmWindow {
  private pending: Unconfirmed[] = [];
  constructor(private readonly ms: number) {}

  /** `out` sends the batch and calls done() (or done(error)) once its bytes are out. */
  track(outcome: Outcome, out: (done: (err?: Error) => void) => void): Promise<Outcome> {
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
function encodeSyslog(docs: EcsDoc[], h: SyslogHeader, frame: (m: string) => string, maxBytes: number): ReturnType<typeof encodeAll> & { shrunk: number } {
  let shrunk = 0;
  const r = encodeAll(docs, (d) => {
    let m = formatSyslog(d, h);
    if (m.length > maxBytes) {
      shrunk++;
      m = shrink(d, m.length, h);
    }
    return frame(m); // ASCII: characters are bytes
  });
  return { ...r, shrunk };
}

/**
 * One datagram per document, on a connected socket: the kernel then reports a collector's ICMP port-unreachable
 * as an error on the socket, which sends the unconfirmed batches back for another try (and, if it goes on, the
 * spill takes over) instead of the alerts vanishing. A collector that is down without saying so (a firewall
 * that drops) is invisible to UDP: use TCP for that.
 */
/** Both transports: up to 1000 documents a send, sent as soon as they are queued, 32 sends in flight. */
const SYSLOG_BATCHING = { batchDocs: 1000, batchMs: 0, maxInFlight: 32 } as const;

function udpTransport(name: string, host: string, port: number, h: SyslogHeader, confirmMs: number): Transport {
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
    ...SYSLOG_BATCHING,
    async send(docs) {
      const s = await connect();
      const { lines, failed, shrunk } = encodeSyslog(docs, h, (m) => m, MAX_DATAGRAM);
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

/**
 * RFC 6587 framing over one TCP connection, reconnected (by the queue's backoff) when it breaks. Bytes the
 * kernel accepted can still die in a send or receive buffer when the collector goes away, which is why batches
 * stay in the confirmation window for confirmMs before they count as delivered.
 */
function tcpTransport(name: string, host: string, port: number, h: SyslogHeader, octetCounting: boolean, confirmMs: number): Transport {
  let sock: net.Socket | null = null;
  let connecting: Promise<net.Socket> | null = null;
  let connectingSock: net.Socket | null = null;
  const window = new ConfirmWindow(confirmMs);

  const broken = (s: net.Socket, e: Error): void => {
    if (sock !== s) return;
    sock = null;
    s.destroy();
    window.failAll(e);
  };
  const connect = (): Promise<net.Socket> => {
    if (sock !== null) return Promise.resolve(sock);
    connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host, port });
      connectingSock = s;
      const timer = setTimeout(() => s.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
      s.once('error', (e) => {
        clearTimeout(timer);
        connecting = null;
        connectingSock = null;
        reject(new Error(`${name}: ${errorText(e)}`));
      });
      s.once('connect', () => {
        clearTimeout(timer);
        s.removeAllListeners('error');
        s.setKeepAlive(true, 30_000);
        // The collector sends nothing; reading is how its close (FIN or RST) is noticed at once.
        s.on('data', () => undefined);
        s.on('error', (e) => broken(s, new Error(`${name}: ${errorText(e)}`)));
        s.on('end', () => broken(s, new Error(`${name}: closed by the collector`)));
        s.on('close', () => broken(s, new Error(`${name}: connection closed`)));
        sock = s;
        connecting = null;
        connectingSock = null;
        resolve(s);
      });
    });
    return connecting;
  };
  // Newline framing is safe too: the MSG is JSON, which escapes newlines.
  const frame = octetCounting ? (m: string): string => `${m.length} ${m}` : (m: string): string => `${m}\n`;
  return {
    name,
    ...SYSLOG_BATCHING,
    async send(docs) {
      const s = await connect();
      const { lines, failed } = encodeSyslog(docs, h, frame, Infinity);
      if (lines.length === 0) return { retry: [], failed };
      return window.track({ retry: [], failed }, (done) =>
        s.write(lines.join(''), 'latin1', (err) => (err ? broken(s, new Error(`${name}: ${errorText(err)}`)) : done())),
      );
    },
    async close() {
      const s = sock;
      if (s === null) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          s.destroy();
          resolve();
        }, 2000);
        s.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        s.end();
      });
      sock = null;
    },
    abort() {
      connectingSock?.destroy(new Error('aborted'));
      if (sock !== null) broken(sock, new Error(`${name}: aborted`));
    },
  };
}
