/**
 * Splitting a generated DDL block (CREATE … ; ALTER … OWNER TO …; COMMENT …; GRANT …) into its
 * statements with PostgreSQL's own parser (libpg-query), so each runs, is skipped or fails on
 * its own. Each part keeps its parse tree for the checks in ./skip.ts. Statement locations are
 * byte offsets into the UTF-8 text.
 */
import { loadModule, parseSync } from 'libpg-query';

export interface Part {
  sql: string;
  /** The statement's parse tree node, e.g. { CommentStmt: {…} }; null when the block did not parse. */
  ast: Record<string, any> | null;
}

let loaded: Promise<void> | undefined;

export async function splitStatements(block: string): Promise<Part[]> {
  loaded ??= loadModule();
  await loaded;
  let tree: { stmts?: { stmt: Record<string, any>; stmt_location?: number; stmt_len?: number }[] };
  try {
    tree = parseSync(block);
  } catch {
    return [{ sql: block, ast: null }]; // the server will say what is wrong with it
  }
  const bytes = Buffer.from(block, 'utf8');
  const parts: Part[] = [];
  for (const s of tree.stmts ?? []) {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    const sql = bytes.subarray(start, end).toString('utf8').trim();
    if (sql) parts.push({ sql, ast: s.stmt });
  }
  return parts.length ? parts : [{ sql: block, ast: null }];
}
