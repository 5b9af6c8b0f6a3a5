/**
 * Log sequence numbers: WAL positions printed as `X/Y` (two hex halves of a 64-bit number).
 * Kept as bigint in pgferry; written to PostgreSQL as text cast to pg_lsn.
 */
export type Lsn = bigint;

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`not a WAL position: ${JSON.stringify(text)}`);
  return (BigInt(`0x${m[1]}`) << 32n) | BigInt(`0x${m[2]}`);
}

export function formatLsn(lsn: Lsn): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/** The later of two positions (Math.max takes no bigint). */
export function laterLsn(a: Lsn, b: Lsn): Lsn {
  return a >= b ? a : b;
}
