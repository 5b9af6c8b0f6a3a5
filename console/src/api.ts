/** Calls to the pgferry serve API; a failed call throws an ApiError carrying the server's cause and fix. */
import type { CatalogSchema, CauseFix, PingReply, PrecheckReply, TaskDetail, TaskSummary } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: CauseFix,
  ) {
    super(body.cause);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, {
      cause: `the pgferry service did not answer (${(e as Error).message})`,
      fix: 'check that pgferry serve is still running, then try again',
    });
  }
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const err = (json as { error?: CauseFix } | null)?.error;
    throw new ApiError(
      res.status,
      err ?? { cause: `the service answered ${res.status} ${res.statusText}`, fix: 'see the server log' },
    );
  }
  return json as T;
}

/** POST …/cutover's answer (src/engine/cutover.ts CutoverResult), or the tables an undo let write again. */
export interface CutoverReply {
  already: boolean;
  steps: { step: string; durationMs: number }[];
  downtimeMs: number;
  readOnly: string[];
  readOnlyLifted?: string[];
  reverse?: { taskId: string; rollback: string };
}

export const api = {
  health: () => call<{ ok: boolean; version: string }>('GET', '/health'),
  testConnection: (connection: string) => call<PingReply>('POST', '/connections/test', { connection }),
  catalog: (connection: string) => call<{ schemas: CatalogSchema[] }>('POST', '/catalog', { connection }),
  tasks: () => call<{ tasks: TaskSummary[] }>('GET', '/tasks'),
  task: (id: string) => call<TaskDetail>('GET', `/tasks/${encodeURIComponent(id)}`),
  createTask: (task: unknown) => call<TaskDetail>('POST', '/tasks', task),
  updateTask: (id: string, task: unknown) => call<TaskDetail>('PUT', `/tasks/${encodeURIComponent(id)}`, task),
  deleteTask: (id: string) => call<unknown>('DELETE', `/tasks/${encodeURIComponent(id)}`),
  precheck: (id: string) => call<PrecheckReply>('POST', `/tasks/${encodeURIComponent(id)}/precheck`),
  lastPrecheck: (id: string) => call<PrecheckReply>('GET', `/tasks/${encodeURIComponent(id)}/precheck`),
  action: (id: string, verb: 'start' | 'pause' | 'resume' | 'stop' | 'verify' | 'finish') =>
    call<TaskDetail>('POST', `/tasks/${encodeURIComponent(id)}/${verb}`),
  setLimits: (id: string, limits: { rowsPerSec?: string; bytesPerSec?: string; jobs?: number }) =>
    call<unknown>('PATCH', `/tasks/${encodeURIComponent(id)}/limits`, limits),
  cutover: (id: string, body: { readOnly?: boolean; reverse?: boolean; timeoutSec?: number; undoReadOnly?: boolean }) =>
    call<CutoverReply>('POST', `/tasks/${encodeURIComponent(id)}/cutover`, body),
  report: (id: string) => call<Record<string, unknown>>('GET', `/tasks/${encodeURIComponent(id)}/report`),
  reportMarkdown: async (id: string): Promise<string | null> => {
    const res = await fetch(`/api/tasks/${encodeURIComponent(id)}/report.md`);
    if (res.status === 404) return null;
    if (!res.ok) throw new ApiError(res.status, { cause: `report.md: ${res.status}`, fix: 'see the server log' });
    return res.text();
  },
};

/** The cause and fix of any thrown value, for display. */
export function causeOf(e: unknown): CauseFix {
  if (e instanceof ApiError) return e.body;
  return { cause: (e as Error)?.message ?? String(e), fix: 'try again; see the server log if it persists' };
}
