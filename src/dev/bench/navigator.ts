/**
 * Imported first by the bench's pgferry runner, as bin/pgferry.js does before it loads pgferry: the
 * `navigator` global of Node 21+ on Node 20, so that pg's Cloudflare check does not load Node's fetch.
 */
(globalThis as { navigator?: unknown }).navigator ??= { userAgent: `Node.js/${process.versions.node.split('.')[0]}` };
