/**
 * state.schema: pgferry's checkpoint schema on the target never collides with user data. A
 * target schema of that name that pgferry did not create is refused, and so is a selected
 * source schema that would be created as (or merged into) it.
 */
import type pg from 'pg';
import { schemaVersion } from '../../state/migrate.js';
import { CHECKPOINT_SET } from '../../state/migrations.js';
import { STATE_FORMAT, stateSchemaKind, stateSchemaTaken } from '../../state/checkpoint.js';
import { quoteIdent } from '../../core/ident.js';
import { failed, passed, type CheckDef, type Outcome } from './types.js';

export const stateSchema: CheckDef = {
  id: 'state.schema',
  title: 'Checkpoint schema on the target',
  level: 'error',
  needs: ['target', 'model'],
  async run(ctx) {
    const name = ctx.task.stateSchema;
    const q = quoteIdent(name);
    const clashes = ctx
      .model!.schemas.filter((s) => ctx.sel.targetSchema(s.name) === name)
      .map((s) => `source schema ${quoteIdent(s.name)} → target schema ${q}`);
    if (clashes.length) {
      const why = `selected source schema(s) would be created as ${q}, pgferry's checkpoint schema`;
      const e = stateSchemaTaken(name, why);
      return failed(e.message, clashes, e.hint);
    }
    const kind = await stateSchemaKind(ctx.target!, name);
    if (kind === 'foreign') {
      const e = stateSchemaTaken(name, `target schema ${q} exists and was not created by pgferry`);
      return failed(e.message, [`schema ${q}`], e.hint);
    }
    if (kind === 'ours') return ourLayout(ctx.target!, name);
    return passed(`checkpoint schema ${q} will be created`);
  },
};

/** pgferry's schema: its layout is upgraded in place when older, refused when newer than this pgferry's. */
async function ourLayout(c: pg.Client, name: string): Promise<Outcome> {
  const q = quoteIdent(name);
  const v = await schemaVersion(c, name, CHECKPOINT_SET);
  if (v > STATE_FORMAT) {
    return failed(
      `checkpoint schema ${q} has format ${v}, newer than this pgferry's ${STATE_FORMAT}`,
      [`schema ${q}`],
      'run the task with the pgferry version that started it',
    );
  }
  if (v < STATE_FORMAT) {
    return passed(`checkpoint schema ${q} is pgferry's; its format ${v} will be upgraded to ${STATE_FORMAT}`);
  }
  return passed(`checkpoint schema ${q} exists and is pgferry's`);
}
