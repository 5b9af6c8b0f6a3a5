/**
 * Usage errors: an unknown flag, a bad value, a missing or an extra argument. Every command
 * reports them the same way — one line naming the command and the cause, a pointer to its
 * --help — and the run exits 2 (main.ts turns the CommanderError into the exit code).
 */
import type { Command } from 'commander';

/** "error: unknown option '--jbos'\n(Did you mean --jobs?)" → "unknown option '--jbos' (did you mean --jobs?)" */
export function oneLine(message: string): string {
  return message
    .replace(/^error:\s*/i, '')
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/\(Did you mean/g, '(did you mean');
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Apply the convention to a command and all its subcommands (addCommand does not inherit it). */
export function configureUsage(cmd: Command): void {
  cmd.exitOverride();
  cmd.showHelpAfterError(false);
  cmd.configureOutput({
    outputError: (text, write) => {
      const path = commandPath(cmd);
      write(`${path}: ${oneLine(text)} — see \`${path} --help\`\n`);
    },
  });
  for (const sub of cmd.commands) configureUsage(sub);
}
