import { latin1 } from '../../capture/bytes';

/**
 * The SSH identification string (RFC 4253 4.2): "SSH-protoversion-softwareversion SP comments CR LF", at most 255
 * bytes with its line end, sent by both sides first. Servers may send other lines before it (4.2); those are not
 * waited for here. A bare LF ends the line too (older clients, RFC 4253 4.2's compatibility note).
 */
export interface SshBanner {
  /** The whole line without its line end. */
  banner: string;
  protoVersion: string;
  software: string;
  comments: string;
}

export const MAX_SSH_BANNER = 255;

/** Cheap first-bytes check: "SSH-". */
export function looksLikeSshBanner(b: Uint8Array, off: number, end: number): boolean {
  if (end - off < 4) return end > off && b[off] === 0x53 && (end - off < 2 || b[off + 1] === 0x53) && (end - off < 3 || b[off + 2] === 0x48);
  return b[off] === 0x53 && b[off + 1] === 0x53 && b[off + 2] === 0x48 && b[off + 3] === 0x2d;
}

export type SshResult = { kind: 'banner'; banner: SshBanner } | { kind: 'need-more' } | { kind: 'not-ssh' };

/** Reads the identification line at b[off, end); bounded by MAX_SSH_BANNER, never throws. */
export function parseSshBanner(b: Uint8Array, off: number, end: number): SshResult {
  if (!looksLikeSshBanner(b, off, end)) return { kind: 'not-ssh' };
  const limit = Math.min(end, off + MAX_SSH_BANNER);
  let eol = -1;
  for (let i = off; i < limit; i++) {
    if (b[i] === 0x0a) {
      eol = i;
      break;
    }
    // Printable US-ASCII only (4.2), so a binary stream that happens to start with "SSH-" is not taken for a banner.
    if ((b[i] < 0x20 || b[i] > 0x7e) && b[i] !== 0x0d) return { kind: 'not-ssh' };
  }
  if (eol < 0) return limit - off >= MAX_SSH_BANNER ? { kind: 'not-ssh' } : { kind: 'need-more' };
  const lineEnd = eol > off && b[eol - 1] === 0x0d ? eol - 1 : eol;
  const line = latin1(b, off, lineEnd);
  const dash = line.indexOf('-', 4);
  if (dash < 0) return { kind: 'not-ssh' };
  const space = line.indexOf(' ', dash + 1);
  return {
    kind: 'banner',
    banner: {
      banner: line,
      protoVersion: line.slice(4, dash),
      software: space < 0 ? line.slice(dash + 1) : line.slice(dash + 1, space),
      comments: space < 0 ? '' : line.slice(space + 1),
    },
  };
}
