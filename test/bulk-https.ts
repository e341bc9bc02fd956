import * as https from 'node:https';
import type * as net from 'node:net';
import * as fs from 'node:fs';
import type * as tls from 'node:tls';
import * as zlib from 'node:zlib';
import type { TestCa } from './test-ca';

export interface BulkRequest {
  encoding: string;
  authorization: string;
  /** CN of the client certificate the TLS layer verified. */
  client: string;
  ids: string[];
}

/**
 * A local HTTPS endpoint that speaks Elasticsearch's _bulk as far as picket uses it: TLS with a certificate of the
 * test CA, client certificates required and verified, an Authorization header checked (401 otherwise), gzip or
 * plain bodies, "create" actions whose _id is indexed once (a second create of the same _id answers 409, as
 * Elasticsearch does). It can be stopped and started again on the same port, and cut a request's connection
 * after indexing it (an answer lost on the way).
 */
export class BulkHttps {
  port = 0;
  readonly requests: BulkRequest[] = [];
  /** _ids in the order they were indexed, each at most once. */
  readonly indexed: string[] = [];
  /** Documents by _id. */
  readonly docs = new Map<string, Record<string, unknown>>();
  /** Requests answered 409 per item, counted. */
  conflicts = 0;
  /** Cut the connection of this request (1-based) after indexing it, instead of answering. */
  cutRequest = 0;
  private server: https.Server | null = null;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly ca: TestCa, private readonly index: string, public authorization: string) {}

  get url(): string {
    return `https://127.0.0.1:${this.port}/_bulk`;
  }

  async start(): Promise<void> {
    const server = https.createServer({
      cert: fs.readFileSync(this.ca.serverCert), key: fs.readFileSync(this.ca.serverKey), ca: fs.readFileSync(this.ca.ca),
      requestCert: true, rejectUnauthorized: true,
    }, (req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (b: Buffer) => parts.push(b));
      req.on('end', () => {
        const raw = Buffer.concat(parts);
        const encoding = String(req.headers['content-encoding'] ?? '');
        const authorization = String(req.headers.authorization ?? '');
        const peer = (req.socket as tls.TLSSocket).getPeerCertificate();
        if (authorization !== this.authorization) {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end('{"error":{"type":"security_exception","reason":"missing authentication credentials"},"status":401}');
          return;
        }
        const body = (encoding === 'gzip' ? zlib.gunzipSync(raw) : raw).toString('utf8');
        const lines = body.split('\n');
        lines.pop();
        const req1: BulkRequest = { encoding, authorization, client: String(peer.subject?.CN ?? ''), ids: [] };
        this.requests.push(req1);
        const items: unknown[] = [];
        for (let i = 0; i < lines.length; i += 2) {
          const action = (JSON.parse(lines[i]) as { create?: { _index?: string; _id?: string } }).create;
          const id = action?._id;
          if (action?._index !== this.index || id === undefined) {
            items.push({ create: { status: 400, error: { type: 'action_request_validation_exception', reason: `bad action ${lines[i]}` } } });
            continue;
          }
          req1.ids.push(id);
          if (this.docs.has(id)) {
            this.conflicts++;
            items.push({ create: { _index: this.index, _id: id, status: 409, error: { type: 'version_conflict_engine_exception', reason: `[${id}]: version conflict, document already exists` } } });
            continue;
          }
          this.docs.set(id, JSON.parse(lines[i + 1]) as Record<string, unknown>);
          this.indexed.push(id);
          items.push({ create: { _index: this.index, _id: id, status: 201, result: 'created' } });
        }
        if (this.requests.length === this.cutRequest) {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ took: 1, errors: items.some((x) => (x as { create: { status: number } }).create.status !== 201), items }));
      });
    });
    server.on('secureConnection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Down: the port refuses connections, and open ones are cut. */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (s === null) return;
    for (const c of this.sockets) c.destroy();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
