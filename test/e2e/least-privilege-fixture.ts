/**
 * The least-privilege fixture: a source database whose objects belong to owner roles other than the
 * migration account, with grants to application roles, and the two migration accounts a DBA gives
 * pgferry — on the source one that can only read, on the target one that owns the database and is
 * a member of the owner roles, no superuser and no CREATEROLE.
 * Role names carry a prefix: roles are cluster-wide and every test builds its own set.
 */
import { withClient } from '../helpers/compare.js';

export const LO_OID = 424242;

export interface Roles {
  owner: string;
  sales: string;
  reader: string;
  writer: string;
  src: string;
  tgt: string;
}

export function rolesFor(p: string): Roles {
  return {
    owner: `${p}_owner`,
    sales: `${p}_sales_owner`,
    reader: `${p}_reader`,
    writer: `${p}_writer`,
    src: `${p}_ferry_src`,
    tgt: `${p}_ferry_tgt`,
  };
}

/** The application roles, as a DBA creates them on either side. */
export function appRolesSql(r: Roles): string {
  return [r.owner, r.sales, r.reader, r.writer].map((x) => `CREATE ROLE ${x} NOLOGIN;`).join('\n');
}

/** Objects of the source database, created by the superuser in db. */
export function sourceObjectsSql(r: Roles, db: string, loOid = LO_OID): string {
  return `
${appRolesSql(r)}
GRANT CREATE ON DATABASE ${db} TO ${r.owner}, ${r.sales};
GRANT USAGE, CREATE ON SCHEMA public TO ${r.owner};
COMMENT ON SCHEMA public IS 'application public schema';
CREATE SCHEMA app AUTHORIZATION ${r.owner};
COMMENT ON SCHEMA app IS 'the application';
CREATE SCHEMA sales AUTHORIZATION ${r.sales};
GRANT USAGE ON SCHEMA app, sales TO ${r.reader};
SET ROLE ${r.owner};
CREATE SEQUENCE app.ticket_seq;
SELECT nextval('app.ticket_seq') FROM generate_series(1, 7);
CREATE TABLE app.customers (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE app.orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES app.customers,
  total numeric(12,2), updated_at timestamptz);
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON app.orders FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE VIEW app.big_orders AS SELECT id, customer_id, total FROM app.orders WHERE total > 100;
CREATE TABLE public.settings (k text PRIMARY KEY, v text);
INSERT INTO app.customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g;
INSERT INTO app.orders (customer_id, total) SELECT 1 + g % 50, g * 3.5 FROM generate_series(1, 300) g;
INSERT INTO public.settings VALUES ('mode', 'live'), ('tz', 'UTC');
GRANT SELECT ON ALL TABLES IN SCHEMA app TO ${r.reader};
GRANT INSERT, UPDATE ON app.orders TO ${r.writer};
GRANT USAGE ON SEQUENCE app.ticket_seq, app.orders_id_seq TO ${r.writer};
REVOKE EXECUTE ON FUNCTION app.touch() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.touch() TO ${r.writer};
SELECT lo_from_bytea(${loOid}, convert_to(repeat('large object ', 1000), 'UTF8'));
COMMENT ON LARGE OBJECT ${loOid} IS 'a scanned contract';
GRANT SELECT ON LARGE OBJECT ${loOid} TO ${r.reader};
RESET ROLE;
SET ROLE ${r.sales};
CREATE TABLE sales.invoices (id int PRIMARY KEY, order_id bigint NOT NULL, amount numeric(12,2));
INSERT INTO sales.invoices SELECT g, g, g * 2 FROM generate_series(1, 120) g;
GRANT SELECT ON sales.invoices TO ${r.reader};
RESET ROLE;
-- the owner of public.settings no longer may create in public (ALTER TABLE … OWNER TO checks that)
REVOKE CREATE ON SCHEMA public FROM ${r.owner};
`;
}

/** What the source DBA grants the read-only migration account (the grants a real DBA would give). */
export function sourceAccountSql(r: Roles, db: string, loOid = LO_OID): string {
  return `
CREATE ROLE ${r.src} LOGIN PASSWORD 'src-secret-pw';
GRANT CONNECT ON DATABASE ${db} TO ${r.src};
GRANT USAGE ON SCHEMA public, app, sales TO ${r.src};
GRANT SELECT ON ALL TABLES IN SCHEMA public, app, sales TO ${r.src};
GRANT SELECT ON ALL SEQUENCES IN SCHEMA app TO ${r.src};
GRANT SELECT ON LARGE OBJECT ${loOid} TO ${r.src};
`;
}

/** The target account: owns the target database, member of the owner roles, nothing more. */
export function targetAccountSql(r: Roles, db: string): string[] {
  return [
    `${appRolesSql(r)}\nCREATE ROLE ${r.tgt} LOGIN PASSWORD 'tgt-secret-pw' NOSUPERUSER NOCREATEROLE NOCREATEDB;
     GRANT ${r.owner}, ${r.sales} TO ${r.tgt};`,
    `CREATE DATABASE ${db} OWNER ${r.tgt}`,
  ];
}

export async function run(url: string, ...sqls: string[]): Promise<void> {
  await withClient(url, async (c) => {
    for (const s of sqls) await c.query(s);
  });
}

/** Owner and ACL of every user object, comparable between source and target. */
export async function ownersAndGrants(url: string, drop: string[] = []): Promise<string[]> {
  return withClient(url, async (c) => {
    const r = await c.query<{ line: string }>(`
      WITH ns AS (SELECT oid, nspname FROM pg_namespace
                  WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pgferry')
                  AND nspname NOT LIKE 'pg_toast%' AND nspname NOT LIKE 'pg_temp%')
      SELECT 'schema ' || nspname || ' ' || pg_get_userbyid(n.nspowner) || ' ' || coalesce(n.nspacl::text, '-')
             || ' ' || coalesce(obj_description(n.oid, 'pg_namespace'), '-') AS line
      FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns) AND nspname <> 'public'
      UNION ALL
      SELECT 'rel ' || ns.nspname || '.' || c.relname || ' ' || pg_get_userbyid(c.relowner)
             || ' ' || coalesce(c.relacl::text, '-')
      FROM pg_class c JOIN ns ON ns.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S')
      UNION ALL
      SELECT 'func ' || p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner)
             || ' ' || coalesce(p.proacl::text, '-')
      FROM pg_proc p JOIN ns ON ns.oid = p.pronamespace
      UNION ALL
      SELECT 'lo ' || m.oid || ' ' || pg_get_userbyid(m.lomowner) || ' ' || coalesce(m.lomacl::text, '-')
             || ' ' || coalesce(obj_description(m.oid, 'pg_largeobject'), '-')
      FROM pg_largeobject_metadata m
      ORDER BY 1`);
    // PostgreSQL 17 adds MAINTAIN (m) to an owner's privileges
    const strip = (l: string, role: string) => l.replace(new RegExp(`,?${role}=[a-zA-Z*]+/\\w+`, 'g'), '');
    return r.rows.map((x) => drop.reduce(strip, x.line.replace(/arwdDxtm/g, 'arwdDxt')));
  });
}
