/**
 * Comparison helpers for end-to-end tests: per-table row hashes (order-independent) and a
 * schema fingerprint from the server's own pg_get_*def functions, for version pairs where
 * pg_dump 15 cannot dump the newer server.
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** table → "count:md5 of the sorted row md5s" for every user table (pgferry's schema excluded). */
export async function tableHashes(url: string): Promise<Record<string, string>> {
  return withClient(url, async (c) => {
    await c.query('SET extra_float_digits = 3');
    const t = await c.query<{ q: string; k: string }>(`
      SELECT format('%I.%I', n.nspname, c.relname) AS q, n.nspname || '.' || c.relname AS k
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgferry') AND n.nspname NOT LIKE 'pg_toast%'
      ORDER BY 2`);
    const out: Record<string, string> = {};
    for (const { q, k } of t.rows) {
      const r = await c.query<{ n: string; h: string | null }>(
        `SELECT count(*)::text AS n, md5(string_agg(h, '' ORDER BY h)) AS h FROM (SELECT md5(t::text) AS h FROM ${q} t) s`,
      );
      out[k] = `${r.rows[0].n}:${r.rows[0].h ?? ''}`;
    }
    return out;
  });
}

/** A normalised description of the user schema built from pg_get_*def, comparable across majors. */
export async function schemaFingerprint(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ line: string }>(`
      WITH ns AS (SELECT oid, nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog','information_schema','pgferry') AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%')
      SELECT 'column ' || ns.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
             || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
             || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
             || CASE WHEN coalesce(to_jsonb(a) ->> 'attidentity', '') <> '' THEN ' identity ' || (to_jsonb(a) ->> 'attidentity') ELSE '' END AS line
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
      WHERE c.relkind IN ('r','p','v','m','f')
      UNION ALL
      SELECT 'constraint ' || ns.nspname || '.' || cl.relname || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
      FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN ns ON ns.oid = cl.relnamespace
      UNION ALL
      SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class cl ON cl.oid = i.indrelid JOIN ns ON ns.oid = cl.relnamespace
      UNION ALL
      SELECT 'view ' || ns.nspname || '.' || c.relname || ' ' || regexp_replace(pg_get_viewdef(c.oid), '\\s+', ' ', 'g')
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('v', 'm')
      UNION ALL
      SELECT 'function ' || regexp_replace(pg_get_functiondef(p.oid), '\\s+', ' ', 'g')
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace WHERE coalesce(to_jsonb(p) ->> 'prokind', 'f') IN ('f', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')
      UNION ALL
      SELECT 'trigger ' || pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class cl ON cl.oid = t.tgrelid JOIN ns ON ns.oid = cl.relnamespace WHERE NOT t.tgisinternal
      UNION ALL
      SELECT 'sequence ' || ns.nspname || '.' || c.relname FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind = 'S'
      UNION ALL
      SELECT 'type ' || ns.nspname || '.' || t.typname || ' ' || t.typtype::text || coalesce(' ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
      FROM pg_type t JOIN ns ON ns.oid = t.typnamespace WHERE t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
      UNION ALL
      SELECT 'comment ' || d.classoid::regclass::text || ' ' || d.objsubid || ' ' || d.description
      FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND c.oid = d.objoid JOIN ns ON ns.oid = c.relnamespace
      ORDER BY 1`);
    return r.rows.map((x) => x.line);
  });
}

/** pg_dump --schema-only with ownership, ACLs, pgferry's schema and version noise removed. */
export function dumpSchema(url: string): string {
  const text = execFileSync(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-acl', '--exclude-schema=pgferry', '-d', url],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return text
    .split('\n')
    .filter(
      (l) =>
        !/^\\(un)?restrict /.test(l) &&
        !/^-- Dumped (from|by)/.test(l) &&
        !/^SET /.test(l) &&
        !/^SELECT pg_catalog.set_config/.test(l),
    )
    .join('\n')
    .replace(/\n{3,}/g, '\n\n');
}
