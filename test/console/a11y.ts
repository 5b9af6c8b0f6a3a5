/** Accessibility and layout checks of the page in the browser, through Chromium's accessibility tree. */
import type { Page } from 'playwright-core';

const NAMED_ROLES = new Set([
  'textbox',
  'searchbox',
  'combobox',
  'checkbox',
  'radio',
  'spinbutton',
  'slider',
  'button',
  'link',
  'progressbar',
]);

/** Controls whose computed accessible name is empty, as "role (DOM id or text)". */
export async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as {
      nodes: { ignored: boolean; role?: { value: string }; name?: { value: string }; backendDOMNodeId?: number }[];
    };
    const bad = nodes.filter((n) => !n.ignored && NAMED_ROLES.has(n.role?.value ?? '') && !n.name?.value?.trim());
    return bad.map((n) => `${n.role?.value} (node ${n.backendDOMNodeId})`);
  } finally {
    await cdp.detach();
  }
}

/** How many inputs, selects and textareas the page has (so "none unnamed" means something). */
export const countControls = (page: Page) =>
  page.evaluate(() => document.querySelectorAll('input, select, textarea, button').length);

/**
 * Horizontal overflow of the page: the document wider than the viewport, and elements whose right
 * edge passes it (those inside their own scrolling box, such as wide tables, do not count).
 */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; width: number; over: string[] }> {
  // a string, not a function: tsx would wrap named inner functions in a helper the page does not have
  return page.evaluate(OVERFLOW_SCRIPT);
}

const OVERFLOW_SCRIPT = `(() => {
  const width = document.documentElement.clientWidth;
  const inScroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const over = [...document.querySelectorAll('body *')]
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.right > width + 1 && !inScroller(el);
    })
    .slice(0, 10)
    .map((el) => {
      const right = Math.round(el.getBoundingClientRect().right);
      return el.tagName.toLowerCase() + '.' + el.className + ' (right ' + right + ')';
    });
  return { scrollWidth: document.documentElement.scrollWidth, width, over };
})()`;
