import { ANALYZERS } from '../app/registry';
import type { PacketBatch } from '../capture/batch';
import type { Policy } from '../config/rules';
import { udpTunnelPortRange } from '../core/packet';
import { shardOfFrame } from '../flow/shard';

/** Ports (bit 1 TCP, bit 2 UDP) whose packets every thread decodes: those of analyzers that read other threads' packets. */
export function foreignPortTable(): Uint8Array {
  const t = new Uint8Array(65536);
  for (const spec of ANALYZERS) {
    if (spec.readsForeignPackets !== true) continue;
    for (const p of spec.ports?.tcp ?? []) t[p] |= 1;
    for (const p of spec.ports?.udp ?? []) t[p] |= 2;
  }
  return t;
}

/**
 * For the reading thread of a replay with workers: writes each packet's owner as far as its headers tell
 * (shardOfFrame), SHARD_BYTE_UNKNOWN elsewhere, so that workers skip each other's packets without touching them.
 */
export function createFrameSharder(policy: Policy, count: number): (batch: PacketBatch, out: Uint8Array, at: number) => void {
  // One worker owns every flow and reads no shard byte (engine.ts: only a thread of several does); naming each
  // packet's owner anyway cost the reading thread ~150 ms of the 2 M mix, a sixth of its CPU.
  if (count <= 1) return () => {};
  const [min, max] = udpTunnelPortRange(policy.tunnels.vxlanPorts, policy.tunnels.genevePorts);
  const foreign = foreignPortTable();
  return (batch, out, at) => {
    const b = batch.data;
    for (let i = 0; i < batch.count; i++) out[at + i] = shardOfFrame(b, batch.offset[i], batch.caplen[i], batch.linktype[i], count, min, max, foreign);
  };
}
