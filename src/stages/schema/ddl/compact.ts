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
 * Flat texts and names kept once, for the statements of one generation. The families hand their
 * statements over as they make them (ctx.add, the index steps), so the concatenated originals are
 * garbage at once instead of piling up until the end of the generation, where they and the compact
 * copies would both be live.
 */
export class StatementCompactor {
  private readonly names = new Map<string, string>();
  private readonly done = new WeakSet<Statement>();

  /** The one flat copy of a recurring name. */
  readonly once = (s: string): string => {
    const kept = this.names.get(s);
    if (kept !== undefined) return kept;
    const f = flat(s);
    this.names.set(f, f);
    return f;
  };

  /** `s` with its texts flat and its names kept once (in place; a statement already done is left as it is). */
  readonly statement = (s: Statement): Statement => {
    if (this.done.has(s)) return s;
    this.done.add(s);
    s.key = flat(s.key);
    s.kind = this.once(s.kind);
    s.name = this.once(s.name);
    s.sql = flat(s.sql);
    if (s.drop !== undefined) s.drop = flat(s.drop);
    if (s.table !== undefined) s.table = this.once(s.table);
    if (s.buildOf !== undefined) s.buildOf = flat(s.buildOf);
    return s;
  };
}

/**
 * Every statement compact (those the compactor has not seen yet). `objects` (plan's list of the
 * selected objects) names them with the same texts as the statements: kept through the same once(),
 * or they would hold the concatenated originals alive.
 */
export function compactStatements(
  stmts: Statement[],
  objects: { kind: string; source: string; target: string }[] = [],
  c = new StatementCompactor(),
): Statement[] {
  for (const s of stmts) c.statement(s);
  for (const o of objects) {
    o.kind = c.once(o.kind);
    o.source = c.once(o.source);
    o.target = c.once(o.target);
  }
  return stmts;
}
