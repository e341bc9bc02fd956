import { u16be } from '../../capture/bytes';
import { IPPROTO_TCP } from '../../core/packet';
import type { Analyzer, AnalyzerHost, AnalyzerSpec } from '../../core/analyzer';
import { DecodeEvent } from '../../decode/events';
import { makeRoom } from '../../util/bounded';
import {
  createDnsQuestion, isReconQtype, OPCODE_DSO, OPCODE_IQUERY, OPCODE_NOTIFY, OPCODE_STATUS, OPCODE_UPDATE, RCODE_NXDOMAIN, readDnsAnswerNames, readDnsAnswers, readDnsHeader,
  readDnsQuestion, readDnsUpdateNames,
} from './dns';

const DNS_PORT = 53;
/** Multicast DNS (RFC 6762): UDP 5353, to 224.0.0.251 / ff02::fb, or unicast (one-shot queries and their answers). */
const MDNS_PORT = 5353;
/** Link-Local Multicast Name Resolution (RFC 4795): UDP 5355 to 224.0.0.252 / ff02::1:3, TCP 5355 unicast. */
const LLMNR_PORT = 5355;
/**
 * Standard queries remembered (--metadata) so that a response without one seen before it is still reported: a
 * capture that starts mid-exchange, a tap that sees one direction, a query lost to the sensor. Past the bound the
 * oldest are forgotten, and their responses are reported as if their query had not been seen.
 */
const MAX_ASKED = 4096;

/**
 * DNS over UDP and TCP on port 53. Queries become observations (intel matches, reconnaissance question types, or
 * all of them with --metadata); answers tie the addresses of intel names to the client that asked, on every
 * thread; NXDOMAIN and PTR/AXFR/IXFR answers go to the reconnaissance detectors.
 *
 * mDNS and LLMNR are the same message format on other ports, so this analyzer owns them too (one parser, one set
 * of counters) rather than a folder of its own that would import this one's parser. Their questions are matched
 * against intel as DNS questions are (intel.dns, the same rule and branch: a host asking its link for
 * api.shodan.io is the same behaviour, and a resolver that falls back to LLMNR sends exactly that); with
 * --metadata their responses become events too (dns.type answer, the answers' names). They are not fed to the
 * reconnaissance detectors (a DNS-SD browse is PTR questions, not a reverse sweep), and their answers tie no
 * addresses (a multicast answer is heard by every host on the link, not only the one that asked).
 */
export const dnsAnalyzer: AnalyzerSpec = {
  name: 'dns',
  counters: {
    messages: 'DNS messages read (UDP queries and responses, TCP queries; mDNS and LLMNR included)',
    queries: 'DNS queries read (mDNS and LLMNR included)',
    mdns: 'mDNS messages read (UDP 5353)',
    llmnr: 'LLMNR messages read (UDP and TCP 5355)',
    // Opcodes other than QUERY, one counter for each assigned one and one for the unassigned rest: a fixed set,
    // whatever the traffic sends. Such messages are counted, never matched against intel.
    opcode_iquery: 'DNS messages with opcode IQUERY (1, obsolete since RFC 3425) among those counted in messages',
    opcode_status: 'DNS messages with opcode STATUS (2, RFC 1035) among those counted in messages',
    opcode_notify: 'DNS messages with opcode NOTIFY (4, RFC 1996) among those counted in messages',
    opcode_update: 'DNS messages with opcode UPDATE (5, RFC 2136) among those counted in messages',
    opcode_dso: 'DNS messages with opcode DSO (6, DNS Stateful Operations, RFC 8490) among those counted in messages',
    opcode_other: 'DNS messages with an unassigned opcode (3, 7-15) among those counted in messages',
  },
  ports: { tcp: [DNS_PORT, LLMNR_PORT], udp: [DNS_PORT, MDNS_PORT, LLMNR_PORT] },
  // Answers (from port 53) tie intel addresses on every thread; with --metadata every thread also notes queries and
  // forgets answered ones (noteAsked, forgetAsked), so queries (to port 53) are read too.
  foreignPorts: (metadata) => ({ from: { tcp: [DNS_PORT], udp: [DNS_PORT] }, to: metadata ? { tcp: [DNS_PORT], udp: [DNS_PORT] } : {} }),
  create: createDnsAnalyzer,
};

/** Which of the protocols on the analyzer's ports a packet is: DNS when port 53 is either end. */
function serviceOf(src: number, dst: number): 'dns' | 'mdns' | 'llmnr' {
  if (src === DNS_PORT || dst === DNS_PORT) return 'dns';
  return src === MDNS_PORT || dst === MDNS_PORT ? 'mdns' : 'llmnr';
}

function createDnsAnalyzer(host: AnalyzerHost): Analyzer {
  const at = host.packet;
  const count = host.counters.dns;
  const query = createDnsQuestion();
  const answer = createDnsQuestion();
  const local = createDnsQuestion();
  const answerName = createDnsQuestion();
  const zone = createDnsQuestion();
  const asked = new Set<number>();

  /** An mDNS or LLMNR message: a query as a DNS query is; a response only for --metadata. */
  function observeLocal(p: number, end: number, transport: 'udp' | 'tcp', protocol: 'mdns' | 'llmnr'): void {
    count.messages++;
    count[protocol]++;
    const b = at.b;
    if (!readDnsHeader(b, p, end, local)) {
      host.decodeEvent(DecodeEvent.DNS_MALFORMED);
      return;
    }
    if (!local.isResponse) {
      // A query asks something (RFC 6762 6, RFC 4795 2.1.1): one without a question is malformed.
      if (!readDnsQuestion(b, p, end, local, false)) {
        host.decodeEvent(DecodeEvent.DNS_MALFORMED);
        return;
      }
      if (local.opcode !== 0) return;
      count.queries++;
      const hit = host.matchDomain(local.name);
      if (hit < 0 && !host.metadata()) return;
      host.emit({ kind: 'dns_query', ...host.base(transport, hit), name: local.name, qtype: local.qtype, id: local.id, protocol });
      return;
    }
    if (!host.metadata() || local.opcode !== 0) return;
    let name = '';
    let qtype = 0;
    if (local.qdcount > 0) {
      // LLMNR responses repeat the question; mDNS ones normally have none.
      if (!readDnsQuestion(b, p, end, local, false)) {
        host.decodeEvent(DecodeEvent.DNS_MALFORMED);
        return;
      }
      name = local.name;
      qtype = local.qtype;
    }
    const answers: Array<{ name: string; type: number }> = [];
    if (!readDnsAnswerNames(b, p, end, local, answerName, answers)) host.decodeEvent(DecodeEvent.DNS_MALFORMED);
    host.emit({
      kind: 'dns_query', ...host.base(transport, -1), name, qtype, id: local.id, protocol,
      response: { rcode: local.rcode, answers },
    });
  }

  function observeQuery(p: number, end: number, transport: 'udp' | 'tcp'): void {
    count.messages++;
    if (!readDnsQuestion(at.b, p, end, query, true)) {
      host.decodeEvent(DecodeEvent.DNS_MALFORMED);
      return;
    }
    if (query.opcode !== 0) {
      countOpcode(query.opcode);
      if (!query.isResponse && (query.opcode === OPCODE_NOTIFY || query.opcode === OPCODE_UPDATE)) observeZoneMessage(p, end, transport);
      return;
    }
    if (query.isResponse) return;
    count.queries++;
    if (host.metadata()) {
      makeRoom(asked, MAX_ASKED);
      asked.add(askedKey(false, query.id));
    }
    const hit = host.matchDomain(query.name);
    if (hit < 0 && !host.metadata() && !isReconQtype(query.qtype)) return;
    host.emit({ kind: 'dns_query', ...host.base(transport, hit), name: query.name, qtype: query.qtype, id: query.id });
  }

  function countOpcode(opcode: number): void {
    if (opcode === OPCODE_NOTIFY) count.opcode_notify++;
    else if (opcode === OPCODE_UPDATE) count.opcode_update++;
    else if (opcode === OPCODE_IQUERY) count.opcode_iquery++;
    else if (opcode === OPCODE_STATUS) count.opcode_status++;
    else if (opcode === OPCODE_DSO) count.opcode_dso++;
    else count.opcode_other++;
  }

  /**
   * A NOTIFY or UPDATE request (--metadata only): the zone (the question section of both) as the question; for an
   * UPDATE, the names its prerequisites and updates touch. Not matched against intel: neither looks a name up.
   */
  function observeZoneMessage(p: number, end: number, transport: 'udp' | 'tcp'): void {
    if (!host.metadata()) return;
    const b = at.b;
    if (!readDnsQuestion(b, p, end, zone, false)) {
      host.decodeEvent(DecodeEvent.DNS_MALFORMED);
      return;
    }
    let update: { prerequisites: string[]; updates: string[] } | undefined;
    if (zone.opcode === OPCODE_UPDATE) {
      update = { prerequisites: [], updates: [] };
      if (!readDnsUpdateNames(b, p, end, zone, answerName, update.prerequisites, update.updates)) host.decodeEvent(DecodeEvent.DNS_MALFORMED);
    }
    host.emit({
      kind: 'dns_query', ...host.base(transport, -1), name: zone.name, qtype: zone.qtype, id: zone.id, opcode: zone.opcode,
      ...(update !== undefined ? { update } : {}),
    });
  }

  /**
   * Every thread keeps the same `asked` set: the queries and responses of flows other threads own are noted and
   * forgotten as the owner does (same reads, same order), so the bound evicts the same entries whatever the number
   * of threads. A fragmented query is owned by its addresses' thread, its response by its flow's: without this a
   * response would look unasked on its own thread.
   */
  function noteAsked(p: number, end: number): void {
    if (!readDnsQuestion(at.b, p, end, query, true) || query.isResponse || query.opcode !== 0) return;
    makeRoom(asked, MAX_ASKED);
    asked.add(askedKey(false, query.id));
  }

  function forgetAsked(p: number, end: number): void {
    if (readDnsQuestion(at.b, p, end, answer, false) && answer.isResponse && answer.opcode === 0) asked.delete(askedKey(true, answer.id));
  }

  /** A query's flow direction (reversed: the response's, seen from the query's side) and id, as one number. */
  function askedKey(reversed: boolean, id: number): number {
    return host.directedHash(reversed) * 65536 + id;
  }

  /**
   * --metadata: a standard response whose query was not seen (or was forgotten) still names its question, as an
   * answer event (dns.type answer) naming the client as source, with the names its answers hold.
   */
  function unaskedResponse(p: number, end: number, transport: 'udp' | 'tcp'): void {
    const key = askedKey(true, answer.id);
    if (asked.delete(key)) return;
    const answers: Array<{ name: string; type: number }> = [];
    if (!readDnsAnswerNames(at.b, p, end, answer, answerName, answers)) host.decodeEvent(DecodeEvent.DNS_MALFORMED);
    host.emit({
      kind: 'dns_query', ...host.base(transport, -1, true), name: answer.name, qtype: answer.qtype, id: answer.id,
      response: { rcode: answer.rcode, answers },
    });
  }

  /** One response: to the reconnaissance detectors (owned packets only), and its intel addresses to the cache. */
  function learnAnswers(p: number, end: number): void {
    const b = at.b;
    if (!readDnsQuestion(b, p, end, answer, false) || !answer.isResponse) return;
    const transport = at.pkt.proto === IPPROTO_TCP ? 'tcp' : 'udp';
    if (at.ordinal >= 0 && answer.opcode === 0 && host.metadata()) unaskedResponse(p, end, transport);
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
    for (let q = off; q + 2 + 12 <= end;) {
      const len = u16be(at.b, q);
      if (len < 12) return;
      read(q + 2, Math.min(end, q + 2 + len));
      q += 2 + len;
    }
  }

  const readQuery = (p: number, end: number): void => observeQuery(p, end, 'tcp');
  const readLlmnr = (p: number, end: number): void => observeLocal(p, end, 'tcp', 'llmnr');

  return {
    udpDatagram(off, end) {
      const service = serviceOf(at.pkt.srcPort, at.pkt.dstPort);
      if (service !== 'dns') {
        observeLocal(off, end, 'udp', service);
        return true;
      }
      observeQuery(off, end, 'udp');
      if (at.pkt.srcPort === DNS_PORT) learnAnswers(off, end);
      return true;
    },
    tcpSegment(off, end) {
      if (serviceOf(at.pkt.srcPort, at.pkt.dstPort) !== 'dns') {
        eachTcpMessage(off, end, readLlmnr);
        return;
      }
      // Only the client's side is read for queries; the server's side for answers.
      if (at.pkt.srcPort === DNS_PORT) eachTcpMessage(off, end, learnAnswers);
      else eachTcpMessage(off, end, readQuery);
    },
    foreignPacket() {
      const pkt = at.pkt;
      if (host.metadata() && pkt.fragment !== 2 && pkt.payloadLen > 0 && (pkt.srcPort === DNS_PORT || pkt.dstPort === DNS_PORT)) {
        const q = pkt.payloadOff;
        const e = q + pkt.payloadLen;
        if (pkt.proto === IPPROTO_TCP) eachTcpMessage(q, e, pkt.srcPort === DNS_PORT ? forgetAsked : noteAsked);
        else {
          noteAsked(q, e);
          if (pkt.srcPort === DNS_PORT) forgetAsked(q, e);
        }
      }
      if (pkt.srcPort !== DNS_PORT || pkt.payloadLen === 0 || pkt.fragment !== 0) return;
      const end = pkt.payloadOff + pkt.payloadLen;
      if (pkt.proto === IPPROTO_TCP) eachTcpMessage(pkt.payloadOff, end, learnAnswers);
      else learnAnswers(pkt.payloadOff, end);
    },
  };
}
