/** What the create-task wizard collects, and the task body (the task-file shape) built from it. */
import { type ConnFields, connectionUri, emptyConn } from '../connection';

export type Pick = { kind: 'schema'; schema: string } | { kind: 'table'; schema: string; table: string };

export interface TableChoice {
  where: string;
  /** null: every column */
  columns: string[] | null;
  rename: string;
}

export interface WizardState {
  source: ConnFields;
  target: ConnFields;
  picks: Pick[];
  tableOptions: Record<string, TableChoice>;
  mapSchemas: Record<string, string>;
  name: string;
  jobs: string;
  verify: 'none' | 'count' | 'hash';
  ifExists: 'error' | 'skip' | 'truncate' | 'drop';
  /** objects belong to the target account (no ALTER … OWNER TO) */
  noOwner: boolean;
  /** grants are not copied */
  noAcl: boolean;
  /** rows per second over all workers; '' for no limit */
  maxRowsPerSec: string;
  /** copy through the server's control database, by `pgferry worker`s */
  distributed: boolean;
  acknowledged: string[];
}

export const initialWizard = (): WizardState => ({
  source: emptyConn(),
  target: emptyConn(),
  picks: [],
  tableOptions: {},
  mapSchemas: {},
  name: '',
  jobs: '2',
  verify: 'count',
  ifExists: 'error',
  noOwner: false,
  noAcl: false,
  maxRowsPerSec: '',
  distributed: false,
  acknowledged: [],
});

/** An identifier as SQL writes it, always quoted: pgferry's table keys accept SQL quoting. */
export const sqlIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;
export const tableKey = (schema: string, table: string) => `${sqlIdent(schema)}.${sqlIdent(table)}`;
export const pickKey = (p: Pick) => (p.kind === 'schema' ? sqlIdent(p.schema) : tableKey(p.schema, p.table));

/** Schemas and tables as include lists: whole schemas alone, or table patterns when any single table is picked. */
function includes(picks: Pick[]): { includeSchemas: string[]; includeTables: string[] } {
  const tables = picks.filter((p) => p.kind === 'table');
  if (tables.length === 0) return { includeSchemas: picks.map((p) => p.schema), includeTables: [] };
  // includeSchemas and includeTables both have to match: a whole schema becomes the pattern "schema".*
  return {
    includeSchemas: [],
    includeTables: picks.map((p) => (p.kind === 'schema' ? `${sqlIdent(p.schema)}.*` : tableKey(p.schema, p.table))),
  };
}

function tableEntries(s: WizardState): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, c] of Object.entries(s.tableOptions)) {
    const o: Record<string, unknown> = {};
    if (c.where.trim()) o.where = c.where.trim();
    if (c.columns) o.columns = c.columns;
    if (c.rename.trim()) o.rename = c.rename.trim();
    if (Object.keys(o).length) out[key] = o;
  }
  return out;
}

export function buildTask(s: WizardState): Record<string, unknown> {
  const mapSchemas = Object.fromEntries(
    Object.entries(s.mapSchemas).filter(([from, to]) => to.trim() && to.trim() !== from),
  );
  return {
    name: s.name.trim(),
    source: connectionUri(s.source),
    target: connectionUri(s.target),
    jobs: Number(s.jobs) || 1,
    verify: s.verify,
    ifExists: s.ifExists,
    noOwner: s.noOwner,
    noAcl: s.noAcl,
    ...(s.maxRowsPerSec.trim() ? { copy: { maxRowsPerSec: s.maxRowsPerSec.trim() } } : {}),
    ...(s.distributed ? { distributed: true } : {}),
    ...includes(s.picks),
    tables: tableEntries(s),
    mapSchemas,
    skipChecks: s.acknowledged,
  };
}

/** A default task name from the two database names. */
export function defaultName(s: WizardState): string {
  const clean = (x: string) => x.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '');
  const a = clean(s.source.database) || 'source';
  const b = clean(s.target.database) || 'target';
  return `${a}-to-${b}`.slice(0, 63);
}

/** A DOM id from object names (ids must not hold spaces; odd characters become their code). */
export const domId = (...parts: string[]) =>
  parts.map((p) => p.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)).join('--');
