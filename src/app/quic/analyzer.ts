import type { Analyzer, AnalyzerHost, AnalyzerSpec } from '../../core/analyzer';
import { makeRoom } from '../../util/bounded';
import { parseClientHelloMessage } from '../tls/tls';
import { observeHello } from '../tls/analyzer';
import { assembleCrypto, decryptClientInitials, looksLikeQuicInitial, type CryptoChunk } from './quic';

const MAX_QUIC_PENDING = 1024;
const MAX_QUIC_CRYPTO = 65536;
/** A hello still incomplete after this long (packet seconds) starts over. */
const PENDING_SEC = 60;

/**
 * QUIC v1/v2 client Initials on any UDP port: decrypted with the keys their own header gives any observer
 * (RFC 9001 5.2), CRYPTO frames gathered per flow until the ClientHello is whole (large ones span datagrams).
 */
export const quicAnalyzer: AnalyzerSpec = {
  name: 'quic',
  counters: {
    initials: 'QUIC client Initials decrypted',
    initials_skipped: 'QUIC Initials not read because the key derivation budget (app.quic.key_derivations_per_second) was spent',
  },
  settings: {
    key_derivations_per_second: {
      default: 2000, kind: 'count',
      help: 'Initial key derivations (about 0.1 ms each) per second of packet time, per thread; a flood of Initials with new connection IDs costs no more',
    },
  },
  create: createQuicAnalyzer,
};

function createQuicAnalyzer(host: AnalyzerHost): Analyzer {
  const at = host.packet;
  /** Flows whose ClientHello is still incomplete, and flows already read (their later Initials are skipped). */
  const pendingHellos = new Map<number, { chunks: CryptoChunk[]; expires: number }>();
  const done = new Set<number>();
  // Key derivations left in the current second of packet time; refused counts whether this datagram hit the limit.
  let budgetSecond = -1;
  let budgetLeft = 0;
  let refused = false;
  const mayDerive = (): boolean => {
    if (at.tsSec !== budgetSecond) {
      budgetSecond = at.tsSec;
      budgetLeft = host.setting('quic', 'key_derivations_per_second');
    }
    if (budgetLeft > 0) {
      budgetLeft--;
      return true;
    }
    refused = true;
    return false;
  };

  return {
    udpProbe: looksLikeQuicInitial,
    udpDatagram(off, end) {
      refused = false;
      const initials = decryptClientInitials(at.b, off, end, mayDerive);
      if (refused) host.counters.quic.initials_skipped++;
      // Not read for the budget: taken as QUIC all the same, so that it is not reported as other UDP either.
      if (initials.length === 0) return refused;
      host.counters.quic.initials++;
      const h = host.flowKey(false);
      const pending = pendingHellos.get(h);
      if (pending === undefined && done.has(h)) return true; // a retransmitted or later Initial of a settled flow
      const chunks = pending !== undefined && pending.expires > at.tsSec ? pending.chunks : [];
      for (const ini of initials) for (const c of ini.crypto) if (chunks.length < 64) chunks.push(c);
      const data = assembleCrypto(chunks, MAX_QUIC_CRYPTO);
      const r = data === null ? null : parseClientHelloMessage(data, 0, data.length, 'q');
      if (r === null || r.kind === 'need-more') {
        if (pending === undefined) {
          makeRoom(pendingHellos, MAX_QUIC_PENDING);
          pendingHellos.set(h, { chunks, expires: at.tsSec + PENDING_SEC });
        }
        return true;
      }
      pendingHellos.delete(h);
      makeRoom(done, MAX_QUIC_PENDING);
      done.add(h);
      if (r.kind === 'hello') {
        if (r.hello.sni === null || r.hello.ech) host.unnamedUdpConn('quic');
        observeHello(host, r.hello, true);
      }
      return true;
    },
  };
}
