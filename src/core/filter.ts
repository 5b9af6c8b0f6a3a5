/**
 * Row filters (`tables.<schema.table>.where`) are user SQL embedded in pgferry's own queries on
 * the source. `checkRowFilter` is the one gate every filter passes, when the task is loaded and
 * again wherever a filter is put into a query. The rule:
 *
 * - the text is one self-contained expression: no ";", no comments, parentheses balanced, no
 *   query parameters, no backslash in a '…' string (see filter-scan.ts);
 * - PostgreSQL's own parser (libpg-query) reads `SELECT 1 FROM t WHERE (<filter>)` as exactly
 *   one plain SELECT whose WHERE clause is the filter: no UNION, WITH, locking clause, …;
 * - the expression uses only the row's columns, constants, operators, casts, CASE, COALESCE,
 *   NULLIF, GREATEST/LEAST, IN lists, LIKE/SIMILAR, BETWEEN, IS [NOT] NULL/TRUE/DISTINCT FROM,
 *   arrays, rows, subscripts, COLLATE, JSON and XML predicates, and function calls; no
 *   sub-queries (SELECT, EXISTS, IN (SELECT …)), aggregates or window functions;
 * - function calls are refused for functions that act on the server or run SQL given as text:
 *   names starting with pg_ (pg_sleep, pg_read_file, pg_terminate_backend, pg_advisory_lock,
 *   pg_notify…), lo_/lo (large objects: lo_import, lo_export, loread…), dblink, txid_,
 *   binary_upgrade_, postgres_fdw_, and set_config, nextval, setval, currval, lastval, the
 *   query_to_xml family (query_, cursor_, table_, schema_, database_to_xml…), ts_stat, ts_rewrite,
 *   brin_summarize_*, brin_desummarize_range and gin_clean_pending_list.
 *
 * Queries that embed a filter also run in READ ONLY transactions on the source.
 */
import { loadModule, parseSync } from 'libpg-query';
import { PgferryError } from './errors.js';
import { scanRowFilter } from './filter-scan.js';

await loadModule();

const MAX_LENGTH = 10_000;

/** Parse-tree node types a filter may contain (String/Integer/… are the parser's value nodes). */
const ALLOWED_NODES = new Set([
  'A_Expr',
  'A_Const',
  'ColumnRef',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'TypeCast',
  'TypeName',
  'FuncCall',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'A_ArrayExpr',
  'RowExpr',
  'A_Indirection',
  'A_Indices',
  'A_Star',
  'CollateClause',
  'SQLValueFunction',
  'List',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'XmlExpr',
  'XmlSerialize',
  'JsonIsPredicate',
  'JsonFuncExpr',
  'JsonValueExpr',
  'JsonFormat',
  'JsonBehavior',
  'JsonArgument',
  'JsonOutput',
  'JsonReturning',
  'JsonParseExpr',
  'JsonScalarExpr',
  'JsonSerializeExpr',
  'JsonObjectConstructor',
  'JsonArrayConstructor',
  'JsonKeyValue',
]);

const NODE_NAMES: Record<string, string> = {
  SubLink: 'a sub-query (SELECT …, EXISTS, IN (SELECT …), ARRAY(SELECT …))',
  ParamRef: 'a query parameter',
  GroupingFunc: 'GROUPING()',
  CurrentOfExpr: 'WHERE CURRENT OF',
  JsonArrayQueryConstructor: 'a sub-query (JSON_ARRAY(SELECT …))',
};

const DENIED_PREFIXES = ['pg_', 'lo_', 'dblink', 'txid_', 'binary_upgrade_', 'postgres_fdw_', 'brin_summarize'];
const DENIED_NAMES = new Set([
  'set_config',
  'nextval',
  'setval',
  'currval',
  'lastval',
  'loread',
  'lowrite',
  'ts_stat',
  'ts_rewrite',
  'brin_desummarize_range',
  'gin_clean_pending_list',
]);
const SQL_RUNNING = /^(query|cursor|table|schema|database)_to_xml/;

function deniedFunction(name: string): boolean {
  const n = name.toLowerCase();
  return DENIED_NAMES.has(n) || SQL_RUNNING.test(n) || DENIED_PREFIXES.some((p) => n.startsWith(p));
}

function checkFuncCall(f: Record<string, unknown>): string | undefined {
  const names = (f.funcname as { String: { sval: string } }[]).map((x) => x.String.sval);
  const name = names[names.length - 1];
  if (f.over) return `the window function ${name}() … OVER`;
  const aggregate = f.agg_star || f.agg_order || f.agg_filter || f.agg_within_group || f.agg_distinct;
  if (aggregate) return `the aggregate ${name}(…)`;
  if (deniedFunction(name)) return `the function ${names.join('.')}(), which acts on the server rather than on the row`;
  return undefined;
}

/** First refused construct in a raw parse tree (nodes are { Type: fields }, fields are lower-case keys). */
function refusedIn(v: unknown): string | undefined {
  if (Array.isArray(v)) {
    for (const x of v) {
      const r = refusedIn(x);
      if (r) return r;
    }
    return undefined;
  }
  if (v === null || typeof v !== 'object') return undefined;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    if (/^[A-Z]/.test(k)) {
      if (!ALLOWED_NODES.has(k)) return NODE_NAMES[k] ?? `${k} (not allowed in a row filter)`;
      if (k === 'FuncCall') {
        const r = checkFuncCall(val as Record<string, unknown>);
        if (r) return r;
      }
    }
    const r = refusedIn(val);
    if (r) return r;
  }
  return undefined;
}

const PLAIN_SELECT_KEYS = new Set(['targetList', 'fromClause', 'whereClause', 'limitOption', 'op']);

/** Parse the filter inside a probe SELECT; the reason it is refused, or undefined. */
function parseCheck(filter: string): string | undefined {
  let tree: { stmts: { stmt: Record<string, Record<string, unknown>> }[] };
  try {
    tree = parseSync(`SELECT 1 FROM pgferry_filter_probe WHERE (${filter})`);
  } catch (e) {
    return `not a valid SQL expression: ${(e as Error).message}`;
  }
  const sel = tree.stmts.length === 1 ? tree.stmts[0].stmt.SelectStmt : undefined;
  if (sel?.op !== 'SETOP_NONE' || !sel.whereClause || Object.keys(sel).some((k) => !PLAIN_SELECT_KEYS.has(k))) {
    return 'more than one boolean expression (it changes the statement it is put in)';
  }
  return refusedIn(sel.whereClause);
}

/** A filter nested deeper than the parser or the tree walk can follow is refused, not a crash. */
function nestingGuard(check: () => string | undefined): string | undefined {
  try {
    return check();
  } catch (e) {
    if (e instanceof RangeError) return 'it is nested too deeply';
    throw e;
  }
}

const HINT =
  "write the filter as one boolean expression over the table's own columns, e.g. created_at >= '2024-01-01' or " +
  "status IN ('a','b'): no \";\", comments, sub-queries, aggregates, or functions that act on the server " +
  '(pg_*, lo_*, dblink*, set_config…); see "Row filters" in the README';

/**
 * Validate a row filter; returns it unchanged. Throws a usage error naming the table, the
 * filter and the reason. `at` prefixes the message (e.g. the task file and line).
 */
export function checkRowFilter(filter: string, table: string, at?: string): string {
  let reason: string | undefined;
  if (typeof filter !== 'string' || filter.trim() === '') reason = 'it is empty';
  else if (filter.length > MAX_LENGTH) reason = `it is longer than ${MAX_LENGTH} characters`;
  else reason = scanRowFilter(filter) ?? nestingGuard(() => parseCheck(filter));
  if (reason === undefined) return filter;
  const shown = filter.length > 200 ? `${filter.slice(0, 200)}…` : filter;
  const msg = `tables.${table}.where: row filter ${JSON.stringify(shown)} refused: ${reason}`;
  throw new PgferryError('usage', at ? `${at}: ${msg}` : msg, { hint: HINT });
}
