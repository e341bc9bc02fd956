import { parseHomeNet } from '../config/homenet';
import { BUNDLED_RULES_DIR, loadRules, type Rules } from '../config/rules';
import type { EngineConfig } from './engine';

/** Everything a thread needs to build its engine; plain data, so it crosses to workers as is. */
export interface EngineSetup {
  rulesDirs: string[];
  homeNet: string;
  metadata: boolean;
  /** Most packets per batch; only a tuning and testing knob. */
  batchPackets: number;
}

export function loadAllRules(setup: EngineSetup): Rules {
  return loadRules([BUNDLED_RULES_DIR, ...setup.rulesDirs]);
}

export function engineConfig(setup: EngineSetup, rules: Rules, shardIndex: number, shardCount: number): EngineConfig {
  return {
    intel: rules.intel,
    fingerprints: rules.fingerprints,
    signatures: rules.signatures,
    policy: rules.policy,
    homeNet: parseHomeNet(setup.homeNet, '--home-net'),
    metadata: setup.metadata,
    shardIndex,
    shardCount,
  };
}
