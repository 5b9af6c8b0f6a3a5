/** The five stages with their state and timings. */
import { formatDuration, formatTime } from '../format';
import type { StageInfo, StageName } from '../types';

const LABELS: Record<StageName, string> = {
  precheck: 'Precheck',
  schema: 'Schema',
  data: 'Full data',
  'post-data': 'Post-data',
  verify: 'Verify',
};
const ORDER: StageName[] = ['precheck', 'schema', 'data', 'post-data', 'verify'];

export function Stages({ stages }: { stages: StageInfo[] }) {
  const byName = new Map(stages.map((s) => [s.name, s]));
  return (
    <ol class="stages">
      {ORDER.map((name) => {
        const s = byName.get(name);
        const status = s?.status ?? 'pending';
        return (
          <li key={name} class={`stage stage-${status}`}>
            <span class="stage-name">{LABELS[name]}</span>
            <span class={`badge badge-${status}`}>{status}</span>
            <span class="stage-time">
              {s?.durationMs !== undefined
                ? formatDuration(s.durationMs)
                : s?.startedAt
                  ? `since ${formatTime(s.startedAt)}`
                  : '–'}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
