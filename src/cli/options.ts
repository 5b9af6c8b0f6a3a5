/**
 * Flags shared by the commands that take a task (plan, precheck, migrate, verify): connection
 * strings, task file, selection and mapping. Turned into one validated TaskConfig.
 */
import { type Command, Option } from 'commander';
import { loadTaskFile, validateTask, type TaskConfig } from '../core/config.js';
import { PgferryError } from '../core/errors.js';
import { resolveConnSpec, type ConnSpec } from '../pg/connstring.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function addConnectionOptions(cmd: Command, opts: { target: 'required' | 'optional' | 'none' }): Command {
  cmd.addOption(
    new Option(
      '-s, --source <conninfo>',
      'source database: libpq URI or "key=value" string (PG* variables and ~/.pgpass apply)',
    ).env('PGFERRY_SOURCE'),
  );
  if (opts.target !== 'none') {
    cmd.addOption(
      new Option('-t, --target <conninfo>', 'target database: libpq URI or "key=value" string').env('PGFERRY_TARGET'),
    );
  }
  return cmd;
}

export function addTaskOptions(cmd: Command): Command {
  return cmd
    .option('--task <file>', 'task file (YAML or JSON); flags override its settings')
    .option('--name <name>', 'task name (state dir and checkpoint id); default derived from source and target')
    .option('--state-dir <dir>', 'root of task state directories (default ./.pgferry, or $PGFERRY_STATE_DIR)')
    .option('--include-schema <name>', 'migrate only these schemas (repeatable)', collect)
    .option('--exclude-schema <name>', 'leave these schemas out (repeatable)', collect)
    .option(
      '--include-table <pattern>',
      'migrate only these tables, schema.table with SQL quoting, globs * and ? (repeatable)',
      collect,
    )
    .option('--exclude-table <pattern>', 'leave these tables out (repeatable)', collect)
    .option('--exclude-trigger <schema.table.trigger>', 'leave this trigger out (repeatable)', collect)
    .option('--map-schema <old=new>', 'create source schema old as new on the target (repeatable)', collect)
    .addOption(
      new Option(
        '--if-exists <mode>',
        'objects already on the target: error, skip, truncate (keep tables, empty them once) or drop',
      ).choices(['error', 'skip', 'truncate', 'drop']),
    )
    .option('--state-schema <name>', "target schema for pgferry's checkpoints (default pgferry)")
    .option('--owner-to <role>', 'make this role the owner of every created object')
    .option('--no-owner', 'do not set owners (objects belong to the target user)')
    .option('--no-acl', 'do not copy GRANTs/REVOKEs');
}

function parseMap(items: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!items) return undefined;
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1) {
      throw new PgferryError('usage', `${flag} ${JSON.stringify(item)}: expected old=new`, {
        hint: `e.g. ${flag} public=app`,
      });
    }
    const from = item.slice(0, eq);
    if (Object.hasOwn(out, from) && out[from] !== item.slice(eq + 1)) {
      throw new PgferryError('usage', `${flag} ${from}=${out[from]} and ${flag} ${item} map one schema twice`, {
        hint: `give one ${flag} per source schema`,
      });
    }
    out[from] = item.slice(eq + 1);
  }
  return out;
}

/** Build the task from a task file (if any) and flags. `extra` adds command-specific settings. */
export function taskFromOptions(o: Record<string, any>, extra: Record<string, unknown> = {}): TaskConfig {
  const task = taskFromFlags(o, extra);
  // $PGFERRY_STATE_DIR comes after --state-dir and the task file's stateDir
  const envStateDir = process.env.PGFERRY_STATE_DIR;
  return task.stateDir === undefined && envStateDir !== undefined ? { ...task, stateDir: envStateDir } : task;
}

function taskFromFlags(o: Record<string, any>, extra: Record<string, unknown>): TaskConfig {
  const flags: Record<string, unknown> = {
    name: o.name,
    source: o.source,
    target: o.target ?? (o.requireTarget === false ? '-' : undefined),
    stateDir: o.stateDir,
    includeSchemas: o.includeSchema,
    excludeSchemas: o.excludeSchema,
    includeTables: o.includeTable,
    excludeTables: o.excludeTable,
    excludeTriggers: o.excludeTrigger,
    mapSchemas: parseMap(o.mapSchema, '--map-schema'),
    ifExists: o.ifExists,
    stateSchema: o.stateSchema,
    ownerTo: o.ownerTo,
    // commander turns --no-owner into owner=false (default true)
    noOwner: o.owner === false ? true : undefined,
    noAcl: o.acl === false ? true : undefined,
    ...extra,
  };
  for (const k of Object.keys(flags)) if (flags[k] === undefined) delete flags[k];
  if (o.task) return loadTaskFile(o.task, flags);
  if (!flags.source)
    throw new PgferryError('usage', 'no source given', {
      hint: 'pass --source URL (or set PGFERRY_SOURCE, or use --task FILE)',
    });
  if (!flags.target)
    throw new PgferryError('usage', 'no target given', {
      hint: 'pass --target URL (or set PGFERRY_TARGET, or use --task FILE)',
    });
  return validateTask(flags);
}

export function specs(task: TaskConfig): { source: ConnSpec; target: ConnSpec } {
  return { source: resolveConnSpec(task.source), target: resolveConnSpec(task.target) };
}
