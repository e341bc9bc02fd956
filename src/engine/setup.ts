import { parseHomeNet } from '../config/homenet';
import { BUNDLED_RULES_DIR, type Rules } from '../config/rules';
import { loadRulesCached } from '../config/rules-cache';
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
  return loadRulesCached([BUNDLED_RULES_DIR, ...setup.rulesDirs]);
}

/**
 * Rules as a worker receives them from the main thread (a structured clone, in which Buffers arrive as plain
 * Uint8Arrays), made whole again. Workers take the main thread's parse rather than reading the files themselves:
 * every thread then runs the same rules (a file edited between two threads' reads would give them different entries,
 * and alerts refer to entries by position; a reload could succeed in some workers and fail in others), and a worker
 * starts without parsing YAML (~45 ms of CPU a thread).
 */
export function receivedRules(r: Rules): Rules {
  for (const s of r.signatures) s.needles = s.needles.map((n) => Buffer.from(n.buffer, n.byteOffset, n.byteLength));
  return r;
}

/** What an engine takes from new rules on a reload (Engine.reload). */
export function engineRules(r: Rules): Pick<EngineConfig, 'intel' | 'fingerprints' | 'signatures' | 'policy'> {
  return { intel: r.intel, fingerprints: r.fingerprints, signatures: r.signatures, policy: r.policy };
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
