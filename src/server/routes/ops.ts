/**
 * GET /healthz (liveness and readiness: the process answers and its task store is reachable; open
 * to probes without the token, the store's error shown only to a request that carries it) and
 * GET /metrics (Prometheus text format; needs the token unless the server runs with --metrics-public).
 */
import type { IncomingMessage } from 'node:http';
import { defaultRedactor } from '../../core/redact.js';
import type { TaskStore } from '../../state/store.js';
import type { ServiceMetrics } from '../metrics.js';
import { json, type Router } from '../router.js';

const STORE_TIMEOUT_MS = 5000;

/** Whether the store answers a listing within the timeout; the error when it does not. */
async function probeStore(store: TaskStore): Promise<{ ok: boolean; ms: number; error?: string }> {
  const t0 = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, fail) => {
    timer = setTimeout(() => fail(new Error(`no answer within ${STORE_TIMEOUT_MS / 1000} s`)), STORE_TIMEOUT_MS);
  });
  try {
    await Promise.race([store.list(), timeout]);
    return { ok: true, ms: Date.now() - t0 };
  } catch (e) {
    return { ok: false, ms: Date.now() - t0, error: defaultRedactor.redact((e as Error)?.message ?? String(e)) };
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutes(
  router: Router,
  o: {
    version: string;
    store: TaskStore;
    metrics: ServiceMetrics;
    metricsOpen: boolean;
    authenticated: (req: IncomingMessage) => boolean;
  },
): void {
  const started = Date.now();
  router
    .add(
      'GET',
      '/healthz',
      async (c) => {
        const store = await probeStore(o.store);
        if (!store.ok && !o.authenticated(c.req)) delete store.error;
        const ok = store.ok;
        const body = {
          ok,
          version: o.version,
          uptimeSec: Math.round((Date.now() - started) / 1000),
          checks: { store },
        };
        return json(body, ok ? 200 : 503);
      },
      { open: true },
    )
    .add('GET', '/metrics', async () => ({ status: 200, text: await o.metrics.text(), type: o.metrics.contentType }), {
      open: o.metricsOpen,
    });
}
