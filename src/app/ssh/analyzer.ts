import { HEAD_DONE, HEAD_NEED_MORE, HEAD_NOT_MINE, type Analyzer, type AnalyzerHost, type AnalyzerSpec } from '../../core/analyzer';
import type { AppFields } from '../../core/observation';
import { makeRoom } from '../../util/bounded';
import { looksLikeSshBanner, parseSshBanner, type SshBanner } from './ssh';

const SSH_PORT = 22;
/** Banners kept per flow direction until the other side's arrives. */
const MAX_FLOWS = 16384;

/**
 * SSH identification strings of both sides, found by content on any TCP port: client and server software in
 * --metadata events (picket.ssh.client.*, picket.ssh.server.*) and for probe signatures (scanners' SSH clients).
 */
export const sshAnalyzer: AnalyzerSpec = {
  name: 'ssh',
  counters: { banners: 'SSH identification strings read (client and server)' },
  signatureFields: ['ssh.client.banner', 'ssh.client.software', 'ssh.server.banner', 'ssh.server.software'],
  create: createSshAnalyzer,
};

function sideFields(s: SshBanner): AppFields {
  return { banner: s.banner, proto_version: s.protoVersion, software: s.software, ...(s.comments !== '' ? { comments: s.comments } : {}) };
}

function createSshAnalyzer(host: AnalyzerHost): Analyzer {
  const at = host.packet;
  /** The banner each flow direction sent, by flowKey, so that the other side's event can carry it too. */
  const sent = new Map<number, SshBanner>();

  function observe(s: SshBanner): void {
    host.counters.ssh.banners++;
    host.settleConn('other', false);
    const pkt = at.pkt;
    // The client is the side talking to the SSH port, or else the side with the higher (ephemeral) port.
    const fromServer = pkt.srcPort === SSH_PORT || (pkt.dstPort !== SSH_PORT && pkt.srcPort < pkt.dstPort);
    const other = sent.get(host.flowKey(true));
    makeRoom(sent, MAX_FLOWS);
    sent.set(host.flowKey(false), s);
    const client = fromServer ? other : s;
    const server = fromServer ? s : other;
    const side = fromServer ? 'server' : 'client';
    // `from`: whose banner this message is (the other side's, when already seen, comes along).
    const fields: AppFields = { from: side };
    if (client !== undefined) fields.client = sideFields(client);
    if (server !== undefined) fields.server = sideFields(server);
    host.matchSignatures(
      { [`ssh.${side}.banner`]: s.banner, [`ssh.${side}.software`]: s.software },
      fromServer ? pkt.srcPort : pkt.dstPort,
      { fromServer, httpMethod: '', httpPath: '', userAgent: '', app: { protocol: 'ssh', fields } },
    );
    if (host.metadata()) host.emit({ kind: 'app', ...host.base('tcp', -1, fromServer), protocol: 'ssh', fields });
  }

  return {
    streamProbe: looksLikeSshBanner,
    streamHead(data, off, end) {
      const r = parseSshBanner(data, off, end);
      if (r.kind === 'need-more') return HEAD_NEED_MORE;
      if (r.kind !== 'banner') return HEAD_NOT_MINE;
      observe(r.banner);
      return HEAD_DONE;
    },
  };
}
