/** Task name and run options: parallel jobs, what to do with existing tables, verification, workers. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api';
import { Field } from '../ui/field';
import type { WizardState } from './state';

interface Props {
  state: WizardState;
  update: (patch: Partial<WizardState>) => void;
}

function Choice<T extends string>(p: { id: string; label: string; value: T; options: T[]; onChange: (v: T) => void }) {
  return (
    <div class="field">
      <label for={p.id}>{p.label}</label>
      <select id={p.id} value={p.value} onChange={(e) => p.onChange(e.currentTarget.value as T)}>
        {p.options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </div>
  );
}

function Toggle(p: { id: string; label: string; checked: boolean; onChange: (v: boolean) => void }) {
  return (
    <div class="check">
      <input id={p.id} type="checkbox" checked={p.checked} onChange={(e) => p.onChange(e.currentTarget.checked)} />
      <label for={p.id}>{p.label}</label>
    </div>
  );
}

export function OptionsStep({ state, update }: Props) {
  // the workers' option is offered when the server has a control database (pgferry serve --control)
  const [workers, setWorkers] = useState(false);
  useEffect(() => {
    api.health().then(
      (h) => setWorkers(h.distributed === true),
      () => setWorkers(false),
    );
  }, []);
  return (
    <div class="grid">
      <Field
        id="task-name"
        label="Task name"
        value={state.name}
        onInput={(v) => update({ name: v })}
        hint="Letters, digits, _ . and -; names the task's state and checkpoints."
        required
      />
      <Field
        id="task-jobs"
        label="Parallel COPY jobs"
        value={state.jobs}
        inputMode="numeric"
        onInput={(v) => update({ jobs: v })}
      />
      <Field
        id="task-max-rows"
        label="Rows per second, at most"
        value={state.maxRowsPerSec}
        onInput={(v) => update({ maxRowsPerSec: v })}
        hint="All workers together: e.g. 20000 or 20k; empty for no limit. Can be changed while running."
      />
      <Choice
        id="task-if-exists"
        label="Tables already on the target"
        value={state.ifExists}
        options={['error', 'skip', 'truncate', 'drop']}
        onChange={(v) => update({ ifExists: v })}
      />
      <Choice
        id="task-verify"
        label="Verify after the copy"
        value={state.verify}
        options={['none', 'count', 'hash']}
        onChange={(v) => update({ verify: v })}
      />
      <Toggle
        id="task-no-owner"
        label="Objects belong to the target account (do not set owners)"
        checked={state.noOwner}
        onChange={(v) => update({ noOwner: v })}
      />
      <Toggle
        id="task-no-acl"
        label="Do not copy grants"
        checked={state.noAcl}
        onChange={(v) => update({ noAcl: v })}
      />
      {workers && (
        <Toggle
          id="task-distributed"
          label="Copy on workers (pgferry worker processes on the server's control database)"
          checked={state.distributed}
          onChange={(v) => update({ distributed: v })}
        />
      )}
    </div>
  );
}
