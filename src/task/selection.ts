/**
 * Object selection and name mapping, as the task describes them. Pure functions over names:
 * the catalog stage, the data engine, precheck and verify all ask these, so a table is
 * selected and named the same way everywhere.
 */
import { PgferryError } from '../errors.js';
import { parseQualifiedName, qualify } from '../util/ident.js';
import type { TableOptions, TaskConfig } from './config.js';
import type { QualifiedName } from '../plan/types.js';

/**
 * Schemas never migrated: the system ones. A source schema named like pgferry's checkpoint
 * schema is user data like any other (precheck refuses it only when it would land on the target's).
 */
export const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'];

export function isSystemSchema(name: string): boolean {
  return SYSTEM_SCHEMAS.includes(name) || name.startsWith('pg_temp_') || name.startsWith('pg_toast_temp_');
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
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

export class Selection {
  private includeSchemas: RegExp[];
  private excludeSchemas: RegExp[];
  private includeTables: TablePattern[];
  private excludeTables: TablePattern[];
  private tableOptions = new Map<string, TableOptions>();

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
        throw new PgferryError('usage', `tables.${key}: ${(e as Error).message}`, { hint: 'key per-table options by schema.table' });
      }
      if (parts.length !== 2) throw new PgferryError('usage', `tables.${key}: name the schema too (schema.table)`, { hint: `e.g. public.${parts[0]}` });
      this.tableOptions.set(tableKey(parts[0], parts[1]), opts);
    }
  }

  /** Is objects' schema in the selection? (Tables are further filtered by includeTable/excludeTable.) */
  schemaSelected(schema: string): boolean {
    if (isSystemSchema(schema)) return false;
    if (this.includeSchemas.length && !this.includeSchemas.some((r) => r.test(schema))) return false;
    if (this.excludeSchemas.some((r) => r.test(schema))) return false;
    return true;
  }

  tableSelected(schema: string, table: string): boolean {
    if (!this.schemaSelected(schema)) return false;
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
    return this.tableOptions.get(tableKey(schema, table));
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

/** Canonical key of a table: schema.table with SQL quoting (stable across runs). */
export function tableKey(schema: string, table: string): string {
  return qualify(schema, table);
}

/** Large objects belong to no schema: like pg_dump, they move with whole-database migrations only. */
export function copiesLargeObjects(task: Pick<TaskConfig, 'includeSchemas' | 'includeTables'>): boolean {
  return task.includeSchemas.length === 0 && task.includeTables.length === 0;
}
