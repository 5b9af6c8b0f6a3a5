/**
 * Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by playwright-core,
 * headless, with a fresh profile in a temp dir that close() removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const CHROMIUM = process.env.PGFERRY_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export interface Browser {
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'pgferry-chromium-'));
  // launchPersistentContext passes the profile as --user-data-dir
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
    timeout: 30_000,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      await context.close().catch(() => {});
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Press Tab until the element `selector` (a Playwright selector) has the focus, and return the accessible labels of the
 * elements passed on the way — the page is used by keyboard alone, in its tab order.
 */
export async function tabTo(page: Page, selector: string, max = 80): Promise<string[]> {
  const passed: string[] = [];
  const target = await page.locator(selector).first().elementHandle({ timeout: 20_000 });
  try {
    for (let i = 0; i <= max; i++) {
      // '' when the target has the focus, else what has it
      const focus = await target.evaluate((el) => (el === document.activeElement ? '' : describeFocus()));
      if (focus === '') return passed;
      if (i > 0) passed.push(focus);
      await page.keyboard.press('Tab');
    }
  } finally {
    await target.dispose();
  }
  throw new Error(`${selector} not reached by ${max} presses of Tab; passed: ${passed.join(' | ')}`);
}

/** Tab to a text field and type into it (select what is there first). */
export async function typeInto(page: Page, selector: string, text: string): Promise<void> {
  await tabTo(page, selector);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Backspace');
  await page.keyboard.type(text);
}

/** Tab to a button and press it with Enter. */
export async function pressButton(page: Page, selector: string): Promise<void> {
  await tabTo(page, selector);
  await page.keyboard.press('Enter');
}

declare global {
  function describeFocus(): string;
}

/** Installed in every page: names the focused element for tabTo's messages. */
export const DESCRIBE_FOCUS = `window.describeFocus = () => {
  const el = document.activeElement;
  if (!el) return '(none)';
  const label = el.labels && el.labels[0] && el.labels[0].textContent;
  const name = el.getAttribute('aria-label') || label || el.textContent;
  return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' + (name || '').trim().slice(0, 40);
};`;
