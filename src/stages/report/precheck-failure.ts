/**
 * The error a migration stops with when its precheck blocks the start: every blocking item
 * with its affected objects and its fix, so that the failing run itself says what to do.
 * When a side cannot be reached at all, that is a connection failure (exit 3), not a precheck
 * verdict: nothing else could be checked.
 */
import { PgferryError } from '../../core/errors.js';
import type { CheckItem, PrecheckReport } from '../precheck/types.js';
import { plural } from '../../core/plural.js';

export function blockingItems(r: PrecheckReport): CheckItem[] {
  return r.items.filter((i) => i.result === 'failed' && i.severity === 'error');
}

/** "conflicts.target: 1 table already exists" / "  - shop.orders" / "  fix: …" */
export function formatBlockingItem(i: CheckItem, indent = '  '): string[] {
  const lines = [`${indent}${i.id}: ${i.message}`];
  for (const o of i.objects) lines.push(`${indent}  - ${o}`);
  if (i.objectCount > i.objects.length) lines.push(`${indent}  … and ${i.objectCount - i.objects.length} more`);
  if (i.hint) i.hint.split('\n').forEach((h, n) => lines.push(`${indent}  ${n === 0 ? 'fix: ' : '     '}${h}`));
  return lines;
}

export function precheckFailure(r: PrecheckReport): PgferryError {
  const items = blockingItems(r);
  const unreachable = items.filter((i) => i.id.startsWith('connectivity.'));
  const shown = unreachable.length ? unreachable : items;
  const head = unreachable.length
    ? `cannot connect: ${unreachable.map((i) => i.id.replace('connectivity.', '')).join(' and ')}`
    : `precheck failed: ${plural(items.length, 'blocking item')}`;
  const text = [head, ...shown.flatMap((i) => formatBlockingItem(i))].join('\n');
  return new PgferryError(unreachable.length ? 'connect' : 'precheck', text, {
    hint: unreachable.length
      ? 'fix the connection as shown, then run the same command again'
      : 'fix each item as shown (or acknowledge a warning with --skip <item>), then run the same command again',
  });
}
