import { parseArgs } from 'node:util';
import { observerInfo, statsDoc } from '../alert/ecs';
import { BATCH_MAX_PACKETS } from '../capture/batch';
import { createAlertPipeline } from '../engine/alert-pipeline';
import { DEFAULT_HOME_NET } from '../config/homenet';
import { orderInputs } from '../engine/inputs';
import { replayFiles } from '../engine/replay';
import { PicketError } from '../errors';
import { createOutput, type OutputFormat } from '../output/writer';
import { formatSummary } from './summary';
import { captureCommand, interfacesCommand } from './capture';
import { detectionSettings, wholeFlag } from './settings';
import { loadConfigFile, type PicketConfig } from '../config/config-file';
import { createOutputs } from '../output/outputs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../../package.json') as { version: string }).version;

const MAIN_HELP = `picket ${VERSION}: a network sensor for reconnaissance (IP-intelligence lookups, T1590.005; scans, T1595.001)

Usage:
  picket replay [options] <file|dir>...   read pcap / pcapng (optionally gzip) captures and report
  picket capture -i IFACE [options]       capture live (libpcap) and report, until stopped
  picket interfaces                       list the interfaces that can be captured
  picket --help | --version

Run "picket replay --help" or "picket capture --help" for the options.
`;

const REPLAY_HELP = `Usage: picket replay [options] <file|dir>...

Reads captures (pcap in either byte order with µs or ns timestamps, pcapng, either gzip-compressed; a
directory is read recursively) in the order of their first packets, and writes ECS alerts as NDJSON.

Options:
  --out FILE            write documents to FILE (appended) instead of stdout
  --format ndjson|text  one ECS JSON object per line (default) or one readable line per document
  --metadata            also write a protocol event (event.kind: event) for every DNS query, TLS or QUIC
                        ClientHello and HTTP request
                        (the last document of a run is always the sensor's counters: event.kind metric)
  --config FILE         picket.yaml: home_net, rules, sensitivity, metadata, workers and outputs (sinks: file
                        with rotation, syslog, HTTP/Elasticsearch _bulk); flags given here win over the file
  --rules DIR           add the rule files under DIR to the bundled ones (repeatable; later files override)
  --home-net CIDRS      the protected network, comma-separated IPv4/IPv6 CIDRs
                        (default ${DEFAULT_HOME_NET})
  --sensitivity LEVEL   scan thresholds preset: low (fewest alerts), medium, high (rules/scan.yaml;
                        default: the policy file's "sensitivity", medium as bundled)
  --workers N           N worker threads, each owning a shard of the flows; 0 = all work in this thread
                        (default 0: on small machines one thread is fastest, see bench/RESULTS.md)
  --batch-packets N     most packets handed on at once (default and maximum 32768); for tuning and tests
  --quiet               no summary on stderr
  -h, --help            this help

Exit status: 0 when the replay finished (damaged packets are counted, not fatal), 2 on a usage, input,
rules or output error.
`;

/** Runs the command line; returns the exit status. Errors that are the user's to fix print one line. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof PicketError) {
      process.stderr.write(`picket: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`picket: internal error: ${e instanceof Error ? (process.env.PICKET_DEBUG ? e.stack : e.message) : String(e)}\n`);
    return 70;
  }
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(MAIN_HELP);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`picket ${VERSION}\n`);
    return 0;
  }
  if (cmd === 'replay') return replayCommand(rest);
  if (cmd === 'capture') return captureCommand(rest, VERSION);
  if (cmd === 'interfaces') return interfacesCommand();
  throw new PicketError(`unknown command "${cmd}" (try picket --help)`);
}

function parse(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof REPLAY_OPTIONS; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options: REPLAY_OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PicketError(`${(e as Error).message.split('\n')[0]} (try picket replay --help)`);
  }
}

const REPLAY_OPTIONS = {
  config: { type: 'string' },
  out: { type: 'string' },
  format: { type: 'string', default: 'ndjson' },
  metadata: { type: 'boolean' },
  rules: { type: 'string', multiple: true, default: [] as string[] },
  'home-net': { type: 'string' },
  workers: { type: 'string' },
  'batch-packets': { type: 'string' },
  sensitivity: { type: 'string' },
  quiet: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(REPLAY_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new PicketError('replay needs at least one capture file or directory (try picket replay --help)');
  const cfg: PicketConfig = values.config !== undefined ? loadConfigFile(values.config) : {};
  const format = values.format as OutputFormat;
  if (format !== 'ndjson' && format !== 'text') throw new PicketError(`--format must be ndjson or text, not "${values.format}"`);
  const workers = wholeFlag('workers', values.workers, 0, 64) ?? cfg.workers ?? 0;
  const batchPackets = wholeFlag('batch-packets', values['batch-packets'], 1, BATCH_MAX_PACKETS) ?? BATCH_MAX_PACKETS;
  const { setup, loadRules } = detectionSettings(values, cfg, batchPackets);
  const rules = loadRules();

  const started = process.hrtime.bigint();
  const { files, skipped } = await orderInputs(positionals);
  if (files.length === 0) throw new PicketError(`no capture files in ${positionals.join(', ')}`);
  // --out/--format: the synchronous writer (a failing output stops the replay, saying what was lost); the
  // config file's outputs: sinks, flushed and closed before exit.
  const outputs = values.out === undefined && cfg.outputs !== undefined && cfg.outputs.length > 0
    ? createOutputs(cfg.outputs, { spillDir: cfg.spillDir, queueDocs: cfg.queueDocs, spillMaxBytes: cfg.spillMaxBytes }) : null;
  const out = outputs?.out ?? createOutput(values.out ?? null, format);
  const observer = observerInfo(VERSION);
  const pipeline = createAlertPipeline(rules, observer, out, setup.metadata);
  let result;
  try {
    result = await replayFiles(files, setup, rules, workers, (o) => pipeline.observe(o));
    pipeline.finish();
    out.write(statsDoc(result.stats, result.files, pipeline, observer));
  } finally {
    out.close();
  }
  const sinkStats = outputs === null ? null : await outputs.close(30_000);
  if (sinkStats !== null && (sinkStats.dropped > 0 || sinkStats.failures > 0)) {
    throw new PicketError(`outputs: ${sinkStats.dropped} documents lost, ${sinkStats.failures} refused (${sinkStats.lastError ?? 'no reason given'}); ${sinkStats.spillPending} wait in the spill file`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (!values.quiet) process.stderr.write(formatSummary(result.stats, result.files, skipped, seconds, pipeline.alertsByRule(), pipeline.allowlistedByRule(), workers));
  return 0;
}
