/** At cutover: every selected sequence set on the target to its value on the (quiet) source. */
import type pg from 'pg';
import { qualify } from '../../core/ident.js';
import type { QualifiedName } from '../data/plan/types.js';

export interface SequencePair {
  source: QualifiedName;
  target: QualifiedName;
}

export async function syncSequences(src: pg.Client, tgt: pg.Client, pairs: SequencePair[]): Promise<number> {
  for (const s of pairs) {
    const r = await src.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text, is_called FROM ${qualify(s.source.schema, s.source.name)}`,
    );
    const { last_value, is_called } = r.rows[0];
    await tgt.query('SELECT pg_catalog.setval($1::regclass, $2::int8, $3)', [
      qualify(s.target.schema, s.target.name),
      last_value,
      is_called,
    ]);
  }
  return pairs.length;
}
