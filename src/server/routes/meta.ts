/** GET /api/health and GET /api/openapi.json. */
import { openApiDocument } from '../openapi.js';
import { json, type Router } from '../router.js';

/** `distributed`: the server has a control database (tasks may run on workers). */
export function metaRoutes(router: Router, version: string, can: { distributed: boolean }): void {
  let doc: Record<string, unknown> | undefined;
  router
    .add('GET', '/api/health', () => json({ ok: true, version, distributed: can.distributed }))
    .add('GET', '/api/openapi.json', () => json((doc ??= openApiDocument(version))));
}
