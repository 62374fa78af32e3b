import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { root } from './server.js';

/** Debian's Chromium; override with TESSERA_CHROMIUM for another build. */
export const CHROMIUM_PATH = process.env.TESSERA_CHROMIUM ?? '/usr/bin/chromium';

/** Where browser suites leave their screenshots (ignored by git: test-artifacts/). */
export const SCREENSHOT_DIR = join(root, 'test-artifacts', 'screenshots');

/** One headless Chromium for a test file; open a context per user/device. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      // Test redirect URIs use port 9 (nothing listens there), which Chromium otherwise refuses outright.
      '--explicitly-allowed-ports=9'],
  });
}

/** A fresh browser profile (own cookies) with a recognisable user agent and a desktop viewport. */
export async function newContext(browser: Browser, options: { userAgent?: string } = {}): Promise<BrowserContext> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 900 },
    ...(options.userAgent ? { userAgent: options.userAgent } : {}),
  });
  context.setDefaultTimeout(15_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

/** Saves a full-page PNG of `page` as test-artifacts/screenshots/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Watches a context for navigations to a relying party's redirect URI, where nothing listens
 * (Chromium does not route requests it follows from a redirect, so they cannot be stubbed): the
 * navigation fails, but the request, with its code, is recorded for the page that made it.
 */
export function watchRedirectUri(context: BrowserContext, prefix: string) {
  const seen = new WeakMap<Page, string>();
  context.on('request', (request) => {
    if (!request.url().startsWith(prefix)) return;
    try {
      seen.set(request.frame().page(), request.url());
    } catch {
      // not a page's request (a service worker's): ignore
    }
  });
  return {
    /** Runs a navigation; one that ends at the redirect URI counts as done even though it fails. */
    async navigate(page: Page, action: () => Promise<unknown>): Promise<void> {
      seen.delete(page);
      try {
        await action();
      } catch (err) {
        if (!seen.has(page)) throw err;
      }
    },
    /** The redirect URI (with code and state) the page's last navigation ended at, if it did. */
    callback: (page: Page): string | undefined => seen.get(page),
  };
}
