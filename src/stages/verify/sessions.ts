/** Verification's sessions: a source/target pair per worker that survives a restart of either server. */
import type pg from 'pg';

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
