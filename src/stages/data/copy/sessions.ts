/**
 * Sessions of the data stage: the settings every source and target session gets, and how a
 * session is dropped at once whatever state it is in (mid-COPY included).
 */
import type pg from 'pg';
import { connect } from '../../../pg/connect.js';
import type { ConnSpec } from '../../../pg/connstring.js';
import { isPgError } from '../../../core/errors.js';

export const TARGET_SESSION = [
  `SET synchronous_commit = off`,
  `SET statement_timeout = 0`,
  `SET lock_timeout = 0`,
  `SET idle_in_transaction_session_timeout = 0`,
];
export const SOURCE_SESSION = [`SET statement_timeout = 0`, `SET idle_in_transaction_session_timeout = 0`];

export function destroySocket(c: pg.Client | undefined): void {
  try {
    (c as unknown as { connection?: { stream?: { destroy(): void } } } | undefined)?.connection?.stream?.destroy();
  } catch {
    /* already gone */
  }
}

/** Close a session right away, whatever state it is in (mid-COPY included). */
export function kill(c: pg.Client | undefined): void {
  if (!c) return;
  destroySocket(c);
  c.end().catch(() => {});
}

export async function session(c: pg.Client, stmts: string[]): Promise<void> {
  for (const s of stmts) await c.query(s);
}

/** Connect and run the session settings; the session is dropped when a setting fails. */
export async function openSession(
  spec: ConnSpec,
  label: 'source' | 'target',
  role: string,
  stmts: string[],
): Promise<pg.Client> {
  const c = await connect(spec, { label, role });
  try {
    await session(c, stmts);
  } catch (e) {
    kill(c);
    throw e;
  }
  return c;
}

export function isLostSnapshot(e: unknown): boolean {
  // 22023 invalid_parameter_value: "invalid snapshot identifier" once the exporter has gone.
  return isPgError(e) && e.code === '22023' && /snapshot/i.test(e.message);
}
