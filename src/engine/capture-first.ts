/**
 * An incremental run whose copy is still to do reads the source in its replication slot's
 * snapshot, and in nothing else: the publication and then the slot are created first, and the
 * slot's exported snapshot is the run's one snapshot — catalog read, precheck facts, copy list,
 * sequences and every copy worker. DDL committed on the source is then either before the slot
 * (seen by the schema, the copy and not streamed) or after it (seen by none of them).
 *
 * The publication lists the tables as they are just before the slot: a table created in between
 * is in the slot's snapshot but not in the publication, so its changes would not be streamed.
 * The catalog read checks that (in the same snapshot); the publication and the slot are then
 * made again, a few times at most.
 */
import type pg from 'pg';
import { isPgError, PgferryError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { copiesLargeObjects, type Selection } from '../core/selection.js';
import type { TaskConfig } from '../core/config.js';
import type { ConnSpec } from '../pg/connstring.js';
import { checkpointSchemaExists, stateSchemaFor } from '../state/checkpoint.js';
import { captureToDo, discardCapture, openCapture, type OpenedCapture } from '../stages/cdc/capture.js';
import { captureNames } from '../stages/cdc/names.js';
import { publicationMisses } from '../stages/cdc/publication.js';
import type { CopyTable } from '../stages/data/plan/types.js';
import { readSourceSchema } from '../stages/schema/apply.js';
import type { MainSession } from './mainsession.js';
import { readPublishedTables } from './published-tables.js';
import { readInSnapshot } from './run-snapshot.js';

export interface CaptureFirstRun {
  task: TaskConfig;
  taskId: string;
  source: ConnSpec;
  sel: Selection;
  src: MainSession;
  tgt: MainSession;
  o: { events: EventBus };
}

/** The run's catalog read (as runner.ts uses it). */
export type CatalogRead = Awaited<ReturnType<typeof readSourceSchema>>;

export interface CaptureFirst {
  opened: OpenedCapture;
  schema: CatalogRead;
}

/** Attempts at a publication that holds every table of the slot's snapshot. */
const ATTEMPTS = 5;

/** What an earlier run recorded on the target: the copy still to do (with its names), or done (null). */
async function copyToDo(r: CaptureFirstRun): Promise<{ slot: string; publication: string } | null> {
  const c = await r.tgt.client();
  if (!(await checkpointSchemaExists(c, stateSchemaFor(r.taskId)))) return captureNames(r.taskId);
  try {
    const todo = await captureToDo(c, r.taskId);
    return todo && (todo.row ?? captureNames(r.taskId));
  } catch (e) {
    // A checkpoint layout without the capture table: no capture yet.
    if (isPgError(e) && e.code === '42P01') return captureNames(r.taskId);
    throw e;
  }
}

async function refuseLargeObjects(c: pg.Client): Promise<void> {
  const any = await c.query('SELECT 1 FROM pg_catalog.pg_largeobject_metadata LIMIT 1');
  if (!any.rowCount) return;
  throw new PgferryError(
    'usage',
    'large objects cannot be migrated incrementally: logical replication does not carry them',
    {
      hint: 'migrate without --incremental, or select schemas or tables (large objects then stay behind)',
    },
  );
}

/**
 * For an incremental task whose copy is still to do: the slot snapshot and the catalog read in
 * it (undefined for other tasks, and when an earlier run finished the copy).
 */
export async function openCaptureFirst(r: CaptureFirstRun, beforePrecheck: boolean): Promise<CaptureFirst | undefined> {
  if (!r.task.incremental) return undefined;
  const names = await copyToDo(r);
  if (!names) return undefined;
  if (copiesLargeObjects(r.task)) await r.src.run('look for large objects', refuseLargeObjects);
  let tables: CopyTable[] = await r.src.run('list tables', async (c) => (await readPublishedTables(c, r.sel)).tables);
  for (let attempt = 1; ; attempt++) {
    const opened = await openCapture(r.source, names, tables, { renew: attempt > 1, beforePrecheck });
    try {
      const read = await readInSnapshot(r.src, opened.snapshot, 'read the source schema', async (c) => {
        const schema = await readSourceSchema(c, r.sel);
        const published = await readPublishedTables(c, r.sel, schema.model.facts);
        const listed = published.tables;
        return {
          schema,
          listed,
          viaRoot: published.viaRoot,
          missing: await publicationMisses(c, names.publication, listed),
        };
      });
      if (!read.missing.length) {
        if (read.viaRoot.length) {
          r.o.events.warn(
            `published through their root: ${read.viaRoot.join(', ')} — a TRUNCATE of one of their partitions ` +
              'alone is not streamed (truncate the partitioned table), nor the rows of a table attached with rows',
          );
        }
        return { opened, schema: read.schema };
      }
      if (attempt >= ATTEMPTS) {
        throw new PgferryError(
          'state',
          `tables were created on the source while the replication slot was created, ${ATTEMPTS} times: ` +
            read.missing.map((t) => t.key).join(', '),
          { hint: 'run the same command again once the source creates no more tables' },
        );
      }
      r.o.events.info(
        `table(s) created on the source while the replication slot was made (${read.missing.map((t) => t.key).join(', ')}): ` +
          'publication and slot made again',
      );
      tables = read.listed;
      opened.snapshot.close();
    } catch (e) {
      await discardCapture(r.source, opened).catch(() => {});
      throw e;
    }
  }
}
