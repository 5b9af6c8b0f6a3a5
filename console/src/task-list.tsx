/** The task list: state, stage, progress, rows/s, ETA, errors and attempts of every task, refreshed every 2 s. */
import { useEffect, useState } from 'preact/hooks';
import { api, causeOf } from './api';
import { formatCount, formatEta } from './format';
import { taskHref } from './router';
import type { CauseFix, TaskSummary } from './types';
import { CauseFixNote } from './ui/cause-fix';
import { ProgressBar } from './ui/progress-bar';

export function usePolling<T>(load: () => Promise<T>, ms: number, deps: unknown[] = []) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  useEffect(() => {
    let alive = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const d = await load();
        if (alive) setData(d), setError(null);
      } catch (e) {
        if (alive) setError(causeOf(e));
      }
      if (alive) timer = setTimeout(tick, ms);
    };
    tick();
    return () => {
      alive = false;
      clearTimeout(timer);
    };
  }, deps);
  return { data, error };
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

function TaskRow({ t }: { t: TaskSummary }) {
  const p = t.progress;
  // a paused copy has no rate and no end in sight: its last figures would mislead
  const paused = t.status === 'paused';
  return (
    <tr>
      <th scope="row">
        <a href={taskHref(t.id)}>{t.id}</a>
      </th>
      <td>
        <StatusBadge status={t.status} />
        {t.runnerNote && <span class="runner-note"> {t.runnerNote}</span>}
      </td>
      <td>{t.phase || '–'}</td>
      <td>{p ? <ProgressBar done={p.rowsDone} total={p.rowsTotal} label={`progress of ${t.id}`} /> : '–'}</td>
      <td class="num">{p && !paused ? formatCount(p.rowsPerSec) : '–'}</td>
      <td class="num">{p && !paused ? formatEta(p.etaSec) : '–'}</td>
      <td class="num">{t.attempts}</td>
      <td class="wrap">
        {t.error ? (
          <span>
            {t.error.cause} <em>Fix: {t.error.fix}</em>
          </span>
        ) : t.nextAttemptAt ? (
          `next attempt ${new Date(t.nextAttemptAt).toLocaleTimeString('en-GB')}`
        ) : (
          ''
        )}
      </td>
    </tr>
  );
}

export function TaskList() {
  const { data, error } = usePolling(() => api.tasks(), 2000);
  return (
    <section aria-labelledby="tasks-h">
      <div class="section-head">
        <h1 id="tasks-h">Tasks</h1>
        <a class="button primary" href="#/new">
          New task
        </a>
      </div>
      {error && <CauseFixNote error={error} />}
      {data && data.tasks.length === 0 && <p>No tasks yet. Create one with “New task”.</p>}
      {data && data.tasks.length > 0 && (
        <div class="table-scroll">
          <table class="tasks">
            <caption class="sr-only">Migration tasks</caption>
            <thead>
              <tr>
                <th scope="col">Task</th>
                <th scope="col">State</th>
                <th scope="col">Stage</th>
                <th scope="col">Progress</th>
                <th scope="col">Rows/s</th>
                <th scope="col">ETA</th>
                <th scope="col">Attempts</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {data.tasks.map((t) => (
                <TaskRow key={t.id} t={t} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
