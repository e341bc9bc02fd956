import { observerInfo, statsDoc } from '../alert/ecs';
import type { Rules } from '../config/rules';
import { createAlertPipeline, type AlertPipeline } from '../engine/alert-pipeline';
import { replayFiles, type ReplayResult } from '../engine/replay';
import type { EngineSetup } from '../engine/setup';
import type { Output } from '../output/writer';
import type { SummaryHook } from '../scan/aggregator';

/**
 * The replay path shared by `picket replay` and `picket report` (captures given to report): every capture through
 * the engine and the alert pipeline into `out`, then the run's counters as the last document; `out` is closed.
 */
export async function replayInto(
  files: string[], setup: EngineSetup, rules: Rules, workers: number, out: Output, version: string,
  fleet: { sensor?: string; summaries: SummaryHook | null } = { summaries: null },
): Promise<{ result: ReplayResult; pipeline: AlertPipeline }> {
  const observer = observerInfo(version, fleet.sensor);
  const pipeline = createAlertPipeline(rules, observer, out, setup.metadata, fleet.summaries);
  try {
    const result = await replayFiles(files, setup, rules, workers, pipeline);
    pipeline.finish();
    out.write(statsDoc(result.stats, result.files, pipeline, observer));
    return { result, pipeline };
  } finally {
    out.close();
  }
}
