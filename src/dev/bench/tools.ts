/** What both benchmarks share: flags, one-shot queries, timed shell commands, the bundled pgferry runner. */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { bundleOptions } from '../bundle.js';

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, '..', '..', '..');

export function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : def;
}

export async function q(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await c.query(text, params);
  } finally {
    await c.end();
  }
}

export interface ShResult {
  code: number;
  out: string;
  ms: number;
  /** Peak RSS of the largest process the command ran (MB), when `rssFile` was given and GNU time exists. */
  maxRssMB?: number;
  /** CPU seconds (user + system) of the command's whole process tree, when `rssFile` was given and GNU time exists. */
  cpuSec?: number;
}

const GNU_TIME = '/usr/bin/time';

/**
 * Runs `cmd` through bash (pipefail). With `rssFile`, under GNU time, which records the peak RSS of
 * the largest process of the command's tree (pg_dump's and pgcopydb's workers included).
 */
export function sh(cmd: string, env: NodeJS.ProcessEnv = {}, rssFile?: string): Promise<ShResult> {
  const t0 = Date.now();
  const bash = ['bash', '-o', 'pipefail', '-c', cmd];
  const timed = rssFile !== undefined && existsSync(GNU_TIME);
  const [exe, ...args] = timed ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...bash] : bash;
  return new Promise((res) => {
    const p = spawn(exe, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => {
      const r: ShResult = { code: code ?? 1, out, ms: Date.now() - t0 };
      if (timed && existsSync(rssFile)) {
        const [kb, user, sys] = (readFileSync(rssFile, 'utf8').trim().split('\n').pop() ?? '').split(' ').map(Number);
        if (Number.isFinite(kb)) r.maxRssMB = Math.round(kb / 1024);
        if (Number.isFinite(user) && Number.isFinite(sys)) r.cpuSec = Math.round((user + sys) * 100) / 100;
        rmSync(rssFile, { force: true });
      }
      res(r);
    });
  });
}

export async function bundleRunner(): Promise<string> {
  const entry = join(root, 'src', 'dev', 'bench', 'run-pgferry.ts');
  try {
    const esbuild = await import('esbuild');
    // one bundle per checkout: two checkouts sharing node_modules never run each other's pgferry
    const tag = createHash('sha1').update(root).digest('hex').slice(0, 8);
    const outfile = join(root, 'node_modules', '.cache', 'pgferry-bench', `run-pgferry-${tag}.mjs`);
    // as the command line is bundled (scripts/build-cli.mjs): its packages inlined
    await esbuild.build({ ...bundleOptions(entry, outfile), logLevel: 'error' });
    return `'${outfile}'`;
  } catch (e) {
    process.stderr.write(`(esbuild unavailable, running pgferry through tsx: ${(e as Error).message})\n`);
    return `--import tsx '${entry}'`;
  }
}

export function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
