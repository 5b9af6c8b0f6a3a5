/**
 * Everything the CLI prints goes through here, passwords scrubbed and made printable: names and
 * messages come from the databases (a table may be named with any character but NUL), and a terminal
 * takes control characters in them as commands (move the cursor, set the title, rewrite the line).
 */
import { redact } from '../core/redact.js';

/**
 * Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides that reorder
 * what a terminal shows, each as one U+FFFD: the text keeps its width, the terminal gets no command.
 * `--json` output keeps every character (JSON escapes them).
 */
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '\ufffd');
}

export function out(text: string): void {
  process.stdout.write(printable(redact(text)) + '\n');
}

export function err(text: string): void {
  process.stderr.write(printable(redact(text)) + '\n');
}
