import { ANALYZERS } from '../app/registry';
import type { PacketBatch } from '../capture/batch';
import type { Policy } from '../config/rules';
import { udpTunnelPortRange } from '../core/packet';
import { FOREIGN_FROM_TCP, FOREIGN_FROM_UDP, FOREIGN_TO_TCP, FOREIGN_TO_UDP, shardOfFrame } from '../flow/shard';

/**
 * Ports whose packets every thread decodes, those of analyzers that read other threads' packets (foreignPorts), as
 * bits of a 65536-entry table: FOREIGN_FROM_TCP / _UDP for a packet's source port, FOREIGN_TO_TCP / _UDP for its
 * destination port.
 */
export function foreignPortTable(metadata: boolean): Uint8Array {
  const t = new Uint8Array(65536);
  for (const spec of ANALYZERS) {
    const ports = spec.foreignPorts?.(metadata);
    if (ports === undefined) continue;
    for (const p of ports.from.tcp ?? []) t[p] |= FOREIGN_FROM_TCP;
    for (const p of ports.from.udp ?? []) t[p] |= FOREIGN_FROM_UDP;
    for (const p of ports.to.tcp ?? []) t[p] |= FOREIGN_TO_TCP;
    for (const p of ports.to.udp ?? []) t[p] |= FOREIGN_TO_UDP;
  }
  return t;
}

/**
 * For the reading thread of a replay with workers: writes each packet's owner as far as its headers tell
 * (shardOfFrame), SHARD_BYTE_UNKNOWN elsewhere, so that workers skip each other's packets without touching them.
 */
export function createFrameSharder(policy: Policy, count: number, metadata: boolean): (batch: PacketBatch, out: Uint8Array, at: number) => void {
  // One worker owns every flow and reads no shard byte (engine.ts: only a thread of several does); naming each
  // packet's owner anyway cost the reading thread ~150 ms of the 2 M mix, a sixth of its CPU.
  if (count <= 1) return () => {};
  const [min, max] = udpTunnelPortRange(policy.tunnels.vxlanPorts, policy.tunnels.genevePorts);
  const foreign = foreignPortTable(metadata);
  return (batch, out, at) => {
    const b = batch.data;
    for (let i = 0; i < batch.count; i++) out[at + i] = shardOfFrame(b, batch.offset[i], batch.caplen[i], batch.linktype[i], count, min, max, foreign);
  };
}
