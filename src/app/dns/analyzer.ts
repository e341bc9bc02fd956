import { u16be } from '../../capture/bytes';
import { IPPROTO_TCP } from '../../core/packet';
import type { Analyzer, AnalyzerHost, AnalyzerSpec } from '../../core/analyzer';
import { DecodeEvent } from '../../decode/events';
import { createDnsQuestion, isReconQtype, RCODE_NXDOMAIN, readDnsAnswers, readDnsQuestion } from './dns';

const DNS_PORT = 53;

/**
 * DNS over UDP and TCP on port 53. Queries become observations (intel matches, reconnaissance question types, or
 * all of them with --metadata); answers tie the addresses of intel names to the client that asked, on every
 * thread; NXDOMAIN and PTR/AXFR/IXFR answers go to the reconnaissance detectors.
 */
export const dnsAnalyzer: AnalyzerSpec = {
  name: 'dns',
  counters: { messages: 'DNS messages read (UDP queries and responses, TCP queries)', queries: 'DNS queries read' },
  ports: { tcp: [DNS_PORT], udp: [DNS_PORT] },
  create: createDnsAnalyzer,
};

function createDnsAnalyzer(host: AnalyzerHost): Analyzer {
  const at = host.packet;
  const count = host.counters.dns;
  const query = createDnsQuestion();
  const answer = createDnsQuestion();

  function observeQuery(p: number, end: number, transport: 'udp' | 'tcp'): void {
    count.messages++;
    if (!readDnsQuestion(at.b, p, end, query, true)) {
      host.decodeEvent(DecodeEvent.DNS_MALFORMED);
      return;
    }
    if (query.isResponse || query.opcode !== 0) return;
    count.queries++;
    const hit = host.matchDomain(query.name);
    if (hit < 0 && !host.metadata() && !isReconQtype(query.qtype)) return;
    host.emit({ kind: 'dns_query', ...host.base(transport, hit), name: query.name, qtype: query.qtype, id: query.id });
  }

  /** One response: to the reconnaissance detectors (owned packets only), and its intel addresses to the cache. */
  function learnAnswers(p: number, end: number): void {
    const b = at.b;
    if (!readDnsQuestion(b, p, end, answer, false) || !answer.isResponse) return;
    const transport = at.pkt.proto === IPPROTO_TCP ? 'tcp' : 'udp';
    if (at.ordinal >= 0 && answer.opcode === 0 && (answer.rcode === RCODE_NXDOMAIN || isReconQtype(answer.qtype))) {
      // The observation names the client that asked as its source, as its query did.
      host.emit({
        kind: 'dns_response', ...host.base(transport, -1, true),
        name: answer.name, qtype: answer.qtype, rcode: answer.rcode, ancount: answer.ancount, id: answer.id,
      });
    }
    if (answer.ancount === 0 || answer.rcode !== 0) return;
    const hit = host.matchDomain(answer.name);
    if (hit < 0) return;
    const name = answer.name;
    readDnsAnswers(b, p, end, answer, (family, off) => host.rememberAnswer(family, off, hit, name));
  }

  /** Length-prefixed messages that start in this segment (several may share one; reassembly is not done). */
  function eachTcpMessage(off: number, end: number, read: (p: number, end: number) => void): void {
    for (let q = off; q + 2 + 12 <= end; ) {
      const len = u16be(at.b, q);
      if (len < 12) return;
      read(q + 2, Math.min(end, q + 2 + len));
      q += 2 + len;
    }
  }

  const readQuery = (p: number, end: number): void => observeQuery(p, end, 'tcp');

  return {
    udpDatagram(off, end) {
      observeQuery(off, end, 'udp');
      if (at.pkt.srcPort === DNS_PORT) learnAnswers(off, end);
      return true;
    },
    tcpSegment(off, end) {
      // Only the client's side is read for queries; the server's side for answers.
      if (at.pkt.srcPort === DNS_PORT) eachTcpMessage(off, end, learnAnswers);
      else eachTcpMessage(off, end, readQuery);
    },
    foreignPacket() {
      const pkt = at.pkt;
      if (pkt.srcPort !== DNS_PORT || pkt.payloadLen === 0 || pkt.fragment !== 0) return;
      const end = pkt.payloadOff + pkt.payloadLen;
      if (pkt.proto === IPPROTO_TCP) eachTcpMessage(pkt.payloadOff, end, learnAnswers);
      else learnAnswers(pkt.payloadOff, end);
    },
  };
}
