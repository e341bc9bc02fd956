/** The IPv4 header checksum (RFC 791) of the 20-byte header at b[p]: for the frames the benchmarks write. */
export function ipChecksum(b: Buffer, p: number): number {
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (b[p + i] << 8) | b[p + i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
