/** The objects step: the source catalog loaded through the service, Available → Selected. */
import { useEffect, useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { connectionUri } from '../connection';
import type { CatalogSchema, CauseFix } from '../types';
import { CauseFixNote } from '../ui/cause-fix';
import { AvailableTree } from './available-tree';
import { SelectedList } from './selected-list';
import { type Pick, pickKey, type WizardState } from './state';

interface Props {
  state: WizardState;
  update: (patch: Partial<WizardState>) => void;
}

export function ObjectsStep({ state, update }: Props) {
  const [schemas, setSchemas] = useState<CatalogSchema[] | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  const uri = connectionUri(state.source);
  useEffect(() => {
    let alive = true;
    setSchemas(null);
    setError(null);
    api.catalog(uri).then(
      (r) => alive && setSchemas(r.schemas),
      (e) => alive && setError(causeOf(e)),
    );
    return () => {
      alive = false;
    };
  }, [uri]);
  const add = (picks: Pick[]) => {
    // a whole schema replaces the single tables already picked from it
    const schemasAdded = new Set(picks.filter((p) => p.kind === 'schema').map((p) => p.schema));
    const kept = state.picks.filter((p) => !(p.kind === 'table' && schemasAdded.has(p.schema)));
    update({ picks: [...kept, ...picks] });
  };
  if (error) return <CauseFixNote error={error} title="Cannot read the source catalog" />;
  if (!schemas) return <p role="status">Reading the source catalog…</p>;
  return (
    <div class="picker">
      <AvailableTree schemas={schemas} picked={new Set(state.picks.map(pickKey))} onAdd={add} />
      <SelectedList state={state} schemas={schemas} update={update} />
    </div>
  );
}
