// Real certificates for the TLS tests, made with openssl in a temp dir, and a PostgreSQL 15
// cluster serving one of them.
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../src/dev/embedded/cluster.js';

const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
const KEY = ['-newkey', 'rsa:2048', '-nodes'];
const CA_EXT = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];

export interface SelfSigned {
  cn: string;
  /** A subjectAltName, e.g. "IP:127.0.0.1". */
  san?: string;
  /** Mark it as a certificate authority. */
  ca?: boolean;
}

/** `<dir>/<name>.crt` and `<name>.key`: a self-signed certificate. */
export function selfSigned(dir: string, name: string, o: SelfSigned): void {
  const ext = [...(o.ca ? CA_EXT : []), ...(o.san ? ['-addext', `subjectAltName=${o.san}`] : [])];
  const out = ['-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.crt`)];
  openssl(['req', '-x509', ...KEY, '-days', '2', '-subj', `/CN=${o.cn}`, ...ext, ...out]);
}

/** `<dir>/<name>.crt` and `<name>.key`: a certificate for `dns`, signed by the CA `<dir>/<ca>.crt`. */
export function signedBy(dir: string, name: string, ca: string, dns: string): void {
  const f = (n: string) => join(dir, n);
  openssl(['req', ...KEY, '-subj', `/CN=${dns}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`)]);
  writeFileSync(f(`${name}.ext`), `subjectAltName=DNS:${dns}\n`);
  const signer = ['-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial'];
  openssl(
    ['x509', '-req', '-in', f(`${name}.csr`), ...signer, '-days', '2', '-extfile', f(`${name}.ext`)].concat([
      '-out',
      f(`${name}.crt`),
    ]),
  );
}

/** A PostgreSQL 15 cluster with ssl on, serving `<dir>/<name>.crt`; its key is made readable by the server only. */
export async function tlsCluster(dir: string, name: string, hba: string[]): Promise<Cluster> {
  const key = join(dir, `${name}.key`);
  chmodSync(dir, 0o755);
  chmodSync(key, 0o600);
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString());
    chownSync(key, id('-u'), id('-g'));
  }
  const settings = { ssl: 'on', ssl_cert_file: `'${join(dir, `${name}.crt`)}'`, ssl_key_file: `'${key}'` };
  return startCluster({ version: 15, settings, hba });
}
