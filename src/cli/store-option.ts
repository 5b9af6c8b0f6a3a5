/** `--store postgresql://…`: the commands that read or write task records use a shared PostgreSQL task store. */
import { Option } from 'commander';
import { describeConn, resolveConnSpec } from '../pg/connstring.js';
import { PgTaskStore } from '../state/pg-store.js';
import type { TaskStore } from '../state/store.js';

export const storeOption = (what: string): Option =>
  new Option('--store <url>', `${what} in this PostgreSQL task store (as \`serve --store\`) instead of the state dir`);

/** Run `fn` with the store `url` names, closed afterwards. */
export async function withStore<T>(url: string, fn: (store: TaskStore, where: string) => Promise<T>): Promise<T> {
  const store = new PgTaskStore(url);
  try {
    return await fn(store, `task store ${describeConn(resolveConnSpec(url))}`);
  } finally {
    await store.close();
  }
}
