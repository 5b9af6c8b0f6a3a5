/**
 * One polite aria-live region for progress and one assertive region for errors, both in the page
 * shell; components announce through these so a screen reader hears each change once.
 */
let politeEl: HTMLElement | null = null;
let alertEl: HTMLElement | null = null;

export function bindLiveRegions(polite: HTMLElement | null, alert: HTMLElement | null): void {
  politeEl = polite;
  alertEl = alert;
}

function put(el: HTMLElement | null, text: string): void {
  if (!el) return;
  // clearing first makes a repeated message heard again
  el.textContent = '';
  setTimeout(() => {
    el.textContent = text;
  }, 30);
}

export const announce = (text: string) => put(politeEl, text);
export const announceError = (text: string) => put(alertEl, text);
