/** Selected objects: remove, per-table row filter / column subset / rename, and schema mapping. */
import { useState } from 'preact/hooks';
import type { CatalogSchema, CatalogTable } from '../types';
import { Field } from '../ui/field';
import { domId, type Pick, pickKey, type TableChoice, tableKey, type WizardState } from './state';

interface Props {
  state: WizardState;
  schemas: CatalogSchema[];
  update: (patch: Partial<WizardState>) => void;
}

const emptyChoice = (): TableChoice => ({ where: '', columns: null, rename: '' });

export function SelectedList({ state, schemas, update }: Props) {
  const [editing, setEditing] = useState<string | null>(null);
  const remove = (p: Pick) => {
    const key = pickKey(p);
    const tableOptions = { ...state.tableOptions };
    delete tableOptions[key];
    update({ picks: state.picks.filter((x) => pickKey(x) !== key), tableOptions });
  };
  const tableOf = (schema: string, table: string): CatalogTable | undefined =>
    schemas.find((s) => s.name === schema)?.tables.find((t) => t.name === table);
  const setChoice = (key: string, c: TableChoice) => update({ tableOptions: { ...state.tableOptions, [key]: c } });
  const pickedSchemas = [...new Set(state.picks.map((p) => p.schema))];
  return (
    <section class="panel" aria-labelledby="selected-h">
      <h3 id="selected-h">Selected</h3>
      {state.picks.length === 0 && <p class="muted">Nothing selected: the whole database is migrated.</p>}
      <ul class="selected">
        {state.picks.map((p) => {
          const key = pickKey(p);
          const label = p.kind === 'schema' ? `schema ${p.schema}` : `${p.schema}.${p.table}`;
          const t = p.kind === 'table' ? tableOf(p.schema, p.table) : undefined;
          return (
            <li key={key}>
              <div class="tree-row">
                <span class="pick-name">{label}</span>
                {p.kind === 'table' && (
                  <button
                    type="button"
                    aria-expanded={editing === key}
                    aria-label={`Options of ${label}`}
                    onClick={() => setEditing(editing === key ? null : key)}
                  >
                    Options
                  </button>
                )}
                <button type="button" aria-label={`Remove ${label}`} onClick={() => remove(p)}>
                  ← Remove
                </button>
              </div>
              {p.kind === 'table' && editing === key && (
                <TableOptionsForm
                  schema={p.schema}
                  table={p.table}
                  columns={t?.columns.map((c) => c.name) ?? []}
                  value={state.tableOptions[key] ?? emptyChoice()}
                  onChange={(c) => setChoice(key, c)}
                />
              )}
            </li>
          );
        })}
      </ul>
      {pickedSchemas.length > 0 && (
        <fieldset class="mapping">
          <legend>Schema mapping (target schema names)</legend>
          {pickedSchemas.map((s) => (
            <Field
              key={s}
              id={domId('map', s)}
              label={`Schema ${s} becomes`}
              value={state.mapSchemas[s] ?? s}
              onInput={(v) => update({ mapSchemas: { ...state.mapSchemas, [s]: v } })}
            />
          ))}
        </fieldset>
      )}
    </section>
  );
}

interface OptionsProps {
  schema: string;
  table: string;
  columns: string[];
  value: TableChoice;
  onChange: (c: TableChoice) => void;
}

function TableOptionsForm({ schema, table, columns, value, onChange }: OptionsProps) {
  const chosen = value.columns ?? columns;
  const toggle = (c: string) => {
    const next = chosen.includes(c)
      ? chosen.filter((x) => x !== c)
      : columns.filter((x) => x === c || chosen.includes(x));
    onChange({ ...value, columns: next.length === columns.length ? null : next });
  };
  const base = domId('opt', tableKey(schema, table));
  return (
    <div class="table-options">
      <Field
        id={`${base}-where`}
        label={`Row filter of ${schema}.${table}`}
        value={value.where}
        onInput={(v) => onChange({ ...value, where: v })}
        hint="An SQL boolean expression over the table's columns, e.g. created_at >= '2024-01-01'"
      />
      <Field
        id={`${base}-rename`}
        label={`New name of ${schema}.${table} on the target`}
        value={value.rename}
        onInput={(v) => onChange({ ...value, rename: v })}
      />
      <fieldset>
        <legend>
          Columns of {schema}.{table} to copy
        </legend>
        <div class="checks">
          {columns.map((c) => (
            <span key={c} class="check">
              <input
                type="checkbox"
                id={domId(base, 'col', c)}
                checked={chosen.includes(c)}
                onChange={() => toggle(c)}
              />
              <label for={domId(base, 'col', c)}>{c}</label>
            </span>
          ))}
        </div>
      </fieldset>
    </div>
  );
}
