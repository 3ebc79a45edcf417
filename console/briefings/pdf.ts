import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../core/chromium';
import { ShaobingError } from '../../core/errors';

/**
 * The briefing's HTML printed to A4 by the system Chromium (the one the news collector renders
 * pages with, `collectors.browser.executable_path`). The page runs no script and may fetch
 * nothing: the HTML is self-contained, and a scraped title that slipped an address in gets no
 * request out of the print.
 */

export interface PdfOptions {
  executablePath: string;
  /** Default 60 s for launch and print together. */
  timeoutMs?: number;
}

/** One print at a time per process: a burst of requests must not start a Chromium each on a small server. */
let queue: Promise<unknown> = Promise.resolve();

export function renderPdf(html: string, options: PdfOptions): Promise<Buffer> {
  const run = queue.then(() => print(html, options));
  queue = run.catch(() => undefined);
  return run;
}

async function print(html: string, options: PdfOptions): Promise<Buffer> {
  const timeout = options.timeoutMs ?? 60_000;
  let browser;
  try {
    browser = await chromium.launch({ executablePath: options.executablePath, headless: true, args: CHROMIUM_ARGS, timeout });
  } catch (err) {
    throw new ShaobingError('SB_BRIEFING_RENDER_FAILED', `cannot start Chromium at ${options.executablePath} to print the PDF: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  try {
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    const page = await context.newPage();
    page.setDefaultTimeout(timeout);
    await page.route('**/*', (route) => route.abort('blockedbyclient'));
    await page.setContent(html, { waitUntil: 'load' });
    return await page.pdf({ format: 'A4', printBackground: true, margin: { top: '16mm', bottom: '16mm', left: '14mm', right: '14mm' } });
  } catch (err) {
    throw new ShaobingError('SB_BRIEFING_RENDER_FAILED', `printing the briefing to PDF failed: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  } finally {
    await browser.close().catch(() => undefined);
  }
}
