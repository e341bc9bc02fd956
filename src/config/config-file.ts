import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Node, YAMLMap } from 'yaml';
import { PicketError } from '../errors';
import { defaultSensorName, parseServers, SENSOR_NAME_RE } from '../fleet/streams';
import type { SinkConfig, TlsFiles } from '../output/sinks/sink';
import { parseHomeNet } from './homenet';
import { SENSITIVITIES, type Sensitivity } from './rules';
import { checkAllowedKeys, isMap, isScalar, isSeq, numberAt, parseDocument, RuleFile, scalarString, stringList } from './yaml-file';

/**
 * picket.yaml: everything the command-line flags set, for a sensor run as a service. Flags given on the command
 * line win over the file. Every error names the file, the line and the key.
 */
export interface PicketConfig {
  homeNet?: string;
  rules?: string[];
  sensitivity?: Sensitivity;
  metadata?: boolean;
  workers?: number;
  statsInterval?: number;
  capture?: {
    interfaces?: string[];
    bpf?: string;
    snaplen?: number;
    bufferMb?: number;
    promisc?: boolean;
    backend?: 'auto' | 'addon' | 'cap';
  };
  writePcap?: { dir: string; fileMb: number; files: number };
  metricsListen?: string;
  outputs?: Array<SinkConfig & { format?: 'ndjson' | 'text' }>;
  spillDir?: string;
  spillMaxBytes?: number;
  queueDocs?: number;
}

/** Sink URLs as flags and picket.yaml accept them (the sinks check them again, for callers of their own). */
export const SYSLOG_URL_RE = /^(?:(udp|tcp):\/\/[^/]+:\d+|tls:\/\/[^/]+)$/;
export const HTTP_URL_RE = /^https?:\/\/.+/;

const TOP_KEYS = ['home_net', 'rules', 'sensitivity', 'metadata', 'workers', 'stats_interval', 'capture', 'write_pcap', 'metrics', 'outputs', 'spill_dir', 'spill_max_mb', 'queue_docs'];

export function loadConfigFile(file: string): PicketConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PicketError(`${file}: cannot read the config file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const rf: RuleFile = new RuleFile(file);
  const doc = parseDocument(text, rf);
  const root = doc.contents;
  if (root === null) return {};
  if (!isMap(root)) rf.fail(root, 'picket.yaml is a mapping of settings (home_net, rules, capture, outputs, ...)');
  checkAllowedKeys(rf, root, TOP_KEYS);
  const base = path.dirname(path.resolve(file));
  const rel = (p: string): string => path.resolve(base, p);
  const cfg: PicketConfig = {};
  if (root.has('home_net')) {
    cfg.homeNet = stringList(rf, root, 'home_net').join(',');
    try {
      parseHomeNet(cfg.homeNet, 'home_net', true);
    } catch (e) {
      rf.fail(root.get('home_net', true) as Node, (e as Error).message);
    }
  }
  if (root.has('rules')) cfg.rules = stringList(rf, root, 'rules').map(rel);
  if (root.has('sensitivity')) {
    const s = scalarString(rf, root, 'sensitivity', true);
    if (!(SENSITIVITIES as readonly string[]).includes(s)) rf.fail(root.get('sensitivity', true) as Node, `"sensitivity" must be one of ${SENSITIVITIES.join(', ')}`);
    cfg.sensitivity = s as Sensitivity;
  }
  if (root.has('metadata')) cfg.metadata = bool(rf, root, 'metadata');
  if (root.has('workers')) cfg.workers = wholeNumber(rf, root, 'workers', 0, 64);
  cfg.statsInterval = numberAt(rf, root, 'stats_interval', 'duration');
  const capture = root.get('capture', true) as Node | undefined;
  if (capture !== undefined) {
    if (!isMap(capture)) rf.fail(capture, '"capture" must be a mapping (interfaces, bpf, snaplen, buffer_mb, promisc, backend)');
    checkAllowedKeys(rf, capture, ['interfaces', 'bpf', 'snaplen', 'buffer_mb', 'promisc', 'backend']);
    const c: NonNullable<PicketConfig['capture']> = {};
    if (capture.has('interfaces')) c.interfaces = stringList(rf, capture, 'interfaces');
    if (capture.has('bpf')) c.bpf = scalarString(rf, capture, 'bpf', true);
    if (capture.has('snaplen')) c.snaplen = wholeNumber(rf, capture, 'snaplen', 64, 262144);
    if (capture.has('buffer_mb')) c.bufferMb = wholeNumber(rf, capture, 'buffer_mb', 1, 65536);
    if (capture.has('promisc')) c.promisc = bool(rf, capture, 'promisc');
    if (capture.has('backend')) {
      const b = scalarString(rf, capture, 'backend', true);
      if (b !== 'auto' && b !== 'addon' && b !== 'cap') rf.fail(capture.get('backend', true) as Node, '"backend" must be auto, addon or cap');
      c.backend = b;
    }
    cfg.capture = c;
  }
  const ring = root.get('write_pcap', true) as Node | undefined;
  if (ring !== undefined) {
    if (!isMap(ring)) rf.fail(ring, '"write_pcap" must be a mapping (dir, file_mb, files)');
    checkAllowedKeys(rf, ring, ['dir', 'file_mb', 'files']);
    cfg.writePcap = {
      dir: rel(scalarString(rf, ring, 'dir', true)),
      fileMb: ring.has('file_mb') ? wholeNumber(rf, ring, 'file_mb', 1, 65536) : 64,
      files: ring.has('files') ? wholeNumber(rf, ring, 'files', 1, 100000) : 16,
    };
  }
  const metrics = root.get('metrics', true) as Node | undefined;
  if (metrics !== undefined) {
    if (!isMap(metrics)) rf.fail(metrics, '"metrics" must be a mapping (listen)');
    checkAllowedKeys(rf, metrics, ['listen']);
    cfg.metricsListen = scalarString(rf, metrics, 'listen', true);
  }
  if (root.has('spill_dir')) cfg.spillDir = rel(scalarString(rf, root, 'spill_dir', true));
  if (root.has('spill_max_mb')) cfg.spillMaxBytes = wholeNumber(rf, root, 'spill_max_mb', 1, 1 << 20) * 1024 * 1024;
  if (root.has('queue_docs')) cfg.queueDocs = wholeNumber(rf, root, 'queue_docs', 1, 10_000_000);
  const outputs = root.get('outputs', true) as Node | undefined;
  if (outputs !== undefined) {
    if (!isSeq(outputs)) rf.fail(outputs, '"outputs" must be a list of sinks (type: stdout, file, syslog, http, nats)');
    cfg.outputs = (outputs.items as Node[]).map((item) => sinkAt(rf, item, rel));
  }
  return cfg;
}

function sinkAt(rf: RuleFile, item: Node, rel: (p: string) => string): SinkConfig & { format?: 'ndjson' | 'text' } {
  if (!isMap(item)) rf.fail(item, 'an output is a mapping with a "type" (stdout, file, syslog, http, nats)');
  const type = scalarString(rf, item, 'type', true);
  switch (type) {
    case 'stdout': {
      checkAllowedKeys(rf, item, ['type', 'format']);
      const format = item.has('format') ? scalarString(rf, item, 'format', true) : 'ndjson';
      if (format !== 'ndjson' && format !== 'text') rf.fail(item.get('format', true) as Node, '"format" must be ndjson or text');
      return { type: 'stdout', format };
    }
    case 'file':
      checkAllowedKeys(rf, item, ['type', 'path', 'rotate_mb', 'rotate_every', 'keep']);
      return {
        type: 'file', path: rel(scalarString(rf, item, 'path', true)),
        rotateBytes: item.has('rotate_mb') ? wholeNumber(rf, item, 'rotate_mb', 1, 1 << 20) * 1024 * 1024 : undefined,
        rotateSeconds: numberAt(rf, item, 'rotate_every', 'duration'),
        keep: item.has('keep') ? wholeNumber(rf, item, 'keep', 0, 10000) : undefined,
      };
    case 'syslog': {
      checkAllowedKeys(rf, item, ['type', 'url', 'app_name', 'hostname', 'facility', 'framing', 'confirm', 'tls']);
      const confirm = numberAt(rf, item, 'confirm', 'duration');
      const url = scalarString(rf, item, 'url', true);
      if (!SYSLOG_URL_RE.test(url)) rf.fail(item.get('url', true) as Node, '"url" must be udp://HOST:PORT, tcp://HOST:PORT or tls://HOST[:PORT]');
      const tls = tlsAt(rf, item, rel);
      if (tls !== undefined && !url.startsWith('tls:')) rf.fail(item.get('tls', true) as Node, '"tls" is for a tls://HOST[:PORT] url');
      const framing = item.has('framing') ? scalarString(rf, item, 'framing', true) : 'octet-counting';
      if (framing !== 'octet-counting' && framing !== 'newline') rf.fail(item.get('framing', true) as Node, '"framing" must be octet-counting or newline');
      return {
        type: 'syslog', url, appName: item.has('app_name') ? scalarString(rf, item, 'app_name', true) : undefined,
        hostname: item.has('hostname') ? scalarString(rf, item, 'hostname', true) : undefined,
        facility: item.has('facility') ? wholeNumber(rf, item, 'facility', 0, 23) : undefined, octetCounting: framing === 'octet-counting',
        confirmMs: confirm === undefined ? undefined : confirm * 1000, tls,
      };
    }
    case 'http': {
      checkAllowedKeys(rf, item, ['type', 'url', 'index', 'headers', 'batch_docs', 'batch_every', 'timeout', 'tls', 'basic_auth_file', 'api_key_file', 'gzip']);
      const url = scalarString(rf, item, 'url', true);
      if (!HTTP_URL_RE.test(url)) rf.fail(item.get('url', true) as Node, '"url" must be an http:// or https:// URL');
      const tls = tlsAt(rf, item, rel);
      if (tls !== undefined && !url.startsWith('https:')) rf.fail(item.get('tls', true) as Node, '"tls" is for an https:// url');
      if (item.has('basic_auth_file') && item.has('api_key_file')) rf.fail(item.get('api_key_file', true) as Node, '"basic_auth_file" or "api_key_file", not both');
      const auth = item.has('basic_auth_file') ? { basicFile: rel(scalarString(rf, item, 'basic_auth_file', true)) }
        : item.has('api_key_file') ? { apiKeyFile: rel(scalarString(rf, item, 'api_key_file', true)) } : undefined;
      const headersNode = item.get('headers', true) as Node | undefined;
      let headers: Record<string, string> | undefined;
      if (headersNode !== undefined) {
        if (!isMap(headersNode)) rf.fail(headersNode, '"headers" must be a mapping of header names to values');
        headers = {};
        for (const pair of headersNode.items) {
          if (!isScalar(pair.key) || !isScalar(pair.value)) rf.fail(pair.key as Node, 'each header is "Name: value"');
          headers[String(pair.key.value)] = String(pair.value.value);
        }
      }
      const batchMs = numberAt(rf, item, 'batch_every', 'duration');
      const timeout = numberAt(rf, item, 'timeout', 'duration');
      return {
        type: 'http', url, headers, bulk: item.has('index') ? { index: scalarString(rf, item, 'index', true) } : undefined,
        batchDocs: item.has('batch_docs') ? wholeNumber(rf, item, 'batch_docs', 1, 100000) : undefined,
        batchMs: batchMs === undefined ? undefined : batchMs * 1000, timeoutMs: timeout === undefined ? undefined : timeout * 1000,
        tls, auth, gzip: item.has('gzip') ? bool(rf, item, 'gzip') : undefined,
      };
    }
    case 'nats': {
      checkAllowedKeys(rf, item, ['type', 'servers', 'sensor_name', 'credentials', 'tls']);
      const serversNode = item.get('servers', true) as Node | undefined;
      if (serversNode === undefined) rf.fail(item, 'a nats output needs "servers" (nats://HOST:PORT, one or a list)');
      let servers: string[] = [];
      try {
        servers = parseServers(stringList(rf, item, 'servers').join(','), '"servers"');
      } catch (e) {
        rf.fail(serversNode, (e as Error).message);
      }
      const sensor = item.has('sensor_name') ? scalarString(rf, item, 'sensor_name', true) : defaultSensorName();
      if (!SENSOR_NAME_RE.test(sensor)) rf.fail(item.get('sensor_name', true) as Node ?? item, `"sensor_name" must be 1 to 64 letters, digits, - or _, not "${sensor}"`);
      const tls = tlsAt(rf, item, rel);
      if (tls !== undefined && (tls.cert !== undefined || tls.insecure !== undefined)) rf.fail(item.get('tls', true) as Node, 'a nats output\'s "tls" takes "ca" only');
      return { type: 'nats', servers, sensor, auth: { credsFile: item.has('credentials') ? rel(scalarString(rf, item, 'credentials', true)) : undefined, tlsCa: tls?.ca } };
    }
    default:
      rf.fail(item.get('type', true) as Node, `unknown output type "${type}" (stdout, file, syslog, http, nats)`);
  }
}

/** A sink's "tls" mapping (ca, cert, key, insecure), paths relative to the config file. */
function tlsAt(rf: RuleFile, item: YAMLMap, rel: (p: string) => string): TlsFiles | undefined {
  const node = item.get('tls', true) as Node | undefined;
  if (node === undefined) return undefined;
  if (!isMap(node)) rf.fail(node, '"tls" must be a mapping (ca, cert, key, insecure)');
  checkAllowedKeys(rf, node, ['ca', 'cert', 'key', 'insecure']);
  if (node.has('cert') !== node.has('key')) rf.fail(node, '"cert" and "key" go together');
  const t: TlsFiles = {};
  for (const k of ['ca', 'cert', 'key'] as const) if (node.has(k)) t[k] = rel(scalarString(rf, node, k, true));
  if (node.has('insecure')) t.insecure = bool(rf, node, 'insecure');
  return t;
}

function bool(rf: RuleFile, map: YAMLMap, key: string): boolean {
  const v = map.get(key);
  if (typeof v !== 'boolean') rf.fail(map.get(key, true) as Node, `"${key}" must be true or false`);
  return v;
}

function wholeNumber(rf: RuleFile, map: YAMLMap, key: string, min: number, max: number): number {
  const node = map.get(key, true) as Node;
  const v = isScalar(node) ? Number(node.value) : NaN;
  if (!Number.isInteger(v) || v < min || v > max) rf.fail(node, `"${key}" must be a whole number from ${min} to ${max}`);
  return v;
}
