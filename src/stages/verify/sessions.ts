/** Verification's sessions: a source/target pair per worker that survives a restart of either server. */
import type pg from 'pg';
import { connect } from '../../pg/connect.js';
import { resolveConnSpec } from '../../pg/connstring.js';
import type { Redactor } from '../../core/redact.js';
import { NORMALISE_SQL } from './data.js';

/**
 * A read-only session with the settings that make values compare as text alike on every server.
 * `serial`: it reads beside other work (the copy, the last index builds), so its queries take no
 * parallel workers.
 */
export async function openVerifySession(
  text: string,
  label: string,
  role: string,
  redactor?: Redactor,
  serial = false,
): Promise<pg.Client> {
  const c = await connect(resolveConnSpec(text, { redactor }), { label, role });
  try {
    // Verification only reads; never block or be blocked for long by the application.
    const serialSql = serial ? '; SET max_parallel_workers_per_gather = 0' : '';
    await c.query(`${NORMALISE_SQL}; SET default_transaction_read_only = on${serialSql}`);
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
  return c;
}

/** A source and a target session opened on first use and reopened after a transient failure. */
export class SessionPair {
  private pair: Promise<[pg.Client, pg.Client]> | undefined;
  constructor(private readonly open: () => Promise<[pg.Client, pg.Client]>) {}
  get(): Promise<[pg.Client, pg.Client]> {
    if (!this.pair) {
      const p = this.open();
      this.pair = p;
      p.catch(() => {
        if (this.pair === p) this.pair = undefined;
      });
    }
    return this.pair;
  }
  reset(): void {
    const p = this.pair;
    this.pair = undefined;
    p?.then(
      ([a, b]) => {
        a.end().catch(() => {});
        b.end().catch(() => {});
      },
      () => {},
    );
  }
}
