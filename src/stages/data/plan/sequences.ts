/**
 * Sequences whose values move (setval on the target from the values read in the snapshot):
 * every sequence in a selected schema that an extension does not own, including those
 * behind serial and identity columns (with includeTables, those the selected tables need).
 */
import type pg from 'pg';
import type { Selection } from '../../../core/selection.js';
import type { QualifiedName } from './types.js';
import { readFacts, type CatalogFacts } from '../../schema/catalog/facts.js';

/** The sequences whose values move, from the catalog facts. */
export function copySequencesOf(
  facts: CatalogFacts,
  sel: Selection,
): { source: QualifiedName; target: QualifiedName }[] {
  return (
    facts.sequences
      .filter((s) => sel.sequenceSelected(s.schema, s.name))
      // a sequence owned by a table that is not selected stays behind with its table
      .filter((s) => s.ownedBy === null || sel.tableSelected(s.ownedBy.schema, s.ownedBy.name))
      .map((s) => ({
        source: { schema: s.schema, name: s.name },
        target: { schema: sel.targetSchema(s.schema), name: s.name },
      }))
  );
}

/** Read the catalog facts and list the sequences (for a caller without a catalog read of its own). */
export async function listSequences(
  source: pg.Client,
  sel: Selection,
): Promise<{ source: QualifiedName; target: QualifiedName }[]> {
  return copySequencesOf(await readFacts(source), sel);
}
