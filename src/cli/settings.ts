import { HTTP_URL_RE, SYSLOG_URL_RE, type PicketConfig } from '../config/config-file';
import { parseDuration } from '../config/duration';
import { DEFAULT_HOME_NET, parseHomeNet } from '../config/homenet';
import { SENSITIVITIES, type Rules, type Sensitivity } from '../config/rules';
import { loadAllRules, type EngineSetup } from '../engine/setup';
import { PicketError } from '../errors';
import { defaultSensorName, parseServers, SENSOR_NAME_RE } from '../fleet/streams';
import type { OutputSpec } from '../output/outputs';
import type { SinkCommon, TlsFiles } from '../output/sinks/sink';

/** A whole-number flag within bounds, or undefined when not given. */
export function wholeFlag(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < min || n > max) throw new PicketError(`--${name} must be a whole number from ${min} to ${max}, not "${v}"`);
  return n;
}

/** A duration flag (90s, 15m, 1h) in seconds, or undefined when not given. */
export function durationFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = parseDuration(v);
  if (Number.isNaN(n)) throw new PicketError(`--${name} must be a duration such as 90s, 15m, 1h, not "${v}"`);
  return n;
}

/** The flags replay and capture share for what to detect. */
export interface DetectionFlags {
  'home-net'?: string;
  rules: string[];
  metadata?: boolean;
  sensitivity?: string;
}

/**
 * What both commands detect with: flags over picket.yaml over the defaults, checked before anything starts.
 * loadRules() reads the rule files (again at each SIGHUP) and applies the sensitivity the command asked for.
 */
export function detectionSettings(flags: DetectionFlags, cfg: PicketConfig, batchPackets: number): { setup: EngineSetup; loadRules(): Rules } {
  const homeNet = flags['home-net'] ?? cfg.homeNet ?? DEFAULT_HOME_NET;
  parseHomeNet(homeNet, flags['home-net'] !== undefined ? '--home-net' : 'home_net', true);
  const sensitivity = flags.sensitivity ?? cfg.sensitivity;
  if (sensitivity !== undefined && !(SENSITIVITIES as readonly string[]).includes(sensitivity)) {
    throw new PicketError(`--sensitivity must be low, medium or high, not "${sensitivity}"`);
  }
  const setup: EngineSetup = { rulesDirs: [...(cfg.rules ?? []), ...flags.rules], homeNet, metadata: flags.metadata ?? cfg.metadata ?? false, batchPackets };
  return {
    setup,
    loadRules() {
      const r = loadAllRules(setup);
      if (sensitivity !== undefined) r.policy.scan.sensitivity = sensitivity as Sensitivity;
      return r;
    },
  };
}

/** The sink flags both commands take (SINK_OPTIONS in commands.ts), plus --out. */
export interface SinkFlags {
  out?: string;
  syslog: string[];
  'http-out': string[];
  'bulk-index'?: string;
  'http-gzip'?: boolean;
  'http-basic-auth-file'?: string;
  'http-api-key-file'?: string;
  'tls-ca'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-insecure'?: boolean;
  'spill-dir'?: string;
  nats?: string;
  'sensor-name'?: string;
  'nats-creds'?: string;
}

/** The fleet sensor's name: --sensor-name, else the host name (made a subject token); checked. */
export function sensorName(flags: SinkFlags): string {
  const n = flags['sensor-name'] ?? defaultSensorName();
  if (!SENSOR_NAME_RE.test(n)) throw new PicketError(`--sensor-name must be 1 to 64 letters, digits, - or _, not "${n}"`);
  return n;
}

/**
 * The sinks the flags ask for (--out as a file sink among them), or null when the flags name none (then the
 * caller uses picket.yaml's outputs, or its own default). TLS and credential flags go to every sink that uses them.
 */
export function flagSinks(flags: SinkFlags): OutputSpec[] | null {
  // A flag that no sink uses is a mistake to say, not to ignore (a CA file meant for a sink that then talks plain text).
  const secure = flags.syslog.some((u) => u.startsWith('tls:')) || flags['http-out'].some((u) => u.startsWith('https:'));
  const tlsFlags = ['tls-ca', 'tls-cert', 'tls-key', 'tls-insecure'] as const;
  const httpFlags = ['bulk-index', 'http-gzip', 'http-basic-auth-file', 'http-api-key-file'] as const;
  const unusedTls = secure ? undefined : tlsFlags.find((f) => flags[f] !== undefined);
  if (unusedTls !== undefined) throw new PicketError(`--${unusedTls} is for https:// --http-out and tls:// --syslog sinks, and none is given`);
  const unusedHttp = flags['http-out'].length > 0 ? undefined : httpFlags.find((f) => flags[f] !== undefined);
  if (unusedHttp !== undefined) throw new PicketError(`--${unusedHttp} is for --http-out sinks, and none is given`);
  for (const f of ['sensor-name', 'nats-creds'] as const) {
    if (flags[f] !== undefined && flags.nats === undefined) throw new PicketError(`--${f} is for --nats, and none is given`);
  }
  if (flags.syslog.length === 0 && flags['http-out'].length === 0 && flags.nats === undefined) return null;
  if ((flags['tls-cert'] === undefined) !== (flags['tls-key'] === undefined)) throw new PicketError('--tls-cert and --tls-key go together');
  if (flags['http-basic-auth-file'] !== undefined && flags['http-api-key-file'] !== undefined) {
    throw new PicketError('--http-basic-auth-file and --http-api-key-file: one or the other');
  }
  const tls: TlsFiles | undefined = flags['tls-ca'] !== undefined || flags['tls-cert'] !== undefined || flags['tls-insecure'] === true
    ? { ca: flags['tls-ca'], cert: flags['tls-cert'], key: flags['tls-key'], insecure: flags['tls-insecure'] } : undefined;
  const specs: OutputSpec[] = [];
  if (flags.out !== undefined) specs.push({ type: 'file', path: flags.out });
  if (flags.nats !== undefined) {
    specs.push({ type: 'nats', servers: parseServers(flags.nats), sensor: sensorName(flags), auth: { credsFile: flags['nats-creds'] } });
    // Alerts go to NATS for the fleet and, as without it, to standard output unless another output is named.
    if (flags.out === undefined && flags.syslog.length === 0 && flags['http-out'].length === 0) specs.push({ type: 'stdout' });
  }
  for (const url of flags.syslog) {
    if (!SYSLOG_URL_RE.test(url)) throw new PicketError(`--syslog must be udp://HOST:PORT, tcp://HOST:PORT or tls://HOST[:PORT], not "${url}"`);
    specs.push({ type: 'syslog', url, tls: url.startsWith('tls:') ? tls : undefined });
  }
  for (const url of flags['http-out']) {
    if (!HTTP_URL_RE.test(url)) throw new PicketError(`--http-out must be an http:// or https:// URL, not "${url}"`);
    // On the command line a password is visible to every user of the machine (ps): files only.
    if (/^https?:\/\/[^/@]*@/.test(url)) throw new PicketError('--http-out: no credentials in the URL (the process list shows them); use --http-basic-auth-file');
    const auth = flags['http-basic-auth-file'] !== undefined ? { basicFile: flags['http-basic-auth-file'] }
      : flags['http-api-key-file'] !== undefined ? { apiKeyFile: flags['http-api-key-file'] } : undefined;
    specs.push({
      type: 'http', url, bulk: flags['bulk-index'] !== undefined ? { index: flags['bulk-index'] } : undefined,
      tls: url.startsWith('https:') ? tls : undefined, auth, gzip: flags['http-gzip'],
    });
  }
  return specs;
}

/** What every sink shares: flags over picket.yaml. */
export function sinkCommon(flags: SinkFlags, cfg: PicketConfig): SinkCommon {
  return { spillDir: flags['spill-dir'] ?? cfg.spillDir, queueDocs: cfg.queueDocs, spillMaxBytes: cfg.spillMaxBytes };
}
