import { HEAD_DONE, HEAD_NEED_MORE, HEAD_NOT_MINE, type Analyzer, type AnalyzerHost, type AnalyzerSpec } from '../../core/analyzer';
import { looksLikeTlsClientHello, parseTlsClientStream, type ClientHello } from './tls';

/** TLS ClientHellos, found by content on any TCP port and reassembled across segments and records. */
export const tlsAnalyzer: AnalyzerSpec = {
  name: 'tls',
  counters: { client_hellos: 'TLS and QUIC ClientHellos read' },
  create: createTlsAnalyzer,
};

/** A ClientHello read from a TCP stream or a QUIC Initial: settles the connection and is matched against intel. */
export function observeHello(host: AnalyzerHost, h: ClientHello, quic: boolean): void {
  host.counters.tls.client_hellos++;
  const ech = h.ech;
  host.settleConn(quic ? 'quic' : 'tls', h.sni !== null && !ech);
  const hit = h.sni === null ? -1 : host.matchName(h.sni);
  if (hit < 0 && !host.metadata()) return;
  host.emit({
    kind: 'tls_client_hello', ...host.base(quic ? 'udp' : 'tcp', hit),
    quic, sni: h.sni, alpn: h.alpn, version: h.version, ja4: h.ja4, ech,
  });
}

function createTlsAnalyzer(host: AnalyzerHost): Analyzer {
  return {
    streamProbe: looksLikeTlsClientHello,
    streamHead(data, off, end) {
      const r = parseTlsClientStream(data, off, end, 't');
      if (r.kind === 'need-more') return HEAD_NEED_MORE;
      if (r.kind !== 'hello') return HEAD_NOT_MINE;
      observeHello(host, r.hello, false);
      return HEAD_DONE;
    },
  };
}
