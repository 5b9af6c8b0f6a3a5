/** Cutover of an incremental task: the "Cut over" button, then its steps and the write downtime. */
import { useState } from 'preact/hooks';
import { api, causeOf, type CutoverReply } from '../api';
import { announce, announceError } from '../announce';
import type { CauseFix } from '../types';
import { CauseFixNote } from '../ui/cause-fix';

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export function CutoverPanel({ id }: { id: string }) {
  const [readOnly, setReadOnly] = useState(true);
  const [reverse, setReverse] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<CutoverReply | null>(null);
  const [lifted, setLifted] = useState<string[] | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  const run = async () => {
    setError(null);
    setBusy(true);
    try {
      const r = await api.cutover(id, { readOnly, reverse });
      setResult(r);
      announce(`Cut over: writes were stopped for ${secs(r.downtimeMs)}`);
    } catch (e) {
      setError(causeOf(e));
      announceError(causeOf(e).cause);
    } finally {
      setBusy(false);
    }
  };
  const undo = async () => {
    setError(null);
    try {
      const r = await api.cutover(id, { undoReadOnly: true });
      setLifted(r.readOnlyLifted ?? []);
      announce('The source tables accept writes again');
    } catch (e) {
      setError(causeOf(e));
    }
  };
  return (
    <div>
      {result === null ? (
        <>
          <p>
            Stops writes on the source, waits until the target has applied everything, sets the sequences, compares the
            tables by hash and drops the replication slot and publication.
          </p>
          <label>
            <input type="checkbox" checked={readOnly} onChange={(e) => setReadOnly(e.currentTarget.checked)} /> Make the
            source tables read-only for the cutover (otherwise stop the applications' writes first)
          </label>
          <label>
            <input type="checkbox" checked={reverse} onChange={(e) => setReverse(e.currentTarget.checked)} /> Keep a
            rollback path: capture the target's changes for the source (needs wal_level=logical on the target)
          </label>
          <p>
            <button type="button" onClick={run} disabled={busy}>
              {busy ? 'Cutting over…' : 'Cut over'}
            </button>
          </p>
        </>
      ) : (
        <>
          <p role="status">
            Cut over{result.already ? ' (earlier)' : ''}: writes were stopped for{' '}
            <strong>{secs(result.downtimeMs)}</strong>.
          </p>
          <table>
            <caption>Cutover steps</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Time</th>
              </tr>
            </thead>
            <tbody>
              {result.steps.map((s) => (
                <tr key={s.step}>
                  <td>{s.step}</td>
                  <td>{secs(s.durationMs)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {result.readOnly.length > 0 && lifted === null && (
            <p>
              The source still refuses writes to {result.readOnly.length} table(s).{' '}
              <button type="button" onClick={undo}>
                Let the source accept writes again
              </button>
            </p>
          )}
          {result.reverse && (
            <p>
              Rollback path: task {result.reverse.taskId}; roll back with <code>{result.reverse.rollback}</code>
            </p>
          )}
          {lifted !== null && <p role="status">The source accepts writes to {lifted.length} table(s) again.</p>}
        </>
      )}
      {error && <CauseFixNote error={error} title="The cutover stopped" />}
    </div>
  );
}
