/**
 * mapping.objects: schemas mapped onto one target schema (mapSchemas) whose objects clash —
 * two types, sequences, views or functions that would get the same target name. Reads the
 * source catalog and generates the DDL (pure, nothing runs) to compare the target names.
 */
import { introspect } from '../schema/catalog/introspect.js';
import { generateDdl } from '../schema/ddl/generate.js';
import { failed, passed, plural, type CheckDef } from './types.js';

/** Kinds sharing one name space on the target (pg_class, pg_type, pg_proc …). */
const SPACE: Record<string, string> = {
  table: 'relation',
  sequence: 'relation',
  view: 'relation',
  'materialized view': 'relation',
  'foreign table': 'relation',
  type: 'type',
  domain: 'type',
  function: 'routine',
  procedure: 'routine',
  aggregate: 'routine',
};
/** Not clashes: schemas merge on purpose; these are named after their table. */
const SKIP = new Set(['schema', 'extension', 'default', 'sequence owned by', 'rule', 'policy', 'cast']);

export function objectCollisions(objects: readonly { kind: string; source: string; target: string }[]): string[] {
  const byTarget = new Map<string, { kind: string; source: string }[]>();
  for (const o of objects) {
    if (SKIP.has(o.kind)) continue;
    const k = `${SPACE[o.kind] ?? o.kind}\u0000${o.target}`;
    byTarget.set(k, [...(byTarget.get(k) ?? []), o]);
  }
  const out: string[] = [];
  for (const [k, list] of byTarget) {
    if (new Set(list.map((o) => o.source)).size < 2) continue;
    out.push(`${list.map((o) => `${o.kind} ${o.source}`).join(', ')} all become ${k.split('\u0000')[1]} on the target`);
  }
  return out;
}

export const mappingObjects: CheckDef = {
  id: 'mapping.objects',
  title: 'Objects of merged schemas',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    if (!Object.keys(ctx.task.mapSchemas).length) return passed('no schema mapping');
    const gen = generateDdl(ctx.catalog ?? (await introspect(ctx.source!)), ctx.sel);
    const clashes = objectCollisions(gen.objects);
    if (!clashes.length) return passed(`${plural(gen.objects.length, 'object')} keep distinct target names`);
    const what = plural(clashes.length, 'name clash', 'name clashes');
    return failed(
      `${what} between schemas mapped onto one target schema`,
      clashes,
      'map these schemas to different target schemas (mapSchemas / --map-schema old=new), ' +
        'or rename the tables (tables.<schema.table>.rename)',
    );
  },
};
