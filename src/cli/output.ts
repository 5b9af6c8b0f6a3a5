/** Everything the CLI prints goes through here, passwords scrubbed and control characters made harmless. */
import { printable } from '../core/printable.js';
import { redact } from '../core/redact.js';

export function out(text: string): void {
  process.stdout.write(printable(redact(text)) + '\n');
}

export function err(text: string): void {
  process.stderr.write(printable(redact(text)) + '\n');
}
