/** Precheck: create (or update) the task, run the checks, acknowledge warnings, then start. */
import { useEffect, useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { announce, announceError } from '../announce';
import { navigate, taskHref } from '../router';
import type { CauseFix, PrecheckItem, PrecheckReply } from '../types';
import { CauseFixNote } from '../ui/cause-fix';
import { buildTask, domId, type WizardState } from './state';

interface Props {
  state: WizardState;
  update: (patch: Partial<WizardState>) => void;
  taskId: string | null;
  setTaskId: (id: string) => void;
}

/** Save the wizard's task: create it the first time, replace it afterwards. */
async function save(state: WizardState, taskId: string | null): Promise<string> {
  const body = buildTask(state);
  if (taskId) {
    await api.updateTask(taskId, body);
    return taskId;
  }
  const created = await api.createTask(body);
  return created.id;
}

export function PrecheckStep({ state, update, taskId, setTaskId }: Props) {
  const [reply, setReply] = useState<PrecheckReply | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  const run = async () => {
    setBusy('Running the precheck…');
    setError(null);
    try {
      const id = await save(state, taskId);
      setTaskId(id);
      const r = await api.precheck(id);
      setReply(r);
      const fails = r.items.filter((i) => i.result === 'fail').length;
      announce(`Precheck done: ${r.items.length} items, ${fails} failed`);
    } catch (e) {
      setError(causeOf(e));
      announceError(causeOf(e).cause);
    } finally {
      setBusy(null);
    }
  };
  useEffect(() => {
    run();
  }, []);
  const warnings = reply?.items.filter((i) => i.result === 'warning') ?? [];
  const fails = reply?.items.filter((i) => i.result === 'fail') ?? [];
  const unacked = warnings.filter((w) => !state.acknowledged.includes(w.id));
  const canStart = reply !== null && fails.length === 0 && unacked.length === 0 && !busy;
  const start = async () => {
    if (!taskId) return;
    setBusy('Starting…');
    setError(null);
    try {
      await save(state, taskId);
      await api.action(taskId, 'start');
      announce(`Task ${taskId} started`);
      navigate(taskHref(taskId));
    } catch (e) {
      setError(causeOf(e));
      announceError(causeOf(e).cause);
      setBusy(null);
    }
  };
  const ack = (id: string, on: boolean) =>
    update({ acknowledged: on ? [...state.acknowledged, id] : state.acknowledged.filter((x) => x !== id) });
  return (
    <div>
      {busy && <p role="status">{busy}</p>}
      {error && <CauseFixNote error={error} />}
      {reply && <PrecheckTable items={reply.items} acknowledged={state.acknowledged} onAck={ack} />}
      {fails.length > 0 && (
        <p class="note note-error">
          {fails.length} item(s) failed: apply their fixes (or go back and change the task), then re-run the precheck.
        </p>
      )}
      {unacked.length > 0 && fails.length === 0 && (
        <p class="note">Acknowledge each warning to start (acknowledged items are skipped in the run's precheck).</p>
      )}
      <div class="actions">
        <button type="button" onClick={run} disabled={busy !== null}>
          Re-run precheck
        </button>
        <button type="button" class="primary" onClick={start} disabled={!canStart}>
          Start migration
        </button>
      </div>
    </div>
  );
}

interface TableProps {
  items: PrecheckItem[];
  acknowledged: string[];
  onAck: (id: string, on: boolean) => void;
}

export function PrecheckTable({ items, acknowledged, onAck }: TableProps) {
  return (
    <div class="table-scroll">
      <table class="precheck">
        <caption>Precheck items</caption>
        <thead>
          <tr>
            <th scope="col">Result</th>
            <th scope="col">Check</th>
            <th scope="col">Message and affected objects</th>
            <th scope="col">Fix</th>
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.id} class={`result-${i.result}`}>
              <td>
                <span class={`badge badge-${i.result}`}>{i.result}</span>
                {i.result === 'warning' && (
                  <span class="check">
                    <input
                      type="checkbox"
                      id={domId('ack', i.id)}
                      checked={acknowledged.includes(i.id)}
                      onChange={(e) => onAck(i.id, e.currentTarget.checked)}
                    />
                    <label for={domId('ack', i.id)}>Acknowledge {i.id}</label>
                  </span>
                )}
              </td>
              <th scope="row">
                {i.title} <span class="muted">({i.id})</span>
              </th>
              <td class="wrap">
                {i.message}
                {i.objects.length > 0 && (
                  <ul class="objects">
                    {i.objects.map((o) => (
                      <li key={o}>
                        <code>{o}</code>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td class="wrap">{i.fix ? <pre class="fix">{i.fix}</pre> : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
