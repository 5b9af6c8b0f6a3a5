/** Pause, resume, stop and verify; limits changed live (rows/s, bytes/s, jobs). */
import { useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { announce, announceError } from '../announce';
import type { CauseFix, TaskDetail } from '../types';
import { CauseFixNote } from '../ui/cause-fix';
import { Field } from '../ui/field';

type Verb = 'start' | 'pause' | 'resume' | 'stop' | 'verify';

const ACTIVE = ['running', 'prechecking', 'retrying'];

function allowed(status: string): Verb[] {
  if (ACTIVE.includes(status)) return ['pause', 'stop'];
  if (status === 'paused') return ['resume', 'stop'];
  if (status === 'done' || status === 'mismatch') return ['verify'];
  return ['start'];
}

const num = (s: string): number | null | undefined => {
  const t = s.trim();
  if (t === '') return undefined;
  if (t === 'off' || t === '0') return null;
  return Number(t);
};

export function Controls({ task, onChange }: { task: TaskDetail; onChange: () => void }) {
  const [error, setError] = useState<CauseFix | null>(null);
  const [busy, setBusy] = useState(false);
  const [rows, setRows] = useState('');
  const [bytes, setBytes] = useState('');
  const [jobs, setJobs] = useState('');
  const act = async (verb: Verb) => {
    setBusy(true);
    setError(null);
    try {
      await api.action(task.id, verb);
      announce(`${verb} requested for ${task.id}`);
      onChange();
    } catch (e) {
      setError(causeOf(e));
      announceError(causeOf(e).cause);
    } finally {
      setBusy(false);
    }
  };
  const limits = async (e: Event) => {
    e.preventDefault();
    const body = { rowsPerSec: num(rows), bytesPerSec: num(bytes), jobs: jobs.trim() ? Number(jobs) : undefined };
    if ([body.rowsPerSec, body.bytesPerSec, body.jobs].some((v) => typeof v === 'number' && !(v > 0))) {
      setError({
        cause: 'a limit is not a positive number',
        fix: 'enter a number, "off" for no limit, or leave it empty',
      });
      return;
    }
    try {
      await api.setLimits(task.id, body);
      announce('Limits changed');
      setRows(''), setBytes(''), setJobs('');
      onChange();
    } catch (err) {
      setError(causeOf(err));
      announceError(causeOf(err).cause);
    }
  };
  const l = task.limits;
  return (
    <div>
      <div class="actions">
        {allowed(task.status).map((v) => (
          <button key={v} type="button" disabled={busy} onClick={() => act(v)} class={v === 'stop' ? 'danger' : ''}>
            {v[0].toUpperCase() + v.slice(1)}
          </button>
        ))}
      </div>
      <form class="limits" onSubmit={limits} aria-labelledby="limits-h">
        <h3 id="limits-h">Limits</h3>
        <p class="muted">
          Now: {l.rowsPerSec ? `${l.rowsPerSec} rows/s` : 'no row limit'},{' '}
          {l.bytesPerSec ? `${l.bytesPerSec} bytes/s` : 'no byte limit'}, {l.jobs} jobs.
        </p>
        <div class="grid">
          <Field id="limit-rows" label="Rows per second" value={rows} onInput={setRows} hint='a number, or "off"' />
          <Field id="limit-bytes" label="Bytes per second" value={bytes} onInput={setBytes} hint='a number, or "off"' />
          <Field id="limit-jobs" label="Jobs" value={jobs} onInput={setJobs} inputMode="numeric" />
        </div>
        <button type="submit">Apply limits</button>
      </form>
      {error && <CauseFixNote error={error} />}
    </div>
  );
}
