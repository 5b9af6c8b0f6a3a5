/**
 * Password scrubbing. Every password pgferry learns (from a URI, a keyword/value string,
 * PGPASSWORD or ~/.pgpass) is registered here, and every line that leaves the process
 * (logs, errors, JSON events, state files, reports) goes through `redact`.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 1) secrets.add(value);
}

const URI_PASSWORD = /(postgres(?:ql)?:\/\/[^:@/\s]*):([^@\s]*)@/gi;
const KV_PASSWORD = /(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)/gi;

export function redact(text: string): string {
  let out = text.replace(URI_PASSWORD, '$1:********@').replace(KV_PASSWORD, '$1********');
  for (const s of secrets) {
    // very short secrets would destroy readability and are scrubbed only as whole tokens
    if (s.length < 4) {
      out = out.replace(new RegExp(`(?<=[\\s:='"])${escapeRegExp(s)}(?=[\\s@'"]|$)`, 'g'), '********');
    } else {
      out = out.split(s).join('********');
    }
  }
  return out;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
