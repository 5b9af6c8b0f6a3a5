/** Everything the CLI prints goes through here, passwords scrubbed. */
import { redact } from '../core/redact.js';

export function out(text: string): void {
  process.stdout.write(redact(text) + '\n');
}

export function err(text: string): void {
  process.stderr.write(redact(text) + '\n');
}
