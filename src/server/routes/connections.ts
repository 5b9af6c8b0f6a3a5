/** POST /api/connections/test (ping) and POST /api/catalog (the object picker's schemas and tables). */
import { Redactor } from '../../core/redact.js';
import { withClient } from '../../pg/connect.js';
import { resolveConnSpec, type ConnSpec } from '../../pg/connstring.js';
import { ping } from '../../pg/ping.js';
import { connectionBody, type ConnectionBody } from '../api-schemas.js';
import { readCatalog } from '../catalog-query.js';
import { badRequest, toApiError } from '../http-error.js';
import { json, type Router } from '../router.js';

/** A keyword/value value, quoted as libpq reads it. */
const kv = (v: string | number) => `'${String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The connection of a body: a connection string, or its parts. */
export function connectionText(c: ConnectionBody['connection']): string {
  if (typeof c === 'string') return c;
  const parts: [string, string | number | undefined][] = [
    ['host', c.host],
    ['port', c.port],
    ['dbname', c.database],
    ['user', c.user],
    ['password', c.password],
    ['sslmode', c.sslmode],
    ['sslrootcert', c.sslrootcert],
  ];
  return parts.flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${kv(v)}`])).join(' ');
}

function readConnection(raw: unknown, redactor: Redactor): ConnSpec {
  const r = connectionBody.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    const field = ['connection', ...i.path.slice(1)].join('.');
    throw badRequest(
      `${field}: ${i.message}`,
      'send { "connection": "postgresql://user@host/db" } or its parts',
      field,
    );
  }
  return resolveConnSpec(connectionText(r.data.connection), { redactor });
}

export function connectionRoutes(router: Router): void {
  router
    .add('POST', '/api/connections/test', async (c) => {
      const redactor = new Redactor();
      const spec = readConnection(await c.body(), redactor);
      const r = await ping(spec, 'connection');
      if (r.ok) return json({ ok: true, serverVersion: r.serverVersion, latencyMs: r.latencyMs });
      const error = { cause: redactor.redact(r.message), fix: redactor.redact(r.hint), code: r.cause };
      return json({ ok: false, error });
    })
    .add('POST', '/api/catalog', async (c) => {
      const redactor = new Redactor();
      const spec = readConnection(await c.body(), redactor);
      try {
        const schemas = await withClient(spec, { label: 'catalog', role: 'catalog' }, readCatalog);
        return json({ schemas });
      } catch (e) {
        const { status, body } = toApiError(redactor.scrubError(e), redactor);
        return json(body, status);
      }
    });
}
