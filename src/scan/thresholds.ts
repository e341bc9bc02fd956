import type { ScanThresholds } from '../config/rules';

/**
 * The counts a source's scan is judged on. One sensor's aggregator has them from its own state; picket correlate
 * has them from the merged summaries of several sensors. Both judge them here, so that a fleet alert crosses
 * exactly the thresholds a single sensor's would.
 */
export interface ScanCounts {
  /** Failed (host, port) targets, their distinct hosts and ports, and the most failed ports of one host. */
  targets: number;
  hosts: number;
  ports: number;
  maxPortsOneHost: number;
  /** Host-discovery (ICMP) hosts probed. */
  pingHosts: number;
  /** The most UDP ports of one host that responded (with at least udp_closed_ports closed). */
  maxUdpPortsOneHost: number;
  attempts: number;
  quickProbes: number;
  durationSeconds: number;
}

export type MeasuredKind = 'ping' | 'mixed' | 'port' | 'sweep' | 'slow';

/** The measure of a kind of scan that the counts amount to, or 0 when they do not (rules/scan.yaml). */
export function scanMeasure(c: ScanCounts, th: ScanThresholds, slowMaxQuickShare: number, kind: MeasuredKind): number {
  const mixed = c.hosts >= th.mixedHosts && c.ports >= th.mixedPorts;
  switch (kind) {
    case 'ping':
      return c.pingHosts >= th.pingHosts ? c.pingHosts : 0;
    case 'mixed':
      return mixed ? c.targets : 0;
    case 'port':
      if (mixed) return 0;
      if (c.maxPortsOneHost >= th.portPorts) return c.maxPortsOneHost;
      return c.maxUdpPortsOneHost >= th.udpPortPorts ? c.maxUdpPortsOneHost : 0;
    case 'sweep':
      // nmap -sn's TCP SYNs to port 443 are part of its host discovery, not a separate sweep.
      return !mixed && c.maxPortsOneHost < th.portPorts && c.hosts >= th.sweepHosts && c.ports <= th.sweepMaxPorts && !(c.pingHosts >= th.pingHosts && c.ports <= 2) ? c.hosts : 0;
    case 'slow': {
      // Paced: nearly every probe came slow_min_interval or more after the one before. A fast scan that lasts a
      // while (a burst, then stragglers and retries) has a low average rate but mostly quick probes.
      const paced = c.attempts > 1 && c.quickProbes <= slowMaxQuickShare * (c.attempts - 1);
      return c.targets >= th.slowMinTargets && c.durationSeconds >= th.slowMinDuration && paced ? c.targets : 0;
    }
  }
}
