/**
 * A task: what to migrate from where to where, and how. Given as a YAML/JSON task file,
 * as command-line flags, or both (flags win). Validated with zod; errors point at the
 * file's line and the field.
 */
import { readFileSync } from 'node:fs';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { PgferryError } from './errors.js';
import { checkRowFilter } from './filter.js';
import { parseRate, parseSize, SIZE_EXAMPLES } from './size.js';
import { keysAt, suggestKey } from './suggest.js';

const MB = 1024 * 1024;

/** A size: a number of `bareUnit` bytes, or a string with a unit ("50MB", "1GiB"); returns bytes / bareUnit. */
const sizeField = (bareUnit: number) =>
  z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    try {
      return parseSize(v, 'size', bareUnit) / bareUnit;
    } catch {
      const eg = bareUnit === 1 ? SIZE_EXAMPLES : 'e.g. 256MB, 1GiB, or a number of MB';
      ctx.addIssue({ code: 'custom', message: `cannot read ${JSON.stringify(v)} as a size: ${eg}` });
      return z.NEVER;
    }
  }, z.number());

/** A per-second limit: a number, a string with a unit ("50MB", "20k"), or "off"/0/null for none. */
const rateField = (kind: 'bytes' | 'rows') =>
  z.preprocess((v, ctx) => {
    if (v === null || v === undefined) return v;
    try {
      return parseRate(v as string | number, 'rate', kind);
    } catch {
      const eg = kind === 'bytes' ? SIZE_EXAMPLES : 'e.g. 20000 or 20k';
      ctx.addIssue({
        code: 'custom',
        message: `cannot read ${JSON.stringify(v)} as ${kind} per second: ${eg}, or "off"`,
      });
      return z.NEVER;
    }
  }, z.number().nullable());

const tableOptions = z
  .object({
    /** Copy only these source columns (the others are left out of the target table). */
    columns: z.array(z.string().min(1)).optional(),
    /** Row filter, an SQL boolean expression over the source table's columns. */
    where: z.string().min(1).optional(),
    /** New table name on the target (same schema after schema mapping). */
    rename: z.string().min(1).max(63).optional(),
    /** Column renames: source column → target column. */
    columnMap: z.record(z.string(), z.string().min(1).max(63)).optional(),
  })
  .strict();

export const taskSchema = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'letters, digits, "_", "." and "-", starting with a letter or digit')
      .optional(),
    source: z.string().min(1),
    target: z.string().min(1),
    stateDir: z.string().optional(),
    jobs: z.number().int().min(1).max(64).default(4),
    indexJobs: z.number().int().min(1).max(64).optional(),
    includeSchemas: z.array(z.string()).default([]),
    excludeSchemas: z.array(z.string()).default([]),
    /** Table patterns `schema.table` with SQL quoting; `*` and `?` are globs. */
    includeTables: z.array(z.string()).default([]),
    excludeTables: z.array(z.string()).default([]),
    /** Triggers left out, as `schema.table.trigger` with SQL quoting. */
    excludeTriggers: z.array(z.string()).default([]),
    /** Per-table options keyed by `schema.table` (SQL quoting for odd names). */
    tables: z.record(z.string(), tableOptions).default({}),
    /** Schema renames: source schema → target schema. */
    mapSchemas: z.record(z.string(), z.string().min(1).max(63)).default({}),
    /** Target tables already there: error; skip (kept, must be empty); truncate (kept, emptied once); drop. */
    ifExists: z.enum(['error', 'skip', 'truncate', 'drop']).default('error'),
    /** Target schema holding pgferry's checkpoints (created, marked and removed by pgferry only). */
    stateSchema: z
      .string()
      .min(1)
      .max(63)
      .refine((s) => !/^pg_/i.test(s), 'names starting with pg_ are reserved')
      .default('pgferry'),
    ownerTo: z.string().optional(),
    noOwner: z.boolean().default(false),
    noAcl: z.boolean().default(false),
    /** Keep foreign keys whose parent table is not selected out of the target. */
    dropOrphanForeignKeys: z.boolean().default(false),
    allowDowngrade: z.boolean().default(false),
    /** After the copy, stream the source's changes from the copy's own slot snapshot until `finish`. */
    incremental: z.boolean().default(false),
    /**
     * Copy the units through a control database, by `pgferry worker`s on any host: the one `pgferry serve
     * --control` was given, or `migrate --distributed --control`.
     */
    distributed: z.boolean().optional(),
    skipChecks: z.array(z.string()).default([]),
    copy: z
      .object({
        /** Tables larger than this are split into several copy units (MB, or a size such as "1GB"). */
        splitThresholdMB: sizeField(MB).pipe(z.number().positive()).default(256),
        /** Target size of one unit of a split table (MB, or a size such as "64MB"). */
        unitMB: sizeField(MB).pipe(z.number().positive()).default(128),
        format: z.enum(['auto', 'binary', 'text']).default('auto'),
        maxRowsPerSec: rateField('rows').pipe(z.number().positive().nullable()).default(null),
        maxBytesPerSec: rateField('bytes').pipe(z.number().positive().nullable()).default(null),
        /** How long transient failures (lost connections, too many connections…) are retried. */
        retryTimeSec: z.number().int().min(0).default(1800),
      })
      .strict()
      .default({
        splitThresholdMB: 256,
        unitMB: 128,
        format: 'auto',
        maxRowsPerSec: null,
        maxBytesPerSec: null,
        retryTimeSec: 1800,
      }),
    verify: z.enum(['none', 'count', 'hash']).default('count'),
  })
  .strict()
  .superRefine((t, ctx) => {
    // An incremental copy reads its replication slot's exported snapshot, which lives on a replication
    // connection of the process that runs the task and that must run nothing else meanwhile.
    if (t.distributed === true && t.incremental) {
      ctx.addIssue({
        code: 'custom',
        path: ['distributed'],
        message: 'a distributed task cannot be incremental yet',
        params: {
          fix:
            'leave out distributed (--distributed) or incremental (--incremental): an incremental task ' +
            'copies in the process that runs it, with its own jobs',
        },
      });
    }
  });

export type TaskConfig = z.infer<typeof taskSchema>;
export type TableOptions = z.infer<typeof tableOptions>;

/** Load a task file (YAML or JSON — JSON is YAML) and validate it, naming line and field on error. */
export function loadTaskFile(path: string, overrides: Record<string, unknown> = {}): TaskConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PgferryError('usage', `cannot read task file ${path}: ${(e as Error).message}`, {
      hint: 'check the path given to --task',
    });
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  if (doc.errors.length) {
    const err = doc.errors[0];
    const pos = lc.linePos(err.pos[0]);
    throw new PgferryError('usage', `${path}:${pos.line}:${pos.col}: ${err.message.split('\n')[0]}`, {
      hint: 'fix the YAML/JSON syntax at that line',
    });
  }
  const raw = (doc.toJS() ?? {}) as Record<string, unknown>;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new PgferryError('usage', `${path}: a task file must be a mapping of settings`, {
      hint: 'see the README for the task file format',
    });
  }
  return validateTask({ ...raw, ...stripUndefined(overrides) }, (p) => {
    const node = nodeAt(doc.contents as YamlNode | null, p);
    if (!node?.range) return path;
    const pos = lc.linePos(node.range[0]);
    return `${path}:${pos.line}`;
  });
}

function nodeAt(node: YamlNode | null, path: (string | number)[]): YamlNode | null {
  let cur: YamlNode | null = node;
  let last: YamlNode | null = node;
  for (const key of path) {
    if (cur && isMap(cur)) {
      const pair = cur.items.find((i) => (i.key as { value?: unknown })?.value === key);
      if (!pair) return last;
      last = (pair.key as YamlNode) ?? last;
      cur = (pair.value as YamlNode) ?? null;
    } else if (cur && isSeq(cur)) {
      cur = (cur.items[key as number] as YamlNode) ?? null;
    } else return last;
    if (cur) last = cur;
  }
  return last;
}

function stripUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

export function validateTask(raw: unknown, where: (path: (string | number)[]) => string = () => 'task'): TaskConfig {
  const r = taskSchema.safeParse(raw);
  if (r.success) {
    for (const [key, o] of Object.entries(r.data.tables)) {
      if (o.where !== undefined) checkRowFilter(o.where, key, where(['tables', key, 'where']));
    }
    return r.data;
  }
  const issues = r.error.issues.slice(0, 10);
  const lines = issues.flatMap((i) => {
    const path = i.path as (string | number)[];
    if (i.code === 'unrecognized_keys') return i.keys.map((k) => unknownKeyLine([...path, k], where));
    return [`${where(path)}: ${path.join('.') || '(top level)'}: ${i.message}`];
  });
  // a rule between fields says its own fix
  const fixes = issues.map((i) => (i.code === 'custom' ? (i.params?.fix as string | undefined) : undefined));
  throw new PgferryError('usage', `invalid task:\n  ${lines.join('\n  ')}`, {
    hint: fixes.every((f) => f !== undefined)
      ? fixes.join('; ')
      : 'fix the fields named above; every task-file key is listed under "Task file keys" in the README',
  });
}

/** `file:line: copy.maxBytesPerSek: unknown key — did you mean "maxBytesPerSec"?` */
function unknownKeyLine(path: (string | number)[], where: (path: (string | number)[]) => string): string {
  const key = String(path[path.length - 1]);
  const known = keysAt(taskSchema, path.slice(0, -1));
  const guess = suggestKey(key, known);
  const tail = guess ? `did you mean "${guess}"?` : `known keys here: ${known.join(', ')}`;
  return `${where(path)}: ${path.join('.')}: unknown key — ${tail}`;
}

/** Merge flags into a config, then validate. */
export function taskFromFlags(flags: Record<string, unknown>): TaskConfig {
  return validateTask(stripUndefined(flags));
}
