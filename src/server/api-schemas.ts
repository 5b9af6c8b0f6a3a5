/**
 * The API's own shapes as zod schemas: request bodies are validated with them (tasks with the task
 * file's schema from core/config.ts), and /api/openapi.json is generated from them.
 */
import { z } from 'zod';

export const TASK_STATUSES = [
  'created',
  'prechecking',
  'running',
  'paused',
  'failed',
  'retrying',
  'stopped',
  'done',
  'mismatch',
] as const;

export const apiError = z.object({
  error: z.object({
    cause: z.string(),
    fix: z.string(),
    code: z.string(),
    field: z.string().optional(),
  }),
});

const connectionObject = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).optional(),
    database: z.string().min(1),
    user: z.string().min(1),
    password: z.string().optional(),
    sslmode: z.enum(['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']).optional(),
    sslrootcert: z.string().optional(),
  })
  .strict();

export const connectionBody = z.object({ connection: z.union([z.string().min(1), connectionObject]) }).strict();
export type ConnectionBody = z.infer<typeof connectionBody>;

export const connectionTestResult = z.object({
  ok: z.boolean(),
  serverVersion: z.string().optional(),
  latencyMs: z.number().optional(),
  error: apiError.shape.error.optional(),
});

export const catalogResult = z.object({
  schemas: z.array(
    z.object({
      name: z.string(),
      tables: z.array(
        z.object({
          name: z.string(),
          kind: z.string(),
          rowEstimate: z.number(),
          bytes: z.number(),
          columns: z.array(z.object({ name: z.string(), type: z.string(), nullable: z.boolean() })),
        }),
      ),
    }),
  ),
});

/** A rate: a number, a string with a unit ("50MB", "20k"), or null / "off" for no limit. */
const rate = z.union([z.number().nonnegative(), z.string().min(1), z.null()]);
export const limitsBody = z
  .object({
    rowsPerSec: rate.optional(),
    bytesPerSec: rate.optional(),
    jobs: z.number().int().min(1).max(64).optional(),
  })
  .strict();

export const limits = z.object({
  rowsPerSec: z.number().nullable().optional(),
  bytesPerSec: z.number().nullable().optional(),
  jobs: z.number(),
  paused: z.boolean().optional(),
});
export type Limits = z.infer<typeof limits>;

export const progress = z.object({
  rowsDone: z.number(),
  rowsTotal: z.number(),
  bytesDone: z.number(),
  bytesTotal: z.number(),
  rowsPerSec: z.number(),
  etaSec: z.number().nullable(),
});

export const taskSummary = z.object({
  id: z.string(),
  status: z.enum(TASK_STATUSES),
  phase: z.string().nullable(),
  progress: progress.optional(),
  attempts: z.number(),
  nextAttemptAt: z.string().optional(),
  error: z.object({ cause: z.string(), fix: z.string() }).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  /** Additive: who runs the task (this server, or another process such as `pgferry migrate`). */
  runner: z.enum(['server', 'other', 'none']).optional(),
  /** Additive: about another runner that has stopped renewing its lease ("owner unreachable, lease expires in N s"). */
  runnerNote: z.string().optional(),
});
export type TaskSummary = z.infer<typeof taskSummary>;

export const STAGE_NAMES = ['precheck', 'schema', 'data', 'post-data', 'verify'] as const;

export const stage = z.object({
  name: z.enum(STAGE_NAMES),
  status: z.enum(['pending', 'running', 'done', 'failed']),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  durationMs: z.number().optional(),
});
export type Stage = z.infer<typeof stage>;

export const tableRow = z.object({
  name: z.string(),
  rowsDone: z.number(),
  rowsTotal: z.number(),
  bytesDone: z.number(),
  status: z.enum(['pending', 'copying', 'done']),
});
export type TableRow = z.infer<typeof tableRow>;

export const taskDetail = taskSummary.extend({
  config: z.record(z.string(), z.unknown()),
  stages: z.array(stage),
  tables: z.array(tableRow),
  limits,
  cleanupSql: z.string().optional(),
});
export type TaskDetail = z.infer<typeof taskDetail>;

export const precheckResult = z.object({
  ok: z.boolean(),
  items: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      result: z.enum(['pass', 'warning', 'fail', 'skipped']),
      message: z.string(),
      objects: z.array(z.string()),
      fix: z.string().optional(),
    }),
  ),
});
