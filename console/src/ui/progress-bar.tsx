/** A labelled progress bar (native <progress>, so assistive technology reads its value). */
import { fraction } from '../format';

export function ProgressBar({ done, total, label }: { done: number; total: number; label: string }) {
  const f = fraction(done, total);
  return (
    <span class="progress">
      <progress aria-label={label} max={1} value={f ?? undefined} />
      <span class="progress-pct">{f === null ? '–' : `${Math.round(f * 100)} %`}</span>
    </span>
  );
}
