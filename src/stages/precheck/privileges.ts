/**
 * privileges.source: CONNECT, USAGE on each selected schema, SELECT on each selected table and
 * sequence. privileges.target: CREATE on the database (checkpoint schema, new schemas) and on
 * each existing target schema (or its ownership), and the right to create needed extensions.
 */
import { qualify, quoteIdent } from '../../core/ident.js';
import { failed, passed, plural, type CheckDef } from './types.js';
import { neededExtensions } from './extensions.js';

export const privilegesSource: CheckDef = {
  id: 'privileges.source',
  title: 'Source privileges',
  level: 'error',
  needs: ['source', 'model'],
  async run(ctx) {
    const c = ctx.source!;
    const m = ctx.model!;
    if (m.superuser) return passed(`${m.user} is a superuser`);
    const who = quoteIdent(m.user);
    const missing: string[] = [];
    const grants: string[] = [];
    const db = await c.query<{ ok: boolean }>(`SELECT has_database_privilege(current_database(), 'CONNECT') AS ok`);
    if (!db.rows[0].ok) {
      missing.push(`database ${m.database}: CONNECT`);
      grants.push(`GRANT CONNECT ON DATABASE ${quoteIdent(m.database)} TO ${who};`);
    }
    const schemas = m.schemas.map((s) => s.name);
    if (schemas.length) {
      const r = await c.query<{ name: string; ok: boolean }>(
        `SELECT nspname AS name, has_schema_privilege(oid, 'USAGE') AS ok FROM pg_namespace WHERE nspname = ANY ($1::text[]) ORDER BY 1`,
        [schemas],
      );
      for (const s of r.rows) {
        if (s.ok) continue;
        missing.push(`schema ${quoteIdent(s.name)}: USAGE`);
        grants.push(`GRANT USAGE ON SCHEMA ${quoteIdent(s.name)} TO ${who};`);
      }
    }
    const rels = [
      ...m.tables.map((t) => ({ oid: t.oid, schema: t.schema, name: t.name, kind: 'table' })),
      ...m.sequences.map((s) => ({ ...s, kind: 'sequence' })),
    ];
    if (rels.length) {
      const r = await c.query<{ oid: string; ok: boolean }>(
        `SELECT c.oid::int8::text AS oid,
                CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(c.oid, 'SELECT') ELSE has_table_privilege(c.oid, 'SELECT') END AS ok
         FROM pg_class c WHERE c.oid = ANY ($1::oid[])`,
        [rels.map((x) => x.oid)],
      );
      const ok = new Map(r.rows.map((x) => [x.oid, x.ok]));
      for (const x of rels) {
        if (ok.get(x.oid) !== false) continue;
        missing.push(`${x.kind} ${qualify(x.schema, x.name)}: SELECT`);
        grants.push(
          `GRANT SELECT ON ${x.kind === 'sequence' ? 'SEQUENCE ' : ''}${qualify(x.schema, x.name)} TO ${who};`,
        );
      }
    }
    if (!missing.length)
      return passed(
        `${m.user} can read ${plural(m.tables.length, 'table')}, ${plural(m.sequences.length, 'sequence')} in ${plural(schemas.length, 'schema')}`,
      );
    return failed(
      `${m.user} lacks ${plural(missing.length, 'privilege')} on the source`,
      missing.map((x, i) => `${x} — ${grants[i]}`),
      `run on the source as the owner or a superuser:\n${grants.slice(0, 20).join('\n')}${grants.length > 20 ? `\n… (${grants.length - 20} more)` : ''}`,
    );
  },
};

export const privilegesTarget: CheckDef = {
  id: 'privileges.target',
  title: 'Target privileges',
  level: 'error',
  needs: ['target', 'model'],
  async run(ctx) {
    const t = ctx.target!;
    const m = ctx.model!;
    const me = await t.query<{ u: string; su: boolean; db: string; dbcreate: boolean; pgferry_ok: boolean | null }>(
      `SELECT current_user AS u, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS su, current_database() AS db,
              has_database_privilege(current_database(), 'CREATE') AS dbcreate,
              (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = $1) AS pgferry_ok`,
      [ctx.task.stateSchema],
    );
    const { u, su, db, dbcreate, pgferry_ok } = me.rows[0];
    if (su) return passed(`${u} is a superuser on the target`);
    const who = quoteIdent(u);
    const missing: string[] = [];
    const grants: string[] = [];
    const targetSchemas = [
      ...new Set([...m.schemas.map((s) => ctx.sel.targetSchema(s.name)), ...m.tables.map((x) => x.target.schema)]),
    ].sort();
    const r = await t.query<{ name: string; ok: boolean }>(
      `SELECT nspname AS name, has_schema_privilege(oid, 'CREATE') OR pg_has_role(nspowner, 'USAGE') AS ok FROM pg_namespace WHERE nspname = ANY ($1::text[])`,
      [targetSchemas],
    );
    const existing = new Map(r.rows.map((x) => [x.name, x.ok]));
    const newSchemas = targetSchemas.filter((s) => !existing.has(s));
    if (!dbcreate && (newSchemas.length || pgferry_ok !== true)) {
      const why = [
        ...(pgferry_ok !== true ? [`the checkpoint schema ${quoteIdent(ctx.task.stateSchema)}`] : []),
        ...(newSchemas.length ? [`new schema(s) ${newSchemas.map(quoteIdent).join(', ')}`] : []),
      ];
      missing.push(`database ${db}: CREATE (for ${why.join(' and ')})`);
      grants.push(`GRANT CREATE ON DATABASE ${quoteIdent(db)} TO ${who};`);
    }
    for (const [name, ok] of existing) {
      if (ok) continue;
      missing.push(`schema ${quoteIdent(name)}: CREATE`);
      grants.push(`GRANT USAGE, CREATE ON SCHEMA ${quoteIdent(name)} TO ${who};`);
    }
    // Extensions: installed already, or creatable (superuser handled above; trusted ones, PG 13+, need CREATE on the database).
    const exts = await neededExtensions(ctx);
    if (exts.length) {
      const hasTrusted = ctx.targetVersion >= 130000;
      const er = await t.query<{ name: string; installed: boolean; available: boolean; trusted: boolean }>(
        `SELECT e.name, EXISTS (SELECT 1 FROM pg_extension x WHERE x.extname = e.name) AS installed,
                EXISTS (SELECT 1 FROM pg_available_extensions a WHERE a.name = e.name) AS available,
                ${hasTrusted ? `coalesce((SELECT bool_or(v.trusted) FROM pg_available_extension_versions v WHERE v.name = e.name), false)` : 'false'} AS trusted
         FROM unnest($1::text[]) AS e(name)`,
        [exts.map((e) => e.name)],
      );
      for (const e of er.rows) {
        if (e.installed || !e.available) continue; // unavailable ones are reported by extensions.available
        if (e.trusted && dbcreate) continue;
        missing.push(
          `extension ${e.name}: CREATE EXTENSION needs a superuser${e.trusted ? ' or CREATE on the database' : ' (not a trusted extension)'}`,
        );
        grants.push(
          `CREATE EXTENSION ${quoteIdent(e.name)};  -- as a superuser on the target database ${quoteIdent(db)}`,
        );
      }
    }
    if (!missing.length)
      return passed(
        `${u} can create what the migration needs (${plural(existing.size, 'existing schema')}, ${plural(newSchemas.length, 'new schema')})`,
      );
    return failed(
      `${u} lacks ${plural(missing.length, 'privilege')} on the target`,
      missing,
      `run on the target as an owner or a superuser:\n${grants.slice(0, 20).join('\n')}`,
    );
  },
};
