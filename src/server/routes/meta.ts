/** GET /api/health and GET /api/openapi.json. */
import { openApiDocument } from '../openapi.js';
import { json, type Router } from '../router.js';

export function metaRoutes(router: Router, version: string): void {
  let doc: Record<string, unknown> | undefined;
  router
    .add('GET', '/api/health', () => json({ ok: true, version }))
    .add('GET', '/api/openapi.json', () => json((doc ??= openApiDocument(version))));
}
