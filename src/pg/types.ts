/**
 * How pgferry's sessions turn result values into JavaScript, set per client (the `types` option
 * of pg.Client) and never on node-postgres' process-wide registry: an application that embeds
 * pgferry keeps its own parsers, and its parsers do not change what pgferry reads.
 *
 * int8 and numeric come back as exact strings: pgferry never does arithmetic on user data and
 * must not lose precision in what it compares. Everything else is node-postgres' default.
 */
import pg from 'pg';

type Format = 'text' | 'binary';
type Parser = (value: string) => unknown;

const INT8 = 20;
const NUMERIC = 1700;
const exact: Parser = (v: string) => v;

/** The parser of one type OID; pinned ones first, then node-postgres' registry. */
function getTypeParser(oid: number, format: Format = 'text'): Parser {
  if (format === 'text' && (oid === INT8 || oid === NUMERIC)) return exact;
  return pg.types.getTypeParser(oid, format) as Parser;
}

/** The `types` option of every client pgferry opens. */
export const pgferryTypes = { getTypeParser } as unknown as pg.CustomTypesConfig;
