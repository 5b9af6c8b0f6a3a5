/**
 * Connection strings with passwords, kept out of task.json and the task store: encrypted at rest
 * with AES-256-GCM in `<data dir>/<task>/secrets.enc` (0600). The key is $PGFERRY_SECRET_KEY (64 hex
 * digits or 44 base64 characters) or, without it, `<data dir>/.secret-key` (0600, made on first use).
 * Losing the key loses the passwords only: the task can be given them again with PUT.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PgferryError } from '../core/errors.js';
import { replacePrivate, touchPrivate } from '../state/private-file.js';
import { StateDir } from '../state/state-dir.js';
import { writeFileSync } from 'node:fs';

export const SECRETS_FILE = 'secrets.enc';
const KEY_FILE = '.secret-key';

/** The connection strings of a task as given (passwords included). */
export interface TaskSecrets {
  source: string;
  target: string;
}

function parseKey(text: string, from: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) {
    throw new PgferryError('usage', `the secret key in ${from} is not 32 bytes`, {
      hint: 'give 64 hex digits or 44 base64 characters (e.g. the output of `openssl rand -hex 32`)',
    });
  }
  return key;
}

/** The key: $PGFERRY_SECRET_KEY, else the data dir's key file (created with a random key when missing). */
export function loadSecretKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.PGFERRY_SECRET_KEY) return parseKey(env.PGFERRY_SECRET_KEY, '$PGFERRY_SECRET_KEY');
  new StateDir(dataDir, '.').ensure();
  const p = join(dataDir, KEY_FILE);
  if (!existsSync(p)) {
    touchPrivate(p);
    writeFileSync(p, randomBytes(32).toString('hex') + '\n');
  }
  return parseKey(readFileSync(p, 'utf8'), p);
}

export class SecretBox {
  constructor(
    private readonly key: Buffer,
    private readonly dataDir: string,
  ) {}

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return ['v1', iv.toString('base64'), c.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  decrypt(sealed: string): string {
    const [v, iv, tag, body] = sealed.trim().split('.');
    if (v !== 'v1' || !iv || !tag || body === undefined) throw unreadable('unknown format');
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      d.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([d.update(Buffer.from(body, 'base64')), d.final()]).toString('utf8');
    } catch {
      throw unreadable('the key does not open it');
    }
  }

  private file(task: string): string {
    return new StateDir(this.dataDir, task).path(SECRETS_FILE);
  }

  async save(task: string, secrets: TaskSecrets): Promise<void> {
    new StateDir(this.dataDir, task).ensure();
    await replacePrivate(this.file(task), this.encrypt(JSON.stringify(secrets)) + '\n');
  }

  /** The task's connection strings, or undefined when the task has none stored (e.g. one run by the CLI). */
  load(task: string): TaskSecrets | undefined {
    const p = this.file(task);
    if (!existsSync(p)) return undefined;
    return JSON.parse(this.decrypt(readFileSync(p, 'utf8'))) as TaskSecrets;
  }

  remove(task: string): void {
    rmSync(this.file(task), { force: true });
  }
}

function unreadable(why: string): PgferryError {
  return new PgferryError('state', `the task's stored connection strings cannot be decrypted (${why})`, {
    hint: "start the server with the key the task was created with ($PGFERRY_SECRET_KEY or the data dir's .secret-key), or give the connections again with PUT /api/tasks/:id",
  });
}
