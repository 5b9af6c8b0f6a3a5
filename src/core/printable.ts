/**
 * Text for a person's terminal or a text log: names and messages come from the databases (a table may
 * be named with any character but NUL), and a terminal takes control characters in them as commands
 * (move the cursor, set the title, rewrite the line). Control characters (C0 but tab and newline, DEL,
 * C1) and the bidirectional overrides that reorder what is shown become one U+FFFD each: the text keeps
 * its width, the terminal gets no command. JSON output keeps every character (JSON escapes them).
 */
const UNPRINTABLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, '\ufffd');
}
