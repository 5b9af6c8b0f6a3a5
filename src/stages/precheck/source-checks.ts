/**
 * The precheck items that need only the source (selection, mapping, integrity, filters…), run
 * by `plan` so that it shows the same problems `precheck` would find, without a target.
 */
import type pg from 'pg';
import { errorMessage } from '../../core/errors.js';
import type { PingResult } from '../../pg/ping.js';
import type { Selection } from '../../core/selection.js';
import { CHECKS, toItem } from './index.js';
import { sourceModelOf } from './model.js';
import { introspect, type SourceCatalog } from '../schema/catalog/introspect.js';
import { DEFAULT_THRESHOLDS, type CheckItem, type Ctx } from './types.js';

/** Items skipped here: they describe the run rather than the selection. */
const NOT_IN_PLAN = new Set(['size', 'privileges.source']);

/**
 * Run the source-only items on `source`, judging `catalog` (the caller's read; read here when
 * absent). Inside the caller's transaction (`inTransaction`) a check that fails leaves it usable.
 */
export async function runSourceChecks(
  source: pg.Client,
  sel: Selection,
  o: { catalog?: SourceCatalog; inTransaction?: boolean } = {},
): Promise<CheckItem[]> {
  const v = await source.query<{ v: string }>(`SELECT current_setting('server_version_num') AS v`);
  const version = Number(v.rows[0].v);
  const notPinged = {
    side: 'target',
    ok: false,
    endpoint: '-',
    cause: 'unknown',
    message: 'not used by plan',
    hint: '',
  } as unknown as PingResult;
  const catalog = o.catalog ?? (await introspect(source));
  const ctx: Ctx = {
    task: sel.task,
    sel,
    thresholds: DEFAULT_THRESHOLDS,
    sourcePing: notPinged,
    targetPing: notPinged,
    source,
    sourceVersion: version,
    inTransaction: o.inTransaction,
    targetVersion: 0,
    catalog,
    model: sourceModelOf(catalog.facts, sel),
  };
  const items: CheckItem[] = [];
  for (const def of CHECKS) {
    if (def.needs.includes('target') || !def.needs.includes('model') || NOT_IN_PLAN.has(def.id)) continue;
    if (o.inTransaction) await source.query('SAVEPOINT source_check');
    try {
      items.push(toItem(def, await def.run(ctx)));
    } catch (e) {
      if (o.inTransaction) await source.query('ROLLBACK TO SAVEPOINT source_check');
      items.push(toItem(def, { result: 'warning', message: `could not check: ${errorMessage(e)}` }));
    }
  }
  return items;
}
