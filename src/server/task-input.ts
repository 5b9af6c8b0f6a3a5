/**
 * A task given in a request body: validated with the task file's schema (core/config.ts), its id
 * (the name, or the one derived from the endpoints as `migrate` does), its connection strings as
 * given (kept encrypted, see secrets.ts) and the config to store (connection strings without
 * passwords, no state dir: the server's data dir is every task's).
 */
import { taskSchema, validateTask, type TaskConfig } from '../core/config.js';
import { PgferryError } from '../core/errors.js';
import { Redactor } from '../core/redact.js';
import { resolveConnSpec, toSafeUri } from '../pg/connstring.js';
import { taskIdFor } from '../engine/runner.js';
import { checkTaskId } from '../state/store.js';
import { badRequest } from './http-error.js';
import type { TaskSecrets } from './secrets.js';

export interface TaskInput {
  id: string;
  task: TaskConfig;
  secrets: TaskSecrets;
  /** The task as stored: source and target without passwords, no stateDir. */
  config: Record<string, unknown>;
}

/** The first field zod complains about, for `error.field`. */
function firstField(raw: unknown): string | undefined {
  const r = taskSchema.safeParse(raw);
  if (r.success) return undefined;
  const i = r.error.issues[0];
  const path = [...(i.path as (string | number)[]), ...(i.code === 'unrecognized_keys' ? [i.keys[0]] : [])];
  return path.join('.') || undefined;
}

export function readTaskBody(raw: unknown, dataDir: string, idFromPath?: string): TaskInput {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
    throw badRequest(
      'the body must be a task: a JSON object',
      'send { "name", "source", "target", … } as in a task file',
    );
  }
  const body = { ...(raw as Record<string, unknown>) };
  if (body.stateDir !== undefined) {
    throw badRequest(
      'stateDir cannot be set through the API',
      'leave it out: the server keeps every task under its --data-dir',
      'stateDir',
    );
  }
  if (idFromPath !== undefined && body.name !== undefined && body.name !== idFromPath) {
    throw badRequest(
      `the body names task "${String(body.name)}", the path "${idFromPath}"`,
      'leave name out or make it equal',
      'name',
    );
  }
  if (idFromPath !== undefined) body.name = idFromPath;
  let task: TaskConfig;
  try {
    task = validateTask(body);
  } catch (e) {
    if (e instanceof PgferryError) throw badRequest(e.message, e.hint ?? 'fix the task', firstField(body));
    throw e;
  }
  const redactor = new Redactor();
  const source = resolveConnSpec(task.source, { redactor });
  const target = resolveConnSpec(task.target, { redactor });
  const id = taskIdFor(task, source, target);
  checkTaskId(id);
  const { stateDir: _unused, ...rest } = task;
  const config = { ...rest, name: id, source: toSafeUri(source), target: toSafeUri(target) };
  return {
    id,
    task: { ...task, name: id, stateDir: dataDir },
    secrets: { source: task.source, target: task.target },
    config,
  };
}

/** The task to run from its stored config and its connection strings (as given, or the stored ones). */
export function runnableTask(
  id: string,
  config: Record<string, unknown>,
  dataDir: string,
  secrets?: TaskSecrets,
): TaskConfig {
  const { version: _v, ...cfg } = config;
  return validateTask({ ...cfg, name: id, stateDir: dataDir, ...(secrets ?? {}) });
}

/** The connection strings with their passwords replaced by ********. */
export function maskedConfig(config: Record<string, unknown>, secrets?: TaskSecrets): Record<string, unknown> {
  if (!secrets) return config;
  const r = new Redactor();
  resolveConnSpec(secrets.source, { redactor: r });
  resolveConnSpec(secrets.target, { redactor: r });
  return { ...config, source: r.redact(secrets.source), target: r.redact(secrets.target) };
}
