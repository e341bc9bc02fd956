import { parseArgs } from 'node:util';
import { createEcsStamper } from '../alert/ecs';
import { BATCH_MAX_PACKETS } from '../capture/batch';
import { orderInputs } from '../engine/inputs';
import { EXIT_INTERNAL, EXIT_UNDELIVERED, EXIT_USAGE, PicketError } from '../errors';
import { createOutput, type OutputFormat } from '../output/writer';
import { replayInto } from './replay-run';
import { prepareFleet, summaryHook, withPartitions } from './fleet-setup';
import { formatAnalysis, SUMMARY_WIDTH, formatSummary, summaryLevel, useColour } from './summary';
import { analysedOutput } from '../report/aggregate';
import { mainHelp, REPLAY, REPLAY_OPTIONS } from './commands';
import { commandHelp, parseArgsOptions } from './option-table';
import { detectionSettings, flagSinks, sinkCommon, wholeFlag } from './settings';
import { loadConfigFile, type PicketConfig } from '../config/config-file';
import { createOutputs, deliveryReport, stampedOutput, watchSinkHealth } from '../output/outputs';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = (require('../../../package.json') as { version: string }).version;

/** Runs the command line; returns the exit status. Errors that are the user's to fix print one line. */
export async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (e) {
    if (e instanceof PicketError) {
      process.stderr.write(`picket: ${e.message}\n`);
      return EXIT_USAGE;
    }
    process.stderr.write(`picket: internal error: ${e instanceof Error ? (process.env.PICKET_DEBUG ? e.stack : e.message) : String(e)}\n`);
    return EXIT_INTERNAL;
  }
}

async function run(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(mainHelp(VERSION));
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`picket ${VERSION}\n`);
    return 0;
  }
  if (cmd === 'replay') return replayCommand(rest);
  // The other commands' modules load when they run: a replay of a small capture was a fifth start-up.
  if (cmd === 'capture') return (await import('./capture')).captureCommand(rest, VERSION);
  if (cmd === 'report') return (await import('./report')).reportCommand(rest, VERSION);
  if (cmd === 'correlate') return (await import('./correlate')).correlateCommand(rest, VERSION);
  if (cmd === 'interfaces') return (await import('./capture')).interfacesCommand();
  throw new PicketError(`unknown command "${cmd}" (try picket --help)`);
}

function parse(argv: string[]): ReturnType<typeof parseArgs<{ options: typeof REPLAY_PARSE; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: argv, options: REPLAY_PARSE, allowPositionals: true, strict: true });
  } catch (e) {
    throw new PicketError(`${(e as Error).message.split('\n')[0]} (try picket replay --help)`);
  }
}

const REPLAY_PARSE = parseArgsOptions(REPLAY_OPTIONS);

async function replayCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv);
  if (values.help) {
    process.stdout.write(commandHelp(REPLAY));
    return 0;
  }
  if (positionals.length === 0) throw new PicketError('replay needs at least one capture file or directory (try picket replay --help)');
  const cfg: PicketConfig = values.config !== undefined ? loadConfigFile(values.config) : {};
  const format = values.format as OutputFormat;
  if (format !== 'ndjson' && format !== 'text') throw new PicketError(`--format must be ndjson or text, not "${values.format}"`);
  let workers = wholeFlag('workers', values.workers, 0, 64) ?? cfg.workers ?? 0;
  const batchPackets = wholeFlag('batch-packets', values['batch-packets'], 1, BATCH_MAX_PACKETS) ?? BATCH_MAX_PACKETS;
  const { setup, loadRules } = detectionSettings(values, cfg, batchPackets);
  const rules = loadRules();
  const summary = summaryLevel(values.summary, values.quiet, process.stderr.isTTY === true);

  const started = process.hrtime.bigint();
  const { files, skipped, streams } = await orderInputs(positionals);
  if (files.length === 0) throw new PicketError(`no capture files in ${positionals.join(', ')}`);
  // Each worker reads every input for its shard of the flows, and standard input or a FIFO can be read only once.
  if (streams.length > 0 && workers > 0) {
    if (!values.quiet) process.stderr.write(`picket: ${streams.map((f) => (f === '-' ? 'standard input' : f)).join(', ')} can be read once only: replaying in one thread, not ${workers} workers\n`);
    workers = 0;
  }
  // --out/--format alone: the synchronous writer (a failing output stops the replay, saying what was lost); sink
  // flags or the config file's outputs: sinks, flushed and closed before exit, each reporting where its documents went.
  const sinkSpecs = withPartitions(flagSinks(values) ?? (values.out === undefined && cfg.outputs !== undefined && cfg.outputs.length > 0 ? cfg.outputs : null), rules);
  const fleet = await prepareFleet(sinkSpecs, (line) => process.stderr.write(`picket: ${line}\n`));
  const outputs = sinkSpecs === null ? null : createOutputs(sinkSpecs, sinkCommon(values, cfg));
  const { out, analyzer } = analysedOutput(stampedOutput(outputs?.out ?? createOutput(values.out ?? null, format), createEcsStamper()), summary === 'full');
  const { result, pipeline } = await replayInto(files, setup, rules, workers, out, VERSION, { sensor: fleet?.sensor, summaries: summaryHook(fleet, outputs, rules) });
  let report: string | null = null;
  if (outputs !== null) {
    // The replay kept this thread busy; a sink that is down is said while picket waits for it (up to 30 s).
    const health = watchSinkHealth(outputs.sinks, (line) => process.stderr.write(`picket: ${line}\n`));
    report = deliveryReport(await outputs.close(30_000));
    clearInterval(health);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (summary !== 'none') process.stderr.write(formatSummary(result.stats, result.files, skipped, seconds, pipeline.alertsByRule(), pipeline.allowlistedByRule(), workers));
  if (analyzer !== null) process.stderr.write(formatAnalysis(analyzer.result(), SUMMARY_WIDTH, useColour(process.stderr)));
  // Said even with --quiet: documents that did not reach their target are never a silent matter.
  if (report !== null) {
    process.stderr.write(`picket: ${report}\n`);
    return EXIT_UNDELIVERED;
  }
  return 0;
}
