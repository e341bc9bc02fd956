/** "90s", "15m", "1h", "2d" or a number of seconds; NaN when the text is none of these. */
export function parseDuration(v: unknown): number {
  if (typeof v === 'number') return v >= 0 ? v : NaN;
  if (typeof v !== 'string') return NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (m === null) return NaN;
  const n = Number(m[1]);
  switch (m[2]) {
    case 'ms': return n / 1000;
    case 'm': return n * 60;
    case 'h': return n * 3600;
    case 'd': return n * 86400;
    default: return n;
  }
}
