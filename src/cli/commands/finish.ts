/**
 * `pgferry finish`: after the switch-over, remove what the migration left behind — the task's
 * checkpoints on the target (the checkpoint schema goes with the last task in it) — and print
 * (optionally run) the SQL that removes the migration accounts. Refuses while the task still
 * runs, here or anywhere: its lock on the target is held.
 */
import { createInterface } from 'node:readline/promises';
import { Command, Option } from 'commander';
import type pg from 'pg';
import { withClient } from '../../pg/connect.js';
import { describeConn, resolveConnSpec, type ConnSpec } from '../../pg/connstring.js';
import { PgferryError } from '../../core/errors.js';
import { listTasks } from '../../stages/report/status.js';
import { DEFAULT_STATE_SCHEMA } from '../../state/checkpoint.js';
import { removeTaskCheckpoints } from '../../state/checkpoint-remove.js';
import { StateDir } from '../../state/state-dir.js';
import { finishCapture } from '../../engine/finish-capture.js';
import { describeHolder, taskLockHolder, tryTaskLock } from '../../engine/tasklock.js';
import { quoteIdent } from '../../core/ident.js';
import {
  accountCleanupLines,
  accountStatements,
  APP_OWNER_PLACEHOLDER,
  type AccountPlan,
  roleInfo,
} from '../../stages/finish/accounts.js';
import { EXIT } from '../exit.js';
import { out } from '../output.js';
import type { TaskStore } from '../../state/store.js';
import { storeOption, withStore } from '../store-option.js';

export interface FinishOptions {
  task?: string;
  stateDir?: string;
  target: string;
  /** The task's checkpoint schema (default: as recorded in its state dir, else pgferry). */
  stateSchema?: string;
  source?: string;
  adminSource?: string;
  adminTarget?: string;
  /** Role that takes over what the migration account owns on the target (REASSIGN OWNED … TO). */
  appOwner?: string;
  dropAccounts?: boolean;
  yes?: boolean;
  /** The task store holding the tasks' records (`--store`; default: the state dir). */
  store?: TaskStore;
}

export interface FinishResult {
  droppedSchema: boolean;
  /** Tasks whose checkpoints were removed, and tasks whose checkpoints stay in the schema. */
  removedTasks: string[];
  tasksLeft: string[];
  accounts: AccountPlan[];
  executed: ('source' | 'target')[];
}

export interface FinishIo {
  log(text: string): void;
  confirm(question: string): Promise<boolean>;
}

/** The tasks to finish: the one named, else every task in the task store or the state dir. */
async function taskNames(o: FinishOptions): Promise<string[]> {
  if (o.store) {
    if (o.task) return [o.task];
    const names = (await o.store.list()).map((r) => r.id);
    if (!names.length) {
      throw new PgferryError('usage', 'no task named and no task in the task store', {
        hint: 'name the task: pgferry finish <task> --store URL --target URL',
      });
    }
    return names;
  }
  const names = o.task ? [o.task] : listTasks(StateDir.rootFor(o.stateDir));
  if (!names.length) {
    throw new PgferryError('usage', `no task named and no task in the state dir ${StateDir.rootFor(o.stateDir)}`, {
      hint: "name the task: pgferry finish <task> --target URL (its checkpoints are removed, other tasks' stay)",
    });
  }
  return names;
}

/** The checkpoint schema: given, else recorded by the task's run in its state dir, else the default. */
async function stateSchemaOf(o: FinishOptions, names: string[]): Promise<string> {
  if (o.stateSchema) return o.stateSchema;
  if (o.store) {
    for (const n of names) {
      const schema = (await o.store.get(n))?.config.stateSchema;
      if (typeof schema === 'string') return schema;
    }
    return DEFAULT_STATE_SCHEMA;
  }
  const root = StateDir.rootFor(o.stateDir);
  for (const n of names) {
    try {
      const t = new StateDir(root, n).readJson<{ config?: { stateSchema?: string } }>('task.json');
      if (t?.config?.stateSchema) return t.config.stateSchema;
    } catch {
      /* unreadable state: fall back to the default */
    }
  }
  return DEFAULT_STATE_SCHEMA;
}

/**
 * Refuse while one of the tasks runs: its local pid lock is live, or its lock on the target is held.
 * The finish session takes the tasks' locks itself, so no run can start while their checkpoints go.
 */
async function assertNotRunning(o: FinishOptions, names: string[], target: pg.Client): Promise<void> {
  const root = StateDir.rootFor(o.stateDir);
  for (const n of names) {
    const held = await o.store?.currentLease(n);
    if (held) {
      throw new PgferryError('state', `task "${n}" is still running (${held.holder}, lease until ${held.expiresAt})`, {
        hint: 'stop that run first (it resumes later if needed) — finish removes the checkpoints a running task writes to',
      });
    }
    const pid = o.store ? undefined : new StateDir(root, n).runningPid();
    if (pid !== undefined) {
      throw new PgferryError('state', `task "${n}" is still running (pid ${pid})`, {
        hint: `stop it first (kill ${pid}, it resumes later if needed) — finish removes the checkpoints a running task writes to`,
      });
    }
    if (!(await tryTaskLock(target, n))) {
      const holder = await taskLockHolder(target, n);
      const who = holder ? describeHolder(holder) : 'its lock is held by a session this user cannot see';
      throw new PgferryError('state', `task "${n}" is still running against the target (${who})`, {
        hint:
          'a run of this task (maybe from another machine) holds its lock: stop it before finishing, ' +
          'or end that session',
      });
    }
  }
}

export async function finishTask(o: FinishOptions, io: FinishIo): Promise<FinishResult> {
  const targetSpec = resolveConnSpec(o.target);
  const sourceSpec = o.source ? resolveConnSpec(o.source) : undefined;
  const result: FinishResult = { droppedSchema: false, removedTasks: [], tasksLeft: [], accounts: [], executed: [] };
  const names = await taskNames(o);
  const schema = await stateSchemaOf(o, names);
  // Incremental tasks: the change capture ends first (cut over through the engine while a run streams).
  await finishCapture({
    names,
    schema,
    stateDir: o.stateDir,
    store: o.store,
    target: o.target,
    source: o.source,
    log: (text) => io.log(text),
  });

  await withClient(targetSpec, { label: 'target', role: 'finish' }, async (c) => {
    await assertNotRunning(o, names, c);
    const r = await removeTaskCheckpoints(c, schema, names);
    Object.assign(result, { droppedSchema: r.droppedSchema, removedTasks: r.removed, tasksLeft: r.left });
    for (const n of r.removed) await o.store?.update(n, { status: 'finished', phase: 'finish' });
    io.log(`target ${describeConn(targetSpec)}: ${finishSummary(schema, r)}`);
    result.accounts.push(accountStatements('target', targetSpec.user, await roleInfo(c, targetSpec.user), o.appOwner));
  });
  if (sourceSpec) {
    const info = await withClient(sourceSpec, { label: 'source', role: 'finish' }, (c) => roleInfo(c, sourceSpec.user));
    result.accounts.push(accountStatements('source', sourceSpec.user, info, o.appOwner));
  }

  const specs: Record<'source' | 'target', ConnSpec | undefined> = { source: sourceSpec, target: targetSpec };
  const admins: Record<'source' | 'target', string | undefined> = { source: o.adminSource, target: o.adminTarget };
  io.log('');
  const where = { source: sourceSpec && describeConn(sourceSpec), target: describeConn(targetSpec) };
  for (const line of accountCleanupLines(result.accounts, where)) io.log(line);

  if (!o.dropAccounts) return result;

  // Decide per side whether the statements can run, before asking.
  const runnable: { plan: AccountPlan; admin: ConnSpec }[] = [];
  const refusals: string[] = [];
  for (const a of result.accounts) {
    if (a.statements.length === 0) continue;
    if (a.blocked) {
      refusals.push(`${a.side}: ${a.blocked}`);
      continue;
    }
    const adminText = admins[a.side];
    if (!adminText) {
      refusals.push(
        `${a.side}: pgferry is connected as ${a.role}, the role to drop — a session cannot drop its own role. Pass --admin-${a.side} URL connecting as another role (superuser, or CREATEROLE and a member of both ${a.role} and the new owner)`,
      );
      continue;
    }
    const admin = resolveConnSpec(adminText);
    if (admin.user === a.role) {
      refusals.push(`${a.side}: --admin-${a.side} connects as ${a.role} too; it must be another role`);
      continue;
    }
    if (a.statements.some((s) => s.includes(APP_OWNER_PLACEHOLDER))) {
      refusals.push(
        `${a.side}: pass --app-owner ROLE, the role that should own what ${a.role} owns now (REASSIGN OWNED)`,
      );
      continue;
    }
    runnable.push({ plan: a, admin });
  }
  if (refusals.length) {
    throw new PgferryError('usage', `not dropping the migration accounts:\n  ${refusals.join('\n  ')}`, {
      hint: 'fix the above, or run the printed SQL yourself',
    });
  }
  if (runnable.length === 0) return result;
  if (!o.yes) {
    const what = runnable
      .map((r) => `${r.plan.role} on the ${r.plan.side} (${describeConn(specs[r.plan.side]!)})`)
      .join(' and ');
    if (!(await io.confirm(`Drop ${what} now? Type "yes" to continue: `))) {
      throw new PgferryError('usage', 'not confirmed: the accounts were left in place', {
        hint: 'answer "yes", or pass --yes',
      });
    }
  }
  for (const r of runnable) {
    await withClient(r.admin, { label: `${r.plan.side} (admin)`, role: 'finish' }, async (c) => {
      await c.query('BEGIN');
      try {
        for (const s of r.plan.statements) await c.query(s);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw new PgferryError('schema', `${r.plan.side}: removing ${r.plan.role} failed: ${(e as Error).message}`, {
          hint: 'the role may own objects or hold privileges in other databases: run REASSIGN OWNED / DROP OWNED there first',
        });
      }
    });
    result.executed.push(r.plan.side);
    io.log(`${r.plan.side}: dropped role ${r.plan.role}`);
  }
  return result;
}

function finishSummary(schema: string, r: Awaited<ReturnType<typeof removeTaskCheckpoints>>): string {
  const q = quoteIdent(schema);
  if (r.kind === 'absent') return `no pgferry checkpoint schema ${q} (already finished)`;
  if (r.kind === 'foreign') return `schema ${q} was not created by pgferry: left untouched`;
  const parts = [
    r.removed.length ? `removed the checkpoints of ${r.removed.join(', ')}` : 'no checkpoints of the task',
  ];
  if (r.droppedSchema) parts.push(`dropped the checkpoint schema ${q}`);
  else if (r.left.length) parts.push(`kept schema ${q} for task(s) ${r.left.join(', ')}`);
  if (r.keptBecause) parts.push(r.keptBecause);
  return parts.join('; ');
}

async function ttyConfirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) return false;
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return (await rl.question(question)).trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

export function finishCommand(): Command {
  return new Command('finish')
    .description(
      "after switching to the target: remove the task's checkpoints on the target (the checkpoint schema with the last task) and print (with --drop-accounts, run) the SQL removing the migration accounts. Refuses while the task runs",
    )
    .argument('[task]', 'task name (checked for a running process; default: every task in the state dir)')
    .addOption(
      new Option('--state-dir <dir>', 'root of task state directories (default ./.pgferry)').env('PGFERRY_STATE_DIR'),
    )
    .option('-t, --target <conninfo>', 'target database (as used by the migration)')
    .option('--state-schema <name>', 'checkpoint schema of the task (default: as the task ran, else pgferry)')
    .option('-s, --source <conninfo>', 'source database (as used by the migration), to include its account')
    .option('--drop-accounts', 'run the printed account SQL (asks for confirmation unless --yes)')
    .option('--admin-target <conninfo>', 'connect as this other role to drop the target migration account')
    .option('--admin-source <conninfo>', 'connect as this other role to drop the source migration account')
    .option(
      '--app-owner <role>',
      'role that takes over the objects owned by the migration account (REASSIGN OWNED … TO)',
    )
    .option('-y, --yes', 'do not ask for confirmation')
    .addOption(storeOption('read the tasks and record them finished'))
    .action(async (task: string | undefined, flags: Omit<FinishOptions, 'task' | 'store'> & { store?: string }) => {
      const { store, ...o } = flags;
      const target = o.target ?? process.env.PGFERRY_TARGET;
      if (!target)
        throw new PgferryError('usage', 'no target given', {
          hint: 'pass --target URL (the database the task migrated into)',
        });
      const run = (s?: TaskStore) =>
        finishTask(
          { ...o, task, target, source: o.source ?? process.env.PGFERRY_SOURCE, store: s },
          { log: out, confirm: ttyConfirm },
        );
      await (store ? withStore(store, run) : run());
      process.exitCode = EXIT.ok;
    });
}
