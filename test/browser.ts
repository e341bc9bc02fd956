/**
 * Debian's chromium, headless, driven by playwright-core (nothing is downloaded: playwright-core carries no
 * browser, and executablePath names the system one). Shared by test/report.test.ts, test/summary.test.ts and
 * scripts that make the README's screenshots.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { requireTool, tmpDir } from './helpers';

export const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A fresh profile in a temporary --user-data-dir, removed on close. */
export async function launch(): Promise<Browser> {
  requireTool('chromium');
  const dir = tmpDir('chromium');
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1280, height: 900 } });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Opened {
  page: Page;
  /** Console errors and uncaught exceptions of the page. */
  errors: string[];
  /** Every URL the page asked for. */
  requests: string[];
}

export async function open(b: Browser, file: string, readySelector = 'body[data-ready="1"]'): Promise<Opened> {
  const page = await b.context.newPage();
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`file://${path.resolve(file)}`);
  await page.waitForSelector(readySelector, { timeout: 20_000 });
  return { page, errors, requests };
}

/**
 * How many distinct colours a PNG has, counted by the browser itself (a blank or failed render is one or two).
 * Runs in a page of its own (about:blank), so the report's Content-Security-Policy does not apply.
 */
export async function distinctColours(b: Browser, png: Buffer): Promise<number> {
  const page = await b.context.newPage();
  try {
    // A string, not a function: the test project is compiled without the DOM's types.
    return await page.evaluate<number>(`(async () => {
      const img = new Image();
      img.src = 'data:image/png;base64,${png.toString('base64')}';
      await img.decode();
      const c = document.createElement('canvas');
      c.width = img.width;
      c.height = img.height;
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, c.width, c.height).data;
      const seen = new Set();
      for (let i = 0; i < px.length && seen.size < 1000; i += 4 * 7) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      return seen.size;
    })()`);
  } finally {
    await page.close();
  }
}

/** Terminal text with the summary's SGR codes (bold, red, yellow, reset) as an HTML page, for a screenshot. */
export function terminalHtml(text: string, title: string): string {
  const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const STYLE: Record<string, string> = { 1: 'font-weight:bold', 31: 'color:#ff6b6b', 33: 'color:#fcc419' };
  let open = 0;
  const sgr = new RegExp(`${String.fromCharCode(27)}\\[(\\d+)m`, 'g');
  const body = esc(text).replace(sgr, (_m, code: string) => {
    if (code === '0') {
      const close = '</span>'.repeat(open);
      open = 0;
      return close;
    }
    open++;
    return `<span style="${STYLE[code] ?? ''}">`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>${esc(title)}</title><style>
body{margin:0;background:#1e1e1e}pre{margin:0;padding:14px 16px;color:#e6e6e6;font:13px/1.35 "DejaVu Sans Mono",monospace;width:100ch}
</style></head><body data-ready="1"><pre>${body}${'</span>'.repeat(open)}</pre></body></html>`;
}
