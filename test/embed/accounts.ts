/**
 * Limited accounts for the embedding tests: a source account with CONNECT, USAGE and SELECT only,
 * and a target account that owns the target database and is no superuser; both log in with a
 * password (scram-sha-256 from 127.0.0.1, set up by `passwordHba`).
 */
import type { Cluster } from '../../src/dev/embedded/cluster.js';
import { quoteIdent, quoteLiteral } from '../../src/core/ident.js';
import { withClient } from '../helpers/compare.js';

/** pg_hba.conf lines making these roles log in with their passwords. */
export const passwordHba = (roles: string[]) => [`host all ${roles.join(',')} 127.0.0.1/32 scram-sha-256`];

async function createRole(c: Cluster, role: string, password: string): Promise<void> {
  await withClient(c.url(), (x) => x.query(`CREATE ROLE ${quoteIdent(role)} LOGIN PASSWORD ${quoteLiteral(password)}`));
}

/** Database `db` (already filled) readable by `role` and nothing more; returns its URL for that role. */
export async function sourceAccount(
  c: Cluster,
  db: string,
  role: string,
  password: string,
  schemas: string[],
): Promise<string> {
  await createRole(c, role, password);
  const r = quoteIdent(role);
  await withClient(c.url(), (x) =>
    x.query(
      `REVOKE CONNECT ON DATABASE ${quoteIdent(db)} FROM PUBLIC; GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${r}`,
    ),
  );
  const list = schemas.map(quoteIdent).join(', ');
  await withClient(c.url(db), (x) =>
    x.query(`GRANT USAGE ON SCHEMA ${list} TO ${r};
    GRANT SELECT ON ALL TABLES IN SCHEMA ${list} TO ${r}; GRANT SELECT ON ALL SEQUENCES IN SCHEMA ${list} TO ${r}`),
  );
  return c.url(db, role, password);
}

/** An empty database `db` owned by `role` (no superuser); returns its URL for that role. */
export async function targetAccount(c: Cluster, db: string, role: string, password: string): Promise<string> {
  await createRole(c, role, password);
  await withClient(c.url(), (x) => x.query(`CREATE DATABASE ${quoteIdent(db)} OWNER ${quoteIdent(role)}`));
  return c.url(db, role, password);
}
