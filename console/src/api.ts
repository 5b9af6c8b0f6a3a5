/**
 * Calls to the pgferry serve API; a failed call throws an ApiError carrying the server's cause and fix.
 * Every call carries `Authorization: Bearer <token>`: the token comes from the console URL's
 * ?token=… once (then kept in sessionStorage and removed from the address bar) or from the token
 * form. No cookie is used, so another site's page cannot call the API with the browser's credentials.
 */
import type { CatalogSchema, CauseFix, PingReply, PrecheckReply, TaskDetail, TaskSummary } from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: CauseFix,
  ) {
    super(body.cause);
  }
}

const TOKEN_KEY = 'pgferry-token';
let tokenValue: string | null = null;
const tokenListeners = new Set<(state: TokenState) => void>();

/** none: no token yet; rejected: the server refused the one held; ok: held and not refused. */
export type TokenState = 'none' | 'rejected' | 'ok';
let tokenState: TokenState = 'none';

function setTokenState(s: TokenState): void {
  tokenState = s;
  for (const fn of tokenListeners) fn(s);
}

/** Take the token from ?token=… (once, then out of the address bar and history) or sessionStorage. */
export function initToken(): TokenState {
  const url = new URL(location.href);
  const fromUrl = url.searchParams.get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    url.searchParams.delete('token');
    history.replaceState(history.state, '', url.pathname + url.search + url.hash);
  }
  tokenValue = sessionStorage.getItem(TOKEN_KEY);
  setTokenState(tokenValue ? 'ok' : 'none');
  return tokenState;
}

export function setToken(token: string): void {
  tokenValue = token.trim();
  sessionStorage.setItem(TOKEN_KEY, tokenValue);
  setTokenState('ok');
}

/** Whether the server takes `token` (checked before the console keeps it); a failure to reach it throws. */
export async function tokenAccepted(token: string): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch('/api/health', { headers: { authorization: `Bearer ${token.trim()}` }, credentials: 'omit' });
  } catch (e) {
    throw new ApiError(0, {
      cause: `the pgferry service did not answer (${(e as Error).message})`,
      fix: 'check that pgferry serve is still running, then try again',
    });
  }
  if (res.status === 401) return false;
  if (!res.ok)
    throw new ApiError(res.status, { cause: `the service answered ${res.status}`, fix: 'see the server log' });
  return true;
}

export const currentTokenState = () => tokenState;

/** Told when the token is set, or refused by the server (then the console asks for it). */
export function onTokenState(fn: (s: TokenState) => void): () => void {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

/** fetch() on the API with the token; a 401 marks the token rejected. */
export async function authFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (tokenValue) headers.set('authorization', `Bearer ${tokenValue}`);
  const res = await fetch(path, { ...init, headers, credentials: 'omit' });
  if (res.status === 401) setTokenState(tokenValue ? 'rejected' : 'none');
  return res;
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await authFetch(`/api${path}`, {
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
  health: () => call<{ ok: boolean; version: string; distributed?: boolean }>('GET', '/health'),
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
    const res = await authFetch(`/api/tasks/${encodeURIComponent(id)}/report.md`);
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
