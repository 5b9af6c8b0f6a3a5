/**
 * Partitions created or attached on the source after an incremental task started, under a root
 * whose partitions the publication lists one by one (PostgreSQL 12, or a selection of only some
 * partitions): the publication lacks them, so their changes would not be streamed. The apply
 * never lets that pass silently: when the stream starts, each such partition is added to the
 * publication if the target has it and it holds no row yet (then nothing of it was missed);
 * otherwise the run stops naming it and the fix. While the stream runs, a new one stops the
 * stream so that the next attempt adds it.
 */
import type pg from 'pg';
import { PgferryError } from '../../core/errors.js';
import { qualify, quoteIdent } from '../../core/ident.js';
import type { QualifiedName } from '../../core/qualified-name.js';

/** The roots the apply watches, and how the selection treats a partition of theirs. */
export interface PartitionWatch {
  roots: QualifiedName[];
  /** Whether the selection takes this partition (as the copy list would). */
  selected: (schema: string, name: string, root: QualifiedName) => boolean;
  /** The partition's (or its parent's) table on the target. */
  target: (schema: string, name: string) => QualifiedName;
}

export interface NewPartition {
  table: QualifiedName;
  parent: QualifiedName;
  /** FOR VALUES … as pg_get_expr prints the partition bound. */
  bound: string;
}

interface RawPartitionRow {
  root: number;
  schema: string;
  name: string;
  parent_schema: string;
  parent_name: string;
  bound: string;
}

/**
 * New partitions the running apply does not know: seen while the stream ran (not in the publication
 * yet), or published as the stream started under a table list read before they existed. The apply
 * starts again with the tables as they are now, publishing them (or saying why not).
 */
export class NewPartitionsSeen extends PgferryError {
  constructor(readonly partitions: NewPartition[]) {
    super(
      'state',
      `partition(s) ${partitions.map((p) => qualify(p.table.schema, p.table.name)).join(', ')} created or attached ` +
        'on the source after the task started: the apply starts again to take them in',
      { hint: 'run the same command again: the apply adds them to the publication, or says what they need' },
    );
    this.name = 'NewPartitionsSeen';
  }
}

/** Selected partitions (leaves) of the watched roots that the publication does not hold. */
export async function unpublishedPartitions(
  c: pg.Client,
  publication: string,
  watch: PartitionWatch,
): Promise<NewPartition[]> {
  if (!watch.roots.length) return [];
  const r = await c.query<RawPartitionRow>(
    `SELECT x.i::int AS root, ln.nspname AS schema, l.relname AS name, pn.nspname AS parent_schema,
            p.relname AS parent_name, pg_catalog.pg_get_expr(l.relpartbound, l.oid) AS bound
       FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS x(s, n, i)
       JOIN pg_catalog.pg_namespace rn ON rn.nspname = x.s
       JOIN pg_catalog.pg_class r ON r.relnamespace = rn.oid AND r.relname = x.n
       CROSS JOIN LATERAL pg_catalog.pg_partition_tree(r.oid) t
       JOIN pg_catalog.pg_class l ON l.oid = t.relid AND l.relkind = 'r'
       JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace
       JOIN pg_catalog.pg_class p ON p.oid = t.parentrelid
       JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
      WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_publication_rel pr
                          JOIN pg_catalog.pg_publication pb ON pb.oid = pr.prpubid
                         WHERE pb.pubname = $3 AND pr.prrelid = l.oid)
      ORDER BY 1, 2, 3`,
    [watch.roots.map((x) => x.schema), watch.roots.map((x) => x.name), publication],
  );
  return r.rows
    .filter((row) => watch.selected(row.schema, row.name, watch.roots[row.root - 1]))
    .map((row) => ({
      table: { schema: row.schema, name: row.name },
      parent: { schema: row.parent_schema, name: row.parent_name },
      bound: row.bound,
    }));
}

const q = (n: QualifiedName) => qualify(n.schema, n.name);

function missingOnTarget(p: NewPartition, watch: PartitionWatch): PgferryError {
  const t = watch.target(p.table.schema, p.table.name);
  const parent = watch.target(p.parent.schema, p.parent.name);
  return new PgferryError(
    'data',
    `partition ${q(p.table)} of ${q(p.parent)} was created or attached on the source after the task started, ` +
      `and the target has no table ${q(t)} for its changes (DDL is not replicated)`,
    {
      hint:
        `create it on the target (CREATE TABLE ${q(t)} PARTITION OF ${q(parent)} ${p.bound};), then run the same ` +
        'command again: pgferry adds it to the publication while it holds no row and the apply continues from the ' +
        'last transaction it committed',
    },
  );
}

function holdsRows(p: NewPartition, publication: string): PgferryError {
  return new PgferryError(
    'data',
    `partition ${q(p.table)} of ${q(p.parent)} was created or attached on the source after the task started and ` +
      `already holds rows: they were written while it was not in publication ${quoteIdent(publication)} and did not ` +
      'reach the target',
    {
      hint:
        'with writes to it stopped, copy its rows to the target partition, then on the source run ' +
        `ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ${q(p.table)}; and run the same command again — ` +
        'or migrate the task again from the start',
    },
  );
}

/**
 * Add each new partition to the publication, when the target has its table and it holds no row
 * on the source: its writes are held back (SHARE lock) from the emptiness check to the commit, so
 * every row it ever holds is streamed. Otherwise stop naming it and the fix. Returns those added.
 */
export async function publishNewPartitions(
  src: pg.Client,
  tgt: pg.Client,
  publication: string,
  watch: PartitionWatch,
): Promise<NewPartition[]> {
  const found = await unpublishedPartitions(src, publication, watch);
  for (const p of found) {
    const t = watch.target(p.table.schema, p.table.name);
    const there = await tgt.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [q(t)]);
    if (!there.rows[0].ok) throw missingOnTarget(p, watch);
    await src.query('BEGIN');
    try {
      await src.query(`LOCK TABLE ONLY ${q(p.table)} IN SHARE MODE`);
      const rows = await src.query(`SELECT 1 FROM ONLY ${q(p.table)} LIMIT 1`);
      if (rows.rowCount) throw holdsRows(p, publication);
      await src.query(`ALTER PUBLICATION ${quoteIdent(publication)} ADD TABLE ONLY ${q(p.table)}`);
      await src.query('COMMIT');
    } catch (e) {
      await src.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }
  return found;
}

interface RawLeafRow {
  schema: string;
  name: string;
  parent_schema: string;
  parent_name: string;
  bound: string;
}

/**
 * The target lacks the partition a streamed row belongs in (`err`: "no partition of relation … found
 * for row" on `root`'s target table): an error naming the table, the row's key and the statements
 * creating the source's partitions of it that the target has not.
 */
export async function noTargetPartition(
  src: pg.Client,
  tgt: pg.Client,
  root: { source: QualifiedName; target: QualifiedName },
  target: PartitionWatch['target'],
  err: Error & { detail?: string },
): Promise<PgferryError> {
  const r = await src.query<RawLeafRow>(
    `SELECT ln.nspname AS schema, l.relname AS name, pn.nspname AS parent_schema, p.relname AS parent_name,
            pg_catalog.pg_get_expr(l.relpartbound, l.oid) AS bound
       FROM pg_catalog.pg_partition_tree($1::regclass) t
       JOIN pg_catalog.pg_class l ON l.oid = t.relid
       JOIN pg_catalog.pg_namespace ln ON ln.oid = l.relnamespace
       JOIN pg_catalog.pg_class p ON p.oid = t.parentrelid
       JOIN pg_catalog.pg_namespace pn ON pn.oid = p.relnamespace
      ORDER BY t.level, 1, 2`,
    [q(root.source)],
  );
  const names = r.rows.map((row) => q(target(row.schema, row.name)));
  const there = await tgt.query<{ ok: boolean }>(
    'SELECT to_regclass(x) IS NOT NULL AS ok FROM unnest($1::text[]) WITH ORDINALITY u(x, i) ORDER BY i',
    [names],
  );
  const create = r.rows
    .filter((_, i) => !there.rows[i].ok)
    .map(
      (row) =>
        `CREATE TABLE ${q(target(row.schema, row.name))} PARTITION OF ` +
        `${q(target(row.parent_schema, row.parent_name))} ${row.bound};`,
    );
  return new PgferryError(
    'data',
    `the target table ${q(root.target)} has no partition for a row streamed from ${q(root.source)} ` +
      `(${err.detail ?? err.message}): a partition was created or attached on the source after the task started ` +
      '(DDL is not replicated)',
    {
      hint:
        `create the partition on the target${create.length ? ` (the source has: ${create.join(' ')})` : ''}, then run ` +
        'the same command again: the apply continues from the last transaction it committed',
    },
  );
}
