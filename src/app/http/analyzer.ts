import { isIP } from 'node:net';
import { HEAD_DONE, HEAD_NEED_MORE, HEAD_NOT_MINE, type Analyzer, type AnalyzerHost, type AnalyzerSpec } from '../../core/analyzer';
import { looksLikeHttpRequest, parseHttpRequest, type HttpRequest } from './http';

/** HTTP/1.x request heads, found by content on any TCP port: Host, path, method, User-Agent. */
export const httpAnalyzer: AnalyzerSpec = {
  name: 'http',
  counters: { requests: 'HTTP/1.x requests read' },
  signatureFields: ['http.user_agent', 'http.path', 'http.host', 'http.method'],
  create: createHttpAnalyzer,
};

function createHttpAnalyzer(host: AnalyzerHost): Analyzer {
  const at = host.packet;
  const count = host.counters.http;

  function observe(req: HttpRequest): void {
    count.requests++;
    host.settleConn('http', req.host !== '' && isIP(req.host) === 0);
    host.matchSignatures(
      { 'http.user_agent': req.userAgent, 'http.path': req.path, 'http.host': req.host, 'http.method': req.method },
      at.pkt.dstPort, { fromServer: false, httpMethod: req.method, httpPath: req.path, userAgent: req.userAgent },
    );
    const hit = host.matchName(req.host);
    if (hit < 0 && !host.metadata()) return;
    host.emit({
      kind: 'http_request', ...host.base('tcp', hit),
      method: req.method, path: req.path, httpVersion: req.version, host: req.host, userAgent: req.userAgent,
    });
  }

  return {
    streamProbe: looksLikeHttpRequest,
    streamHead(data, off, end) {
      const r = parseHttpRequest(data, off, end);
      if (r.kind === 'need-more') return HEAD_NEED_MORE;
      if (r.kind !== 'request') return HEAD_NOT_MINE;
      observe(r.request);
      return HEAD_DONE;
    },
  };
}
