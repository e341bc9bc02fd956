/**
 * Packet time as seconds from its two parts (seconds and nanoseconds), by one formula. Stages compare times they
 * each computed (a reload's moment against a packet's, a worker's watermark against an item's, an idle expiry
 * against a source's last probe); two formulas (`nsec / 1e9` and `nsec * 1e-9`) can differ in the last bit.
 */
export function packetSeconds(sec: number, nsec: number): number {
  return sec + nsec / 1e9;
}

/** Seconds from the first time to the last, each as (seconds, nanoseconds). */
export function spanSeconds(firstSec: number, firstNsec: number, lastSec: number, lastNsec: number): number {
  return lastSec - firstSec + (lastNsec - firstNsec) / 1e9;
}
