/** Pause, resume, stop and verify; limits changed live (rows/s, bytes/s, jobs). */
import { useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { announce, announceError } from '../announce';
import { formatBytes, formatCount } from '../format';
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

/** A limit as typed: empty → unchanged; "20k", "50MB", "off" are read by the service. */
const rate = (s: string): string | undefined => s.trim() || undefined;

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
    const body = { rowsPerSec: rate(rows), bytesPerSec: rate(bytes), jobs: jobs.trim() ? Number(jobs) : undefined };
    if (body.jobs !== undefined && !(Number.isInteger(body.jobs) && body.jobs >= 1)) {
      setError({ cause: 'jobs is not a whole number from 1 to 64', fix: 'enter e.g. 4, or leave it empty' });
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
  const rowsNow = l.rowsPerSec ? `${formatCount(l.rowsPerSec)} rows/s` : 'no row limit';
  const bytesNow = l.bytesPerSec ? `${formatBytes(l.bytesPerSec)}/s` : 'no byte limit';
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
          Now: <span class="limit-rows">{rowsNow}</span>, {bytesNow}, {l.jobs} jobs.
        </p>
        <div class="grid">
          <Field id="limit-rows" label="Rows per second" value={rows} onInput={setRows} hint='e.g. 20k, or "off"' />
          <Field
            id="limit-bytes"
            label="Bytes per second"
            value={bytes}
            onInput={setBytes}
            hint='e.g. 50MB, or "off"'
          />
          <Field id="limit-jobs" label="Jobs" value={jobs} onInput={setJobs} inputMode="numeric" />
        </div>
        <button type="submit">Apply limits</button>
      </form>
      {error && <CauseFixNote error={error} />}
    </div>
  );
}
