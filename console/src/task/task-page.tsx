/** One task: stages, controls, per-table progress, live throughput, verify results, report and finish. */
import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from '../api';
import { announce } from '../announce';
import { formatCount, formatEta } from '../format';
import { StatusBadge, usePolling } from '../task-list';
import { CauseFixNote } from '../ui/cause-fix';
import { ProgressBar } from '../ui/progress-bar';
import { Controls } from './controls';
import { FinishPanel } from './finish-panel';
import { CutoverPanel } from './cutover-panel';
import { ReportView } from './report-view';
import { Stages } from './stages';
import { TablesTable } from './tables-table';
import { ThroughputChart } from './throughput-chart';
import { useTaskEvents } from './use-events';
import type { VerifyRow } from './use-events';

function Section({ id, title, children }: { id: string; title: string; children: preact.ComponentChildren }) {
  return (
    <section aria-labelledby={id} class="card">
      <h2 id={id}>{title}</h2>
      {children}
    </section>
  );
}

function VerifyTable({ rows }: { rows: VerifyRow[] }) {
  if (rows.length === 0) return <p class="muted">No verification yet.</p>;
  const differ = rows.filter((r) => !r.ok).length;
  return (
    <div class="table-scroll">
      <p class="verify-summary">
        {differ === 0 ? (
          <>
            <span class="badge badge-pass">Verification OK</span> all {formatCount(rows.length)} tables equal
          </>
        ) : (
          <>
            <span class="badge badge-fail">Differences found</span> {formatCount(differ)} of {formatCount(rows.length)}{' '}
            tables differ
          </>
        )}
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col">Result</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.table}>
              <th scope="row">{r.table}</th>
              <td>
                <span class={`badge badge-${r.ok ? 'pass' : 'fail'}`}>{r.ok ? 'equal' : 'differs'}</span>
              </td>
              <td class="wrap">{r.detail}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function TaskPage({ id }: { id: string }) {
  const events = useTaskEvents(id);
  const [bump, setBump] = useState(0);
  const { data: task, error } = usePolling(() => api.task(id), 2000, [id, events.changes, bump]);
  const lastStatus = useRef<string | null>(null);
  useEffect(() => {
    if (task && task.status !== lastStatus.current) {
      if (lastStatus.current !== null) announce(`Task ${id} is ${task.status}`);
      lastStatus.current = task.status;
    }
  }, [task?.status]);
  if (!task) return error ? <CauseFixNote error={error} /> : <p role="status">Loading task {id}…</p>;
  const p = task.progress;
  const rowsText = p && `${formatCount(p.rowsDone)}${p.rowsTotal > 0 ? ` of ${formatCount(p.rowsTotal)}` : ''} rows`;
  return (
    <div class="task-page">
      <div class="section-head">
        <h1>
          Task <span class="task-id">{task.id}</span>
        </h1>
        <StatusBadge status={task.status} />
        {task.runnerNote && <span class="runner-note">{task.runnerNote}</span>}
      </div>
      <p class="summary">
        Stage <strong>{task.phase || '–'}</strong>, attempts {task.attempts}
        {p && (
          <>
            {' '}
            · {p.rowsTotal > 0 && <ProgressBar done={p.rowsDone} total={p.rowsTotal} label="task progress" />}{' '}
            {rowsText},{' '}
            <span class="rate">
              {task.status === 'paused'
                ? 'paused, no rate'
                : `${formatCount(p.rowsPerSec)} rows/s, ETA ${formatEta(p.etaSec)}`}
            </span>
          </>
        )}
      </p>
      {task.error && <CauseFixNote error={task.error} title="The task stopped" />}
      {error && <CauseFixNote error={error} title="Cannot refresh" />}
      <Section id="stages-h" title="Stages">
        <Stages stages={task.stages} />
      </Section>
      <Section id="controls-h" title="Controls">
        <Controls task={task} onChange={() => setBump((b) => b + 1)} />
      </Section>
      <Section id="tables-h" title="Tables">
        <TablesTable tables={task.tables} />
      </Section>
      <Section id="chart-h" title="Throughput">
        <ThroughputChart samples={events.samples} />
      </Section>
      <Section id="verify-h" title="Verification">
        <VerifyTable rows={events.verify} />
      </Section>
      <Section id="report-h" title="Report">
        <ReportView id={id} version={`${task.status}-${task.updatedAt}`} />
      </Section>
      {task.config.incremental === true && (
        <Section id="cutover-h" title="Cutover">
          <CutoverPanel id={id} />
        </Section>
      )}
      <Section id="finish-h" title="Finish">
        <FinishPanel id={id} enabled={task.status === 'done' || task.status === 'mismatch'} />
      </Section>
    </div>
  );
}
