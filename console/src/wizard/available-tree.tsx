/** Available objects: schemas → tables → columns, searchable; checked ones are added to the selection. */
import { useState } from 'preact/hooks';
import { formatBytes, formatCount } from '../format';
import type { CatalogSchema, CatalogTable } from '../types';
import { domId, type Pick, pickKey } from './state';

interface Props {
  schemas: CatalogSchema[];
  picked: Set<string>;
  onAdd: (picks: Pick[]) => void;
}

const matches = (q: string, ...names: string[]) => names.some((n) => n.toLowerCase().includes(q));

function tableMatches(q: string, t: CatalogTable): boolean {
  return !q || matches(q, t.name) || t.columns.some((c) => matches(q, c.name));
}

export function AvailableTree({ schemas, picked, onAdd }: Props) {
  const [query, setQuery] = useState('');
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [checked, setChecked] = useState<Pick[]>([]);
  const q = query.trim().toLowerCase();
  const toggleOpen = (k: string) => {
    const n = new Set(open);
    n.has(k) ? n.delete(k) : n.add(k);
    setOpen(n);
  };
  const isChecked = (p: Pick) => checked.some((c) => pickKey(c) === pickKey(p));
  const toggleCheck = (p: Pick) =>
    setChecked(isChecked(p) ? checked.filter((c) => pickKey(c) !== pickKey(p)) : [...checked, p]);
  const add = () => {
    onAdd(checked.filter((p) => !picked.has(pickKey(p))));
    setChecked([]);
  };
  const visible = schemas
    .map((s) => ({ s, tables: matches(q, s.name) ? s.tables : s.tables.filter((t) => tableMatches(q, t)) }))
    .filter(({ s, tables }) => !q || matches(q, s.name) || tables.length > 0);
  return (
    <section class="panel" aria-labelledby="available-h">
      <h3 id="available-h">Available</h3>
      <div class="field">
        <label for="object-search">Search schemas, tables and columns</label>
        <input id="object-search" type="search" value={query} onInput={(e) => setQuery(e.currentTarget.value)} />
      </div>
      <ul class="tree">
        {visible.map(({ s, tables }) => (
          <SchemaNode
            key={s.name}
            schema={s}
            tables={tables}
            expanded={open.has(s.name) || q !== ''}
            isOpen={(k) => open.has(k)}
            onToggle={toggleOpen}
            isChecked={isChecked}
            isPicked={(p) => picked.has(pickKey(p))}
            onCheck={toggleCheck}
          />
        ))}
      </ul>
      {visible.length === 0 && <p class="muted">Nothing matches “{query}”.</p>}
      <button type="button" onClick={add} disabled={checked.length === 0}>
        Add to selection →
      </button>
    </section>
  );
}

interface SchemaProps {
  schema: CatalogSchema;
  /** the tables the search leaves */
  tables: CatalogTable[];
  expanded: boolean;
  isOpen: (key: string) => boolean;
  onToggle: (key: string) => void;
  isChecked: (p: Pick) => boolean;
  isPicked: (p: Pick) => boolean;
  onCheck: (p: Pick) => void;
}

function SchemaNode({ schema: s, tables, expanded, isOpen, onToggle, isChecked, isPicked, onCheck }: SchemaProps) {
  const sp: Pick = { kind: 'schema', schema: s.name };
  const tp = (t: CatalogTable): Pick => ({ kind: 'table', schema: s.name, table: t.name });
  return (
    <li>
      <div class="tree-row">
        <button
          type="button"
          class="disclosure"
          aria-expanded={expanded}
          aria-label={`${expanded ? 'Hide' : 'Show'} tables of schema ${s.name}`}
          onClick={() => onToggle(s.name)}
        >
          {expanded ? '▾' : '▸'}
        </button>
        <input
          type="checkbox"
          id={domId('av', s.name)}
          checked={isChecked(sp)}
          disabled={isPicked(sp)}
          onChange={() => onCheck(sp)}
        />
        <label for={domId('av', s.name)}>
          <strong>{s.name}</strong> <span class="muted">schema, {s.tables.length} tables</span>
        </label>
      </div>
      {expanded && (
        <ul>
          {tables.map((t) => (
            <TableNode
              key={t.name}
              schema={s.name}
              t={t}
              open={isOpen(`${s.name}.${t.name}`)}
              onToggle={() => onToggle(`${s.name}.${t.name}`)}
              checked={isChecked(tp(t))}
              disabled={isPicked(sp) || isPicked(tp(t))}
              onCheck={() => onCheck(tp(t))}
            />
          ))}
        </ul>
      )}
    </li>
  );
}

interface NodeProps {
  schema: string;
  t: CatalogTable;
  open: boolean;
  onToggle: () => void;
  checked: boolean;
  disabled: boolean;
  onCheck: () => void;
}

function TableNode({ schema, t, open, onToggle, checked, disabled, onCheck }: NodeProps) {
  const id = domId('av', schema, t.name);
  return (
    <li>
      <div class="tree-row">
        <button
          type="button"
          class="disclosure"
          aria-expanded={open}
          aria-label={`${open ? 'Hide' : 'Show'} columns of ${schema}.${t.name}`}
          onClick={onToggle}
        >
          {open ? '▾' : '▸'}
        </button>
        <input type="checkbox" id={id} checked={checked} disabled={disabled} onChange={onCheck} />
        <label for={id}>
          {t.name}{' '}
          <span class="muted">
            {t.kind}, {t.rowEstimate > 0 ? `~${formatCount(t.rowEstimate)} rows, ` : ''}
            {formatBytes(t.bytes)}
          </span>
        </label>
      </div>
      {open && (
        <ul class="columns">
          {t.columns.map((c) => (
            <li key={c.name}>
              {c.name} <span class="muted">{c.type}</span>
              {!c.nullable && <span class="muted"> not null</span>}
            </li>
          ))}
        </ul>
      )}
    </li>
  );
}
