/**
 * selection.matches: every part of the selection means something on the source. A schema or
 * table pattern that matches nothing, per-table options (tables:) for a table that is not
 * selected, an excluded trigger that does not exist, or a columnMap entry for a column the
 * column subset leaves out would silently not apply: each is an error, with near matches
 * (other letter case — unquoted names fold to lower case —, or a few letters off).
 */
import type pg from 'pg';
import { notExt, PARTITION_ROOT_JOIN, USER_NS } from '../schema/catalog/sql/common.js';
import { parseQualifiedName, qualify, quoteIdent } from '../../core/ident.js';
import { parseTriggerName, tableKey, type PatternInfo, type Selection } from '../../core/selection.js';
import { nearMatches, nearNames } from '../../core/suggest.js';
import { failed, passed, plural, type CheckDef } from './types.js';

interface Rel {
  schema: string;
  name: string;
  kind: string;
  root_schema: string | null;
  root_name: string | null;
}

const RELS_SQL = `
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
       root.nspname AS root_schema, root.relname AS root_name
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
${PARTITION_ROOT_JOIN}
WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm') AND ${USER_NS} AND ${notExt('pg_class', 'c.oid')}
ORDER BY 1, 2`;

const TRIGGERS_SQL = `
SELECT n.nspname AS schema, c.relname AS table, t.tgname AS name
FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND ${USER_NS}`;

const isTable = (r: Rel) => r.kind === 'r' || r.kind === 'p' || r.kind === 'f';
const hasGlob = (s: string) => /[*?]/.test(s);
const suggest = (list: string[]) => (list.length ? `; did you mean ${list.join(' or ')}?` : '');

export const selectionMatches: CheckDef = {
  id: 'selection.matches',
  title: 'Selection matches the source',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const rels = (await ctx.source!.query<Rel>(RELS_SQL)).rows;
    const problems = [
      ...ctx.sel.patterns().flatMap((p) => patternProblem(p, ctx.sel, ctx.model!.allSchemas, rels)),
      ...optionProblems(ctx.sel, new Set(ctx.model!.tables.map((t) => t.key)), rels),
      ...(await triggerProblems(ctx.source!, ctx.sel)),
      ...subPartitionProblems(ctx.sel, rels),
      ...ctx.model!.tables.flatMap((t) => columnMapProblems(ctx.sel, t.schema, t.name)),
    ];
    const tables = plural(ctx.model!.tables.length, 'table');
    if (!problems.length) return passed(`${tables} selected; every pattern and option matches`);
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more)` : '';
    const verb = problems.length === 1 ? 'matches' : 'match';
    const parts = plural(problems.length, 'part');
    return failed(
      `${parts} of the selection ${verb} nothing: ${problems[0]}${more}`,
      problems,
      'fix the names above (schema.table; unquoted names fold to lower case, so quote mixed-case names: ' +
        '\'public."Users"\'), or drop them',
    );
  },
};

function patternProblem(p: PatternInfo, sel: Selection, schemas: string[], rels: Rel[]): string[] {
  const what = `${p.flag} ${p.text}`;
  if (p.flag === '--include-schema' || p.flag === '--exclude-schema') {
    if (schemas.some((s) => p.test(s))) return [];
    const near = hasGlob(p.text) ? '' : suggest(nearMatches(p.text, schemas));
    return [`${what}: no schema of that name on the source${near}`];
  }
  const tables = rels.filter(isTable);
  const hits = tables.filter((r) => p.test(r.schema, r.name));
  if (p.flag === '--include-table' && hits.some((r) => sel.tableSelected(r.schema, r.name))) return [];
  if (p.flag === '--exclude-table') {
    const effect = excludeEffect(
      what,
      hits.filter((r) => sel.schemaSelected(r.schema)),
      sel,
    );
    if (effect) return effect;
  }
  if (hits.length) {
    const h = qualify(hits[0].schema, hits[0].name);
    if (!sel.schemaSelected(hits[0].schema)) {
      return [`${what}: matches ${h}, but schema ${quoteIdent(hits[0].schema)} is not selected`];
    }
    return [`${what}: every table it matches (${h}${hits.length > 1 ? ', …' : ''}) is excluded by --exclude-table`];
  }
  const views = rels.filter((r) => !isTable(r) && p.test(r.schema, r.name));
  if (views.length) {
    const v = qualify(views[0].schema, views[0].name);
    return [`${what}: ${v} is a view; views go with their schema (--include-schema), not --include-table`];
  }
  if (p.parts.some(hasGlob)) return [`${what}: matches no table on the source`];
  const show = (parts: string[]) => (parts.length === 2 ? qualify(parts[0], parts[1]) : quoteIdent(parts[0]));
  const wanted = show(p.parts);
  const names = tables.map((r) => (p.parts.length === 2 ? [r.schema, r.name] : [r.name]));
  const near = nearNames(p.parts, names, show);
  const lower = p.parts.join('.').toLowerCase();
  const folded = names.some((n) => n.join('.').toLowerCase() === lower)
    ? ' (unquoted names fold to lower case: quote mixed-case names)'
    : '';
  return [`${what}: no table ${wanted} on the source${suggest(near.map((n) => `'${n}'`))}${folded}`];
}

/** [] when an exclude pattern leaves something out; a problem when it only names partitions of selected tables. */
function excludeEffect(what: string, hits: Rel[], sel: Selection): string[] | undefined {
  if (!hits.length) return undefined;
  const rootSelected = (r: Rel) => r.root_schema !== null && sel.tableSelected(r.root_schema, r.root_name!);
  if (hits.some((r) => !rootSelected(r))) return [];
  const root = qualify(hits[0].root_schema!, hits[0].root_name!);
  return [
    `${what}: ${qualify(hits[0].schema, hits[0].name)} is a partition of ${root}, which is selected, and ` +
      `partitions go with their partitioned table: exclude ${root} too, or select the partitions you want by name`,
  ];
}

/** A partition that is itself partitioned, selected without its root: its own leaves would not come along. */
function subPartitionProblems(sel: Selection, rels: Rel[]): string[] {
  return rels
    .filter(
      (r) =>
        r.kind === 'p' &&
        r.root_schema !== null &&
        sel.tableSelected(r.schema, r.name) &&
        !sel.tableSelected(r.root_schema, r.root_name!),
    )
    .map((r) => {
      const root = qualify(r.root_schema!, r.root_name!);
      return (
        `${qualify(r.schema, r.name)} is a partitioned partition of ${root}; selected alone its rows ` +
        `(in its own partitions) would not move: select ${root}, ` +
        'or its leaf partitions one by one (each becomes a plain table)'
      );
    });
}

function optionProblems(sel: Selection, selected: Set<string>, rels: Rel[]): string[] {
  const out: string[] = [];
  const tables = rels.filter(isTable);
  for (const key of sel.optionKeys()) {
    if (selected.has(key)) continue;
    const [s, n] = parseQualifiedName(key);
    const exists = tables.some((r) => r.schema === s && r.name === n);
    if (exists) {
      out.push(`tables.${key}: options for a table that is not selected (its where/columns/rename would not apply)`);
      continue;
    }
    const near = nearNames(
      [s, n],
      tables.map((r) => [r.schema, r.name]),
      ([a, b]) => tableKey(a, b),
    );
    out.push(`tables.${key}: options for a table that does not exist on the source${suggest(near)}`);
  }
  return out;
}

async function triggerProblems(c: pg.Client, sel: Selection): Promise<string[]> {
  const excluded = sel.task.excludeTriggers ?? [];
  if (!excluded.length) return [];
  const rows = (await c.query<{ schema: string; table: string; name: string }>(TRIGGERS_SQL)).rows;
  const out: string[] = [];
  for (const text of excluded) {
    const [s, t, n] = parseTriggerName(text);
    if (rows.some((r) => r.schema === s && r.table === t && r.name === n)) continue;
    const show = ([a, b, c]: string[]) => `${qualify(a, b)}.${quoteIdent(c)}`;
    const near = nearNames(
      [s, t, n],
      rows.map((r) => [r.schema, r.table, r.name]),
      show,
    );
    out.push(`--exclude-trigger ${text}: no trigger ${quoteIdent(n)} on ${qualify(s, t)}${suggest(near)}`);
  }
  return out;
}

function columnMapProblems(sel: Selection, schema: string, table: string): string[] {
  const o = sel.options(schema, table);
  if (!o?.columns || !o.columnMap) return [];
  return Object.keys(o.columnMap)
    .filter((c) => !o.columns!.includes(c))
    .map(
      (c) =>
        `tables.${tableKey(schema, table)}.columnMap: column ${quoteIdent(c)} ` +
        'is left out by its columns list, so the rename does not apply',
    );
}
