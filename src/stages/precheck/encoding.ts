/** encoding: the target database encoding must hold every character of the source's. */
import { failed, passed, warning, type CheckDef } from './types.js';

const Q = `SELECT pg_encoding_to_char(encoding) AS enc FROM pg_database WHERE datname = current_database()`;

export const encoding: CheckDef = {
  id: 'encoding',
  title: 'Database encoding',
  level: 'error',
  skippable: true,
  needs: ['source', 'target'],
  async run(ctx) {
    const s = (await ctx.source!.query<{ enc: string }>(Q)).rows[0].enc;
    const t = (await ctx.target!.query<{ enc: string }>(Q)).rows[0].enc;
    const obj = [`source ${s}`, `target ${t}`];
    if (s === t) return passed(`both databases use ${s}`);
    if (s === 'SQL_ASCII')
      return warning(
        `source encoding SQL_ASCII (bytes without a declared encoding), target ${t}: invalid byte sequences will fail to load`,
        obj,
        'find and fix non-' + t + " text on the source first, or create the target database WITH ENCODING 'SQL_ASCII'",
      );
    if (t === 'UTF8')
      return warning(
        `source ${s} is converted to target UTF8 (lossless)`,
        obj,
        'nothing to do unless clients depend on the encoding',
      );
    return failed(
      `source ${s} and target ${t} differ: characters may not be representable on the target`,
      obj,
      `create the target database with ENCODING '${s}' (or UTF8): CREATE DATABASE ... ENCODING '${s}' TEMPLATE template0`,
    );
  },
};
