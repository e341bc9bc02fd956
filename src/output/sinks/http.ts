import * as http from 'node:http';
import * as https from 'node:https';
import * as zlib from 'node:zlib';
import type { EcsDoc } from '../../alert/ecs';
import { PicketError } from '../../errors';
import { checkPositive } from './queue';
import { authHeader, tlsOptions, type TlsFiles } from './tls';
import { encodeLines, type NetTransport, type WireOutcome } from './wire';

type HttpConfig = {
  url: string;
  headers?: Record<string, string>;
  bulk?: { index: string };
  batchDocs?: number;
  batchMs?: number;
  timeoutMs?: number;
  tls?: TlsFiles;
  auth?: { basicFile?: string; apiKeyFile?: string };
  gzip?: boolean;
};

/** A bulk response for 500 documents is ~100 KB; anything near this is not one. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

interface Reply {
  status: number;
  body: string;
}

/** One item of an Elasticsearch _bulk response: {"create": {"status": 201, "error": {...}}}. */
interface BulkItemResult {
  status?: unknown;
  error?: { type?: unknown; reason?: unknown } | unknown;
}

/**
 * Elasticsearch's verdict on each of the `sent` documents of the request, by position in the request: 2xx and 409
 * (that _id is indexed already) delivered, 429/5xx retry, other 4xx refused.
 */
export function judgeBulk(body: string, sent: number): WireOutcome {
  let parsed: { errors?: unknown; items?: unknown };
  try {
    parsed = JSON.parse(body) as { errors?: unknown; items?: unknown };
  } catch {
    throw new Error(`bulk response is not JSON: ${body.slice(0, 200)}`);
  }
  if (parsed.errors === false) return { retry: [], failed: [] };
  if (!Array.isArray(parsed.items) || parsed.items.length !== sent) {
    throw new Error(`bulk response has ${Array.isArray(parsed.items) ? parsed.items.length : 'no'} items for ${sent} documents`);
  }
  const retry: number[] = [];
  const failed: WireOutcome['failed'] = [];
  let retryStatus = 0;
  parsed.items.forEach((item: unknown, i) => {
    const r = (item !== null && typeof item === 'object' ? Object.values(item)[0] : undefined) as BulkItemResult | undefined;
    const status = typeof r?.status === 'number' ? r.status : 0;
    // 409 to a create with an _id: a document of that event.id is indexed already (an earlier send the answer of
    // which was lost). It is there, once: delivered.
    if ((status >= 200 && status < 300) || status === 409) return;
    if (status === 429 || status >= 500) {
      retry.push(i);
      retryStatus = status;
      return;
    }
    const err = (r?.error ?? {}) as { type?: unknown; reason?: unknown };
    failed.push({ i, reason: `${status} ${String(err.type ?? 'error')}: ${String(err.reason ?? JSON.stringify(r?.error ?? null))}` });
  });
  const o: WireOutcome = { retry, failed };
  if (retry.length > 0) o.retryReason = `${retry.length} bulk item(s) answered ${retryStatus}`;
  return o;
}

/**
 * NDJSON batches by POST. With `bulk`, the body is Elasticsearch's _bulk format and each item's result is
 * checked, because _bulk answers 200 even when some documents were refused.
 *
 * The action is "create", not "index": data streams (the usual home of logs and alerts in Elasticsearch and
 * OpenSearch) accept only create. Its _id is the document's event.id, so that a batch sent again (indexed, but the
 * answer lost to a cut connection, or sent again by the next run from the spill file) is refused as a conflict
 * (409, counted as delivered) instead of indexed twice.
 *
 * TLS (https://): the server is verified against the CA file or the system's CAs unless tls.insecure; a client
 * certificate when given. Credentials come from files (auth), read at start-up. gzip compresses request bodies.
 */
export function httpTransport(cfg: HttpConfig): NetTransport {
  let u: URL;
  try {
    u = new URL(cfg.url);
  } catch {
    throw new PicketError(`http sink: bad url ${JSON.stringify(cfg.url)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new PicketError(`http sink: bad url ${JSON.stringify(cfg.url)} (http:// or https://)`);
  const name = `http ${u.origin}${u.pathname}`; // never the credentials of user:pass@
  const batchDocs = cfg.batchDocs ?? 500;
  const batchMs = cfg.batchMs ?? 1000;
  const timeoutMs = cfg.timeoutMs ?? 10_000;
  checkPositive(name, 'batchDocs', batchDocs, true);
  checkPositive(name, 'timeoutMs', timeoutMs, false);
  if (!Number.isFinite(batchMs) || batchMs < 0) throw new PicketError(`${name}: batchMs must be >= 0, not ${batchMs}`);
  if (cfg.bulk !== undefined && (typeof cfg.bulk.index !== 'string' || cfg.bulk.index === '')) throw new PicketError(`${name}: bulk.index is empty`);
  const index = cfg.bulk?.index;
  const action = (d: EcsDoc): string => {
    if (index === undefined) return '';
    const id = (d.event as { id?: unknown } | undefined)?.id;
    return JSON.stringify({ create: typeof id === 'string' && id !== '' ? { _index: index, _id: id } : { _index: index } }) + '\n';
  };
  const secure = u.protocol === 'https:';
  if (!secure && cfg.tls !== undefined) throw new PicketError(`${name}: TLS options for an http:// URL (https:// is meant?)`);
  const authorization = authHeader(name, cfg.auth);
  // One kept-alive connection: batches go one at a time, in order, without a handshake each.
  const agent = secure ? new https.Agent({ keepAlive: true, maxSockets: 1, ...tlsOptions(name, cfg.tls) }) : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const mod = secure ? https : http;
  let current: http.ClientRequest | null = null;

  const post = (body: Buffer): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const req = mod.request(u, {
        method: 'POST',
        agent,
        timeout: timeoutMs,
        headers: {
          ...cfg.headers,
          ...(authorization !== undefined ? { authorization } : {}),
          ...(cfg.gzip === true ? { 'content-encoding': 'gzip' } : {}),
          'content-type': 'application/x-ndjson',
          'content-length': body.length,
        },
      });
      current = req;
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', (e) => reject(new Error(`${name}: ${e.message}`)));
      req.on('response', (res) => {
        const parts: Buffer[] = [];
        let bytes = 0;
        res.on('data', (b: Buffer) => {
          bytes += b.length;
          if (bytes > MAX_RESPONSE_BYTES) req.destroy(new Error(`response over ${MAX_RESPONSE_BYTES} bytes`));
          else parts.push(b);
        });
        res.on('error', (e) => reject(new Error(`${name}: ${e.message}`)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
      });
      req.end(body);
    }).finally(() => {
      current = null;
    }) as Promise<Reply>;

  return {
    name,
    batchDocs,
    batchMs,
    maxInFlight: 1,
    encode: (docs) => encodeLines(docs, (d) => action(d) + JSON.stringify(d)),
    async send({ lines, at, failed }) {
      if (lines.length === 0) return { retry: [], failed };
      const plain = Buffer.from(lines.join('\n') + '\n', 'utf8');
      // In the transport's own thread (threaded.ts): compressing holds up no capture.
      const reply = await post(cfg.gzip === true ? zlib.gzipSync(plain) : plain);
      // Any other status (a 503 from an overloaded cluster, a 401 until credentials are fixed) is retried.
      if (reply.status < 200 || reply.status > 299) throw new Error(`${name}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
      if (cfg.bulk === undefined) return { retry: [], failed };
      // Items answer lines in order; back to positions in the batch.
      const verdict = judgeBulk(reply.body, lines.length);
      const o: WireOutcome = { retry: verdict.retry.map((k) => at[k]), failed: failed.concat(verdict.failed.map((f) => ({ i: at[f.i], reason: f.reason }))) };
      if (verdict.retryReason !== undefined) o.retryReason = verdict.retryReason;
      return o;
    },
    async close() {
      agent.destroy();
    },
    abort() {
      current?.destroy(new Error('aborted'));
      agent.destroy();
    },
  };
}
