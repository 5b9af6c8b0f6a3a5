/** Sequences: last_value and is_called read in the snapshot, set on the target with setval. */
import type pg from 'pg';
import type { QualifiedName } from '../plan/types.js';
import { qualify } from '../../../core/ident.js';
import type { SnapshotSource } from '../snapshot-source.js';

export interface SequenceValue {
  target: QualifiedName;
  last: string;
  called: boolean;
}

/** Read the sequences in the snapshot (a lost snapshot session is renewed first). */
export async function readSequences(
  snapshot: SnapshotSource,
  seqs: { source: QualifiedName; target: QualifiedName }[],
): Promise<SequenceValue[]> {
  const session = await snapshot.held();
  const out: SequenceValue[] = [];
  for (const s of seqs) {
    const r = await session.query<{ last_value: string; is_called: boolean }>(
      `SELECT last_value::text AS last_value, is_called FROM ${qualify(s.source.schema, s.source.name)}`,
    );
    out.push({ target: s.target, last: r.rows[0].last_value, called: r.rows[0].is_called });
  }
  return out;
}

/** setval every sequence on the target, in one transaction. */
export async function setSequences(c: pg.Client, values: SequenceValue[]): Promise<void> {
  await c.query('BEGIN');
  for (const v of values) {
    const name = qualify(v.target.schema, v.target.name);
    await c.query(`SELECT setval($1::regclass, $2::int8, $3)`, [name, v.last, v.called]);
  }
  await c.query('COMMIT');
}
