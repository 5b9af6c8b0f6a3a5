/**
 * Generated statements kept small while they wait to be applied. Their texts are built by
 * concatenation, which V8 keeps as a tree of pieces (a "cons string", 32 bytes a node, often
 * several nodes a statement) until something reads them whole; their names recur (a table's name
 * in each of its indexes' steps). At 20,000 tables the statements outlive the schema phase (the
 * early ones wait for each table's rows), so each text is made flat once here and each recurring
 * name kept once.
 */
import type { Statement } from '../../../core/statement.js';
import { flat } from '../../../core/flat.js';

/**
 * `objects` (plan's list of the selected objects) names them with the same texts as the statements:
 * kept through the same once(), or they would hold the concatenated originals alive.
 */
export function compactStatements(
  stmts: Statement[],
  objects: { kind: string; source: string; target: string }[] = [],
): Statement[] {
  const names = new Map<string, string>();
  const once = (s: string): string => {
    const kept = names.get(s);
    if (kept !== undefined) return kept;
    const f = flat(s);
    names.set(f, f);
    return f;
  };
  for (const s of stmts) {
    s.key = flat(s.key);
    s.kind = once(s.kind);
    s.name = once(s.name);
    s.sql = flat(s.sql);
    if (s.drop !== undefined) s.drop = flat(s.drop);
    if (s.table !== undefined) s.table = once(s.table);
    if (s.buildOf !== undefined) s.buildOf = flat(s.buildOf);
  }
  for (const o of objects) {
    o.kind = once(o.kind);
    o.source = once(o.source);
    o.target = once(o.target);
  }
  return stmts;
}
