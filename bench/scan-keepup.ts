/**
 * Does the scan aggregator keep up with the packet path? It runs on the main thread while workers decode, so it
 * keeps up when it consumes scan observations faster than the packet path produces them. This replays a capture
 * inline, keeping its scan observations (probes and replies), then feeds them to the aggregator alone, each
 * timed over --runs runs (best of), and prints both rates and their ratio (above 1: the aggregator keeps up). The
 * aggregator's first run is printed too: it is what a replay pays (a run of `picket replay` makes one aggregator,
 * and a slowdown that later runs outgrow, such as V8 retyping a field, shows only there).
 *   node dist/bench/scan-keepup.js [--runs 3] [bench/data/mix-2m.pcap ...]
 */
import { createReadWindow, readCaptureFile } from '../src/capture/file';
import { observerInfo } from '../src/alert/ecs';
import { createEngine } from '../src/engine/engine';
import { createScanLog, createScanRecord, scanLogAppend, scanLogRead } from '../src/core/scan-record';
import { engineConfig, loadAllRules, type EngineSetup } from '../src/engine/setup';
import { createScanAggregator } from '../src/scan/aggregator';
import { DEFAULT_HOME_NET } from '../src/config/homenet';
import { BATCH_MAX_PACKETS } from '../src/capture/batch';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const ri = argv.indexOf('--runs');
  const runs = ri >= 0 ? Number(argv.splice(ri, 2)[1]) : 3;
  const files = argv.length > 0 ? argv : ['bench/data/mix-2m.pcap'];
  const setup: EngineSetup = { rulesDirs: [], homeNet: DEFAULT_HOME_NET, metadata: false, batchPackets: BATCH_MAX_PACKETS };
  const rules = loadAllRules(setup);
  console.log('| capture | packets | scan observations | packet path s | packets/s | aggregator s | aggregator s, first run | observations/s consumed | keep-up ratio | alerts |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const file of files) {
    let bestPath = Infinity;
    let bestAgg = Infinity;
    let firstAgg = 0;
    let packets = 0;
    let obs = createScanLog();
    let alerts = 0;
    for (let r = 0; r < runs; r++) {
      obs = createScanLog();
      const log = obs;
      const engine = createEngine(engineConfig(setup, rules, 0, 1), { observe: () => {}, scan: (r) => scanLogAppend(log, r) });
      const t0 = process.hrtime.bigint();
      const rep = await readCaptureFile(file, (b) => engine.processBatch(b), { firstOrdinal: 0, window: createReadWindow(), batchPackets: BATCH_MAX_PACKETS });
      bestPath = Math.min(bestPath, Number(process.hrtime.bigint() - t0) / 1e9);
      packets = rep.packets;
      alerts = 0;
      const agg = createScanAggregator(rules.policy.scan, rules.fingerprints, observerInfo('bench'), () => alerts++);
      const t1 = process.hrtime.bigint();
      const rec = createScanRecord();
      for (let i = 0; i < obs.count; i++) {
        scanLogRead(obs, i, rec);
        agg.observe(rec);
      }
      agg.finish();
      const took = Number(process.hrtime.bigint() - t1) / 1e9;
      if (r === 0) firstAgg = took;
      bestAgg = Math.min(bestAgg, took);
    }
    const produced = obs.count / bestPath;
    const consumed = obs.count / bestAgg;
    console.log(`| ${file} | ${packets.toLocaleString('en')} | ${obs.count.toLocaleString('en')} | ${bestPath.toFixed(3)} | ${(packets / bestPath / 1e6).toFixed(2)} M | ${bestAgg.toFixed(3)} | ${firstAgg.toFixed(3)} | ${(consumed / 1e6).toFixed(2)} M | ${(consumed / produced).toFixed(1)}x | ${alerts} |`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
