/** Finish: remove the task's checkpoints and show the account clean-up SQL for copying. */
import { useRef, useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { announce, announceError } from '../announce';
import type { CauseFix } from '../types';
import { CauseFixNote } from '../ui/cause-fix';

export function FinishPanel({ id, enabled }: { id: string; enabled: boolean }) {
  const [sql, setSql] = useState<string | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  const [copied, setCopied] = useState(false);
  const area = useRef<HTMLTextAreaElement>(null);
  const finish = async () => {
    setError(null);
    try {
      const r = await api.action(id, 'finish');
      setSql(r.cleanupSql ?? '-- nothing to clean up');
      announce('Task finished: the account clean-up SQL is shown');
    } catch (e) {
      setError(causeOf(e));
      announceError(causeOf(e).cause);
    }
  };
  const copy = async () => {
    area.current?.select();
    try {
      await navigator.clipboard.writeText(sql ?? '');
    } catch {
      document.execCommand('copy');
    }
    setCopied(true);
    announce('Copied');
  };
  return (
    <div>
      {sql === null ? (
        <>
          <p>
            Removes the task's checkpoints from the target; then shows the SQL that drops the migration accounts'
            grants.
          </p>
          <button type="button" onClick={finish} disabled={!enabled}>
            Finish task
          </button>
          {!enabled && <p class="muted">Available once the task is done.</p>}
        </>
      ) : (
        <>
          <label for="cleanup-sql">Account clean-up SQL</label>
          <textarea id="cleanup-sql" ref={area} readOnly rows={8} value={sql} />
          <button type="button" onClick={copy}>
            Copy SQL
          </button>
          {copied && <span role="status"> Copied.</span>}
        </>
      )}
      {error && <CauseFixNote error={error} />}
    </div>
  );
}
