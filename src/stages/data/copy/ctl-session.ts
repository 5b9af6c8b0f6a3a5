/** The data stage's control session on the target: checkpoints, unit plans, snapshot record, sequences. */
import type pg from 'pg';
import { withRetry } from '../../../pg/retry.js';
import { kill, openSession, TARGET_SESSION } from './sessions.js';
import type { Stage } from './stage.js';

export class ControlSession {
  private c?: pg.Client;

  constructor(private st: Stage) {}

  /** Run `fn` on the session, reconnecting and retrying transient failures. */
  run<T>(what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
    return withRetry({ ...this.st.retryBase, what, onRetry: () => this.drop() }, async () => fn(await this.client()));
  }

  private async client(): Promise<pg.Client> {
    this.c ??= await openSession(this.st.o.target, 'target', 'copy-ctl', TARGET_SESSION);
    return this.c;
  }

  private drop(): void {
    kill(this.c);
    this.c = undefined;
  }

  async end(): Promise<void> {
    if (this.c) await this.c.end().catch(() => {});
  }
}
