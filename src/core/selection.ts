/**
 * Object selection and name mapping, as the task describes them. Pure functions over names:
 * the catalog stage, the data engine, precheck and verify all ask these, so a table is
 * selected and named the same way everywhere.
 */
import { PgferryError } from './errors.js';
import { parseQualifiedName, qualify } from './ident.js';
import type { TableOptions, TaskConfig } from './config.js';
import type { QualifiedName } from './qualified-name.js';

/**
 * Schemas never migrated: the system ones. A source schema named like pgferry's checkpoint
 * schema is user data like any other (precheck refuses it only when it would land on the target's).
 */
export const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];

export function isSystemSchema(name: string): boolean {
  return SYSTEM_SCHEMAS.includes(name) || name.startsWith('pg_temp_') || name.startsWith('pg_toast_temp_');
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

interface TablePattern {
  schema?: RegExp;
  table: RegExp;
  text: string;
}

function compileTablePattern(text: string, flag: string): TablePattern {
  let parts: string[];
  try {
    parts = parseQualifiedName(text);
  } catch (e) {
    throw new PgferryError('usage', `${flag} ${JSON.stringify(text)}: ${(e as Error).message}`, {
      hint: `write tables as schema.table; quote odd names: '"My Schema"."Order Items"'`,
    });
  }
  return parts.length === 2
    ? { schema: globToRegExp(parts[0]), table: globToRegExp(parts[1]), text }
    : { table: globToRegExp(parts[0]), text };
}

/** One pattern of the selection as the user wrote it, with its test. */
export interface PatternInfo {
  flag: '--include-schema' | '--exclude-schema' | '--include-table' | '--exclude-table';
  text: string;
  /** Parsed parts: [schema] for schema patterns; [table] or [schema, table] for table patterns. */
  parts: string[];
  test(schema: string, name?: string): boolean;
}

/** `schema.table.trigger` with SQL quoting → its three parts. */
export function parseTriggerName(text: string): [string, string, string] {
  let inQuote = false;
  let cut = -1;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') inQuote = !inQuote;
    else if (text[i] === '.' && !inQuote) cut = i;
  }
  const what = `excluded trigger ${JSON.stringify(text)}`;
  const bad = () =>
    new PgferryError('usage', `${what}: expected schema.table.trigger`, {
      hint:
        'e.g. --exclude-trigger public.orders.audit_trg (task file: excludeTriggers); ' +
        `quote odd names: '"S"."Orders"."Audit"'`,
    });
  if (cut < 0) throw bad();
  let head: string[];
  let tail: string[];
  try {
    head = parseQualifiedName(text.slice(0, cut));
    tail = parseQualifiedName(text.slice(cut + 1));
  } catch {
    throw bad();
  }
  if (head.length !== 2 || tail.length !== 1) throw bad();
  return [head[0], head[1], tail[0]];
}

export class Selection {
  private includeSchemas: RegExp[];
  private excludeSchemas: RegExp[];
  private includeTables: TablePattern[];
  private excludeTables: TablePattern[];
  private tableOptions = new Map<string, TableOptions>();
  /** Partition leaf key → its root's key, for leaves without options of their own. */
  private partitionRoot = new Map<string, string>();
  private excludedTriggers = new Set<string>();
  /** With includeTables: the sequences the selected tables need (set when the DDL is generated). */
  private neededSequences: Set<string> | undefined;
  /** Tables this run leaves to the change stream (see leaveOut). */
  private leftOut = new Set<string>();

  constructor(readonly task: TaskConfig) {
    this.includeSchemas = task.includeSchemas.map(globToRegExp);
    this.excludeSchemas = task.excludeSchemas.map(globToRegExp);
    this.includeTables = task.includeTables.map((p) => compileTablePattern(p, '--include-table'));
    this.excludeTables = task.excludeTables.map((p) => compileTablePattern(p, '--exclude-table'));
    for (const [key, opts] of Object.entries(task.tables)) {
      let parts: string[];
      try {
        parts = parseQualifiedName(key);
      } catch (e) {
        throw new PgferryError('usage', `tables.${key}: ${(e as Error).message}`, {
          hint: 'key per-table options by schema.table',
        });
      }
      if (parts.length !== 2)
        throw new PgferryError('usage', `tables.${key}: name the schema too (schema.table)`, {
          hint: `e.g. public.${parts[0]}`,
        });
      this.tableOptions.set(tableKey(parts[0], parts[1]), opts);
    }
    for (const t of task.excludeTriggers ?? []) this.excludedTriggers.add(triggerKey(...parseTriggerName(t)));
    rejectContradictions(task);
  }

  /** Every schema and table pattern, in the order given, for reporting patterns that match nothing. */
  patterns(): PatternInfo[] {
    const schema = (flag: PatternInfo['flag'], list: string[], res: RegExp[]): PatternInfo[] =>
      list.map((text, i) => ({ flag, text, parts: [text], test: (s: string) => res[i].test(s) }));
    const table = (flag: PatternInfo['flag'], list: TablePattern[]): PatternInfo[] =>
      list.map((p) => ({
        flag,
        text: p.text,
        parts: parseQualifiedName(p.text),
        test: (s: string, n?: string) => (!p.schema || p.schema.test(s)) && n !== undefined && p.table.test(n),
      }));
    return [
      ...schema('--include-schema', this.task.includeSchemas, this.includeSchemas),
      ...schema('--exclude-schema', this.task.excludeSchemas, this.excludeSchemas),
      ...table('--include-table', this.includeTables),
      ...table('--exclude-table', this.excludeTables),
    ];
  }

  /** Record the sequences the dependency closure of the selected tables keeps (see ddl/closure.ts). */
  keepSequences(keys: Iterable<string>): void {
    this.neededSequences = new Set(keys);
  }

  /** Does this sequence move? Its schema is selected, and with includeTables the selected tables need it. */
  sequenceSelected(schema: string, name: string): boolean {
    if (!this.schemaSelected(schema)) return false;
    return this.neededSequences === undefined || this.neededSequences.has(tableKey(schema, name));
  }

  triggerExcluded(schema: string, table: string, trigger: string): boolean {
    return this.excludedTriggers.has(triggerKey(schema, table, trigger));
  }

  /**
   * A partition without options of its own takes its root table's where, columns and columnMap:
   * the rows of a partitioned table live in its leaves.
   */
  bindPartition(schema: string, table: string, rootSchema: string, rootTable: string): void {
    const key = tableKey(schema, table);
    if (!this.tableSelected(rootSchema, rootTable)) return;
    if (!this.tableOptions.has(key) && this.tableOptions.has(tableKey(rootSchema, rootTable))) {
      this.partitionRoot.set(key, tableKey(rootSchema, rootTable));
    }
  }

  /** Is objects' schema in the selection? (Tables are further filtered by includeTable/excludeTable.) */
  schemaSelected(schema: string): boolean {
    if (isSystemSchema(schema)) return false;
    if (this.includeSchemas.length && !this.includeSchemas.some((r) => r.test(schema))) return false;
    if (this.excludeSchemas.some((r) => r.test(schema))) return false;
    return true;
  }

  /**
   * Leave these tables (by key) out of this run's precheck, schema and copy: partitions created on
   * the source after an incremental task's copy, whose rows only the change stream brings.
   */
  leaveOut(keys: Iterable<string>): void {
    for (const k of keys) this.leftOut.add(k);
  }

  /** The keys given to leaveOut. */
  leftOutKeys(): string[] {
    return [...this.leftOut];
  }

  /** Left out of this run by leaveOut (a partition is not taken with its root then either). */
  leftOutTable(schema: string, table: string): boolean {
    return this.leftOut.size > 0 && this.leftOut.has(tableKey(schema, table));
  }

  tableSelected(schema: string, table: string): boolean {
    if (!this.schemaSelected(schema)) return false;
    if (this.leftOutTable(schema, table)) return false;
    const hit = (p: TablePattern) => (!p.schema || p.schema.test(schema)) && p.table.test(table);
    if (this.includeTables.length && !this.includeTables.some(hit)) return false;
    if (this.excludeTables.some(hit)) return false;
    return true;
  }

  /** True when the user narrowed tables (then non-table objects of a schema are still taken). */
  get filtersTables(): boolean {
    return this.includeTables.length > 0 || this.excludeTables.length > 0;
  }

  options(schema: string, table: string): TableOptions | undefined {
    const key = tableKey(schema, table);
    const own = this.tableOptions.get(key);
    if (own || !this.partitionRoot.has(key)) return own;
    const { rename: _rename, ...inherited } = this.tableOptions.get(this.partitionRoot.get(key)!)!;
    return inherited;
  }

  /** Keys of per-table options, to report options for tables that do not exist. */
  optionKeys(): string[] {
    return [...this.tableOptions.keys()];
  }

  targetSchema(schema: string): string {
    return this.task.mapSchemas[schema] ?? schema;
  }

  targetTable(schema: string, table: string): QualifiedName {
    return { schema: this.targetSchema(schema), name: this.options(schema, table)?.rename ?? table };
  }

  targetColumn(schema: string, table: string, column: string): string {
    return this.options(schema, table)?.columnMap?.[column] ?? column;
  }

  /** Column subset for a table, or undefined for all columns. */
  columnSubset(schema: string, table: string): string[] | undefined {
    return this.options(schema, table)?.columns;
  }

  rowFilter(schema: string, table: string): string | undefined {
    return this.options(schema, table)?.where;
  }
}

function triggerKey(schema: string, table: string, trigger: string): string {
  return [schema, table, trigger].map((p) => JSON.stringify(p)).join('.');
}

/** The same schema or table both included and excluded: the user meant one of the two. */
function rejectContradictions(task: TaskConfig): void {
  const norm = (p: string) => {
    try {
      return parseQualifiedName(p).join('\u0000');
    } catch {
      return p;
    }
  };
  const both = (inc: string[], exc: string[], key: (p: string) => string) =>
    inc.filter((p) => exc.some((x) => key(x) === key(p)));
  const schemas = both(task.includeSchemas, task.excludeSchemas, (p) => p);
  const tables = both(task.includeTables, task.excludeTables, norm);
  if (!schemas.length && !tables.length) return;
  const what = [...schemas.map((s) => `schema ${s}`), ...tables.map((t) => `table ${t}`)].join(', ');
  throw new PgferryError('usage', `${what} is both included and excluded`, {
    hint:
      'drop either the --include-… or the --exclude-… of it ' +
      '(task file: includeSchemas/excludeSchemas, includeTables/excludeTables)',
  });
}

/** Canonical key of a table: schema.table with SQL quoting (stable across runs). */
export function tableKey(schema: string, table: string): string {
  return qualify(schema, table);
}

/** Large objects belong to no schema: like pg_dump, they move with whole-database migrations only. */
export function copiesLargeObjects(task: Pick<TaskConfig, 'includeSchemas' | 'includeTables'>): boolean {
  return task.includeSchemas.length === 0 && task.includeTables.length === 0;
}
