/**
 * Probe signatures (mechanism; the signatures themselves are data in rules/signatures.yaml): what a scanner's
 * requests say about it, matched on parsed HTTP request fields (any port: HTTP is found by content) or on the
 * first bytes of one direction of a TCP flow to or from given ports.
 */
/** `where` of a signature: 'payload', or a field an analyzer offers (AnalyzerSpec.signatureFields: "http.user_agent"). */
export type SignatureField = string;

export interface Signature {
  id: string;
  rule: string;
  tool: string;
  description: string;
  technique: string;
  where: SignatureField;
  /** payload only: whose bytes (the client's, to the port; or the server's, from it). */
  direction: 'client' | 'server';
  /** Server ports the signature applies to; null: any (HTTP fields only). */
  ports: Set<number> | null;
  /** payload only: how many bytes of the flow direction are looked at. */
  depth: number;
  /** Every one must be present (contains, hex and utf16 compiled to bytes; for HTTP fields, as text). */
  needles: Buffer[];
  texts: string[];
  prefix: string | null;
  regex: RegExp | null;
  nocase: boolean;
  file: string;
  line: number;
}

function textMatches(s: Signature, value: string): boolean {
  if (value === '') return false;
  const v = s.nocase ? value.toLowerCase() : value;
  if (s.prefix !== null && !v.startsWith(s.prefix)) return false;
  for (const t of s.texts) if (!v.includes(t)) return false;
  return s.regex === null || s.regex.test(value);
}

/** Calls found(index, matched value) for every field signature that a message's fields match. */
export function matchFieldSignatures(
  sigs: readonly Signature[], fields: Readonly<Record<string, string>>, serverPort: number, found: (i: number, value: string) => void,
): void {
  for (let i = 0; i < sigs.length; i++) {
    const s = sigs[i];
    if (s.where === 'payload' || (s.ports !== null && !s.ports.has(serverPort))) continue;
    const v = fields[s.where];
    if (v !== undefined && textMatches(s, v)) found(i, v);
  }
}

/**
 * Index of the first payload signature for this port and direction whose needles are all in b[off, end)
 * (which the caller keeps within the signature's depth of the flow), or -1.
 */
export function matchPayloadSignature(sigs: readonly Signature[], b: Buffer, off: number, end: number, serverPort: number, direction: 'client' | 'server', from = 0): number {
  for (let i = from; i < sigs.length; i++) {
    const s = sigs[i];
    if (s.where !== 'payload' || s.direction !== direction || s.ports === null || !s.ports.has(serverPort)) continue;
    // A view of the segment only: indexOf on the batch buffer would search every later packet too.
    const seg = b.subarray(off, end);
    let all = true;
    for (const n of s.needles) {
      if (seg.indexOf(n) < 0) {
        all = false;
        break;
      }
    }
    if (all && (s.regex === null || s.regex.test(b.toString('latin1', off, end)))) return i;
  }
  return -1;
}

/** Printable excerpt of matched bytes for an alert: non-printable bytes as '.', at most `max` characters. */
export function excerpt(b: Uint8Array, off: number, end: number, max = 160): string {
  let s = '';
  for (let i = off; i < end && s.length < max; i++) s += b[i] >= 0x20 && b[i] < 0x7f ? String.fromCharCode(b[i]) : '.';
  return s;
}
