// Runs the pgferry CLI from source as a child process and collects its output and exit code.
import { spawn, spawnSync } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const ARGS = ['--import', 'tsx', 'test/helpers/cli.ts'];

/** The environment of a child: `undefined` removes a variable. */
export function childEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env;
}

export function cliSync(argv: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [...ARGS, ...argv], { encoding: 'utf8', env: childEnv(env), timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the CLI as a child; killed (code null, "timed out" in stderr) after `timeoutMs`. */
export function cli(argv: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 180_000): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...ARGS, ...argv], { env: childEnv(env) });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n[timed out after ${timeoutMs} ms: pgferry ${argv[0]}]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI in this process (faster than a child: for commands that need no server). */
export async function cliInProcess(argv: string[]): Promise<CliRun> {
  const { main } = await import('../../src/cli/main.js');
  let stdout = '';
  let stderr = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  (process.stdout as { write: unknown }).write = (c: string | Uint8Array) => ((stdout += c.toString()), true);
  (process.stderr as { write: unknown }).write = (c: string | Uint8Array) => ((stderr += c.toString()), true);
  const prev = process.exitCode;
  process.exitCode = 0;
  try {
    await main(['node', 'pgferry', ...argv]);
  } finally {
    (process.stdout as { write: unknown }).write = w1;
    (process.stderr as { write: unknown }).write = w2;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = prev;
  return { code, stdout, stderr };
}
