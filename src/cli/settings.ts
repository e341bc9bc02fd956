import type { PicketConfig } from '../config/config-file';
import { parseDuration } from '../config/duration';
import { DEFAULT_HOME_NET, parseHomeNet } from '../config/homenet';
import { SENSITIVITIES, type Rules, type Sensitivity } from '../config/rules';
import { loadAllRules, type EngineSetup } from '../engine/setup';
import { PicketError } from '../errors';

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
