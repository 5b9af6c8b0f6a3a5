/**
 * Precheck runner. Pings both sides, opens one read-only session on each, reads the selected
 * source objects once, then runs every item in a fixed order. Writes nothing to either side.
 * Items needing an unreachable side (or the catalog model) are `skipped` with the reason.
 *
 * Skipping (`--skip ID`, task.skipChecks): warning- and info-level items can always be
 * skipped; of the error-level items only capacity.connections, encoding and collations.
 */
import { performance } from 'node:perf_hooks';
import type pg from 'pg';
import { connect } from '../../pg/connect.js';
import { resolveConnSpec } from '../../pg/connstring.js';
import { ping } from '../../pg/ping.js';
import { PgferryError, errorMessage } from '../../core/errors.js';
import { useStateSchema } from '../../state/checkpoint.js';
import type { TaskConfig } from '../../core/config.js';
import { Selection } from '../../core/selection.js';
import { sourceLoad, sourceLongTransactions } from './activity.js';
import { capacityConnections } from './capacity.js';
import { collations } from './collations.js';
import { columnsSubset } from './columns.js';
import { conflictsTarget } from './conflicts.js';
import { connectivitySource, connectivityTarget } from './connectivity.js';
import { consistencyWrites } from './consistency.js';
import { encoding } from './encoding.js';
import { extensionsAvailable } from './extensions.js';
import { filtersWhere } from './filters.js';
import { integrityDependencies, integrityFkParents } from './integrity.js';
import { privilegesDdl } from './ddl-check.js';
import { largeObjectPrivileges } from './largeobjects.js';
import { tablesNoKey } from './keys.js';
import { mappingNames } from './mapping.js';
import { columnsOidTypes } from './oid-columns.js';
import { mappingObjects } from './object-collisions.js';
import { loadSourceModel, sourceModelOf } from './model.js';
import { introspect, type SourceCatalog } from '../schema/catalog/introspect.js';
import { privilegesSource, privilegesTarget } from './privileges.js';
import { roles } from './roles.js';
import { selectionMatches } from './selection.js';
import { integrityTriggerFunctions } from './trigger-functions.js';
import { size } from './size.js';
import { stateSchema } from './state-schema.js';
import { targetRows } from './target-rows.js';
import {
  DEFAULT_THRESHOLDS,
  MAX_OBJECTS,
  type CheckDef,
  type CheckItem,
  type Ctx,
  type Outcome,
  type PrecheckOptions,
  type PrecheckReport,
  type Severity,
} from './types.js';
import { objectsUnsupported } from './unsupported.js';
import { objectsUnreadable } from './unreadable.js';
import { objectsSuperuser } from './superuser-objects.js';
import { versionCompat } from './version.js';
import { INCREMENTAL_CHECKS } from './incremental.js';

export type { CheckItem, PrecheckReport, PrecheckOptions, Severity, ItemResult, Thresholds } from './types.js';

/** Every item, in report order. Ids are stable. */
export const CHECKS: readonly CheckDef[] = [
  connectivitySource,
  connectivityTarget,
  versionCompat,
  privilegesSource,
  privilegesTarget,
  largeObjectPrivileges,
  privilegesDdl,
  selectionMatches,
  conflictsTarget,
  mappingNames,
  mappingObjects,
  stateSchema,
  targetRows,
  integrityFkParents,
  integrityDependencies,
  integrityTriggerFunctions,
  columnsSubset,
  filtersWhere,
  tablesNoKey,
  columnsOidTypes,
  extensionsAvailable,
  objectsUnreadable,
  objectsSuperuser,
  objectsUnsupported,
  encoding,
  collations,
  roles,
  size,
  capacityConnections,
  sourceLongTransactions,
  sourceLoad,
  consistencyWrites,
  ...INCREMENTAL_CHECKS,
];

export const CHECK_IDS: readonly string[] = CHECKS.map((c) => c.id);

export function isSkippable(def: CheckDef): boolean {
  return def.level !== 'error' || def.skippable === true;
}

/** Ids that `--skip` accepts, for help texts. */
export const SKIPPABLE_IDS: readonly string[] = CHECKS.filter(isSkippable).map((c) => c.id);

async function readOnlySession(spec: ReturnType<typeof resolveConnSpec>, label: string): Promise<pg.Client> {
  const c = await connect(spec, { label, role: 'precheck' });
  try {
    await c.query(`SET default_transaction_read_only = on`);
    await c.query(`SET statement_timeout = '60s'`);
    await c.query(`SET lock_timeout = '5s'`);
    return c;
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
}

/**
 * The catalog the checks share: the caller's, else read once here. A catalog the source cannot
 * be read into leaves the model to the facts alone (the DDL checks then read and report it).
 */
async function loadCatalog(c: pg.Client, given: SourceCatalog | undefined): Promise<SourceCatalog | undefined> {
  if (given) return given;
  try {
    return await introspect(c);
  } catch {
    return undefined;
  }
}

export function toItem(def: CheckDef, o: Outcome): CheckItem {
  const objects = o.objects ?? [];
  const severity: Severity = o.severity ?? (o.result === 'warning' ? 'warning' : def.level);
  const item: CheckItem = {
    id: def.id,
    title: def.title,
    severity,
    result: o.result,
    message: o.message,
    objects: objects.slice(0, MAX_OBJECTS),
    objectCount: objects.length,
  };
  if (o.hint) item.hint = o.hint;
  return item;
}

export async function runPrecheck(task: TaskConfig, o: PrecheckOptions = {}): Promise<PrecheckReport> {
  const t0 = performance.now();
  const skip = new Set([...(task.skipChecks ?? []), ...(o.skip ?? [])]);
  const unknown = [...skip].filter((id) => !CHECK_IDS.includes(id));
  if (unknown.length) {
    throw new PgferryError('usage', `unknown precheck item(s) to skip: ${unknown.join(', ')}`, {
      hint: `skippable items: ${SKIPPABLE_IDS.join(', ')}`,
    });
  }
  const sel = new Selection(task);
  if (o.leaveOut) sel.leaveOut(o.leaveOut);
  const sourceSpec = resolveConnSpec(task.source, { redactor: o.redactor });
  const targetSpec = resolveConnSpec(task.target, { redactor: o.redactor });
  const [sourcePing, targetPing] = await Promise.all([ping(sourceSpec, 'source'), ping(targetSpec, 'target')]);
  const ctx: Ctx = {
    task,
    sel,
    taskId: o.taskId ?? task.name,
    heldSlot: o.heldSlot,
    thresholds: { ...DEFAULT_THRESHOLDS, ...(o.thresholds ?? {}) },
    sourcePing,
    targetPing,
    sourceVersion: sourcePing.ok ? sourcePing.serverVersionNum : 0,
    targetVersion: targetPing.ok ? targetPing.serverVersionNum : 0,
  };
  if (ctx.taskId) useStateSchema(ctx.taskId, task.stateSchema);
  let sourceDown = sourcePing.ok ? '' : 'source unreachable (see connectivity.source)';
  let targetDown = targetPing.ok ? '' : 'target unreachable (see connectivity.target)';
  let modelDown = '';
  try {
    if (sourcePing.ok)
      ctx.source = await readOnlySession(sourceSpec, 'source').catch((e) => {
        sourceDown = `source session failed: ${errorMessage(e)}`;
        return undefined;
      });
    if (targetPing.ok)
      ctx.target = await readOnlySession(targetSpec, 'target').catch((e) => {
        targetDown = `target session failed: ${errorMessage(e)}`;
        return undefined;
      });
    if (ctx.source && ctx.sourceVersion >= 100000) {
      try {
        ctx.catalog = await loadCatalog(ctx.source, o.catalog);
        if (o.catalog && o.ddl) ctx.ddl = o.ddl;
        ctx.model = ctx.catalog ? sourceModelOf(ctx.catalog.facts, sel) : await loadSourceModel(ctx.source, sel);
      } catch (e) {
        modelDown = `cannot read the source catalogs: ${errorMessage(e)}`;
      }
    } else {
      modelDown = sourceDown || 'source older than PostgreSQL 10 (see version.compat)';
    }
    const items: CheckItem[] = [];
    for (const def of CHECKS) {
      const requested = skip.has(def.id);
      if (requested && isSkippable(def)) {
        items.push(toItem(def, { result: 'skipped', message: 'skipped on request (--skip / skipChecks)' }));
        continue;
      }
      const missing =
        (def.needs.includes('source') && !ctx.source && sourceDown) ||
        (def.needs.includes('target') && !ctx.target && targetDown) ||
        (def.needs.includes('model') && !ctx.model && modelDown) ||
        (def.needs.includes('source') &&
          ctx.sourceVersion < 100000 &&
          def.id !== 'version.compat' &&
          'source older than PostgreSQL 10 (see version.compat)');
      if (missing) {
        items.push(toItem(def, { result: 'skipped', message: `not checked: ${missing}` }));
        continue;
      }
      let outcome: Outcome;
      try {
        outcome = await def.run(ctx);
      } catch (e) {
        outcome = {
          result: def.level === 'error' ? 'failed' : 'warning',
          message: `could not check: ${errorMessage(e)}`,
          hint: 'check the privileges of the connecting users; rerun with PGFERRY_DEBUG=1 for details',
        };
      }
      if (requested) outcome = { ...outcome, message: `${outcome.message} (this item cannot be skipped)` };
      items.push(toItem(def, outcome));
    }
    const ok = !items.some((i) => i.result === 'failed' && i.severity === 'error');
    return { ok, items, durationMs: Math.round(performance.now() - t0) };
  } finally {
    await ctx.source?.end().catch(() => {});
    await ctx.target?.end().catch(() => {});
  }
}
