import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_ARGS } from '../../../core/chromium';
import { projectPath } from '../../../core/paths';
import { passwordOf } from '../helpers';

/**
 * The system Chromium driven by playwright-core, launched as the news collector launches it, for
 * the console's browser tests. Each page records what would betray a broken page or an executed
 * payload: uncaught errors, console errors, dialogs (alert/confirm/prompt), and requests refused.
 */

export const CHROMIUM = '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const SCREENSHOT_DIR = projectPath('var', 'screenshots');

export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Uncaught exceptions and console.error lines, in order. */
  errors: string[];
  /** Messages of alert/confirm/prompt dialogs (each is dismissed). */
  dialogs: string[];
}

export async function openPage(browser: Browser, options: Parameters<Browser['newContext']>[0] = {}): Promise<WatchedPage> {
  const context = await browser.newContext({ locale: 'zh-CN', timezoneId: 'UTC', acceptDownloads: true, ...options });
  const page = await context.newPage();
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('pageerror', (err) => errors.push(`pageerror: ${err.message}`));
  page.on('console', (message) => {
    // A 401 on the first GET /api/session is how the page learns it must sign in, not an error of the page.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  return { page, context, errors, dialogs };
}

/** Signs in through the sign-in form, as a person would; resolves once the shell shows the user. */
export async function signIn(page: Page, url: string, name: string, password = passwordOf(name)): Promise<void> {
  await page.goto(`${url}/`);
  await page.locator('[data-login] input[name=name]').fill(name);
  await page.locator('[data-login] input[name=password]').fill(password);
  await page.locator('[data-login] button[type=submit]').click();
  await page.locator(`[data-user="${name}"]`).waitFor();
}

export const PNG_SIGNATURE = '89504e470d0a1a0a';

/** A full-page PNG under var/screenshots/ (git-ignored); returns its path, size and first 8 bytes (hex) as written. */
export async function screenshot(page: Page, name: string): Promise<{ path: string; bytes: number; head: string }> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  const written = readFileSync(path);
  return { path, bytes: written.length, head: written.subarray(0, 8).toString('hex') };
}
