/**
 * A connection form's fields and the libpq URI built from them. The password stays in memory only:
 * it goes to the service inside the URI and is never put back into a visible field.
 */
export interface ConnFields {
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
  sslmode: string;
}

export const emptyConn = (): ConnFields => ({
  host: '127.0.0.1',
  port: '5432',
  database: '',
  user: '',
  password: '',
  sslmode: 'prefer',
});

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'];

export function connectionUri(f: ConnFields): string {
  const enc = encodeURIComponent;
  const auth = f.user ? `${enc(f.user)}${f.password ? `:${enc(f.password)}` : ''}@` : '';
  const host = f.host.includes(':') ? `[${f.host}]` : f.host;
  const port = f.port ? `:${f.port}` : '';
  const query = f.sslmode && f.sslmode !== 'prefer' ? `?sslmode=${enc(f.sslmode)}` : '';
  return `postgresql://${auth}${host}${port}/${enc(f.database)}${query}`;
}

/** The first field a connection form still lacks, as a sentence, or null. */
export function missingField(f: ConnFields): string | null {
  if (!f.host.trim()) return 'the host is empty: enter the server name or address';
  if (f.port && !/^\d{1,5}$/.test(f.port)) return 'the port is not a number: enter e.g. 5432';
  if (!f.database.trim()) return 'the database is empty: enter the database to migrate';
  if (!f.user.trim()) return 'the user is empty: enter the account pgferry logs in as';
  return null;
}
