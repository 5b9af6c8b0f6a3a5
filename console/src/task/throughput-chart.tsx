/** Throughput over time as an SVG line chart (rows/s from the progress events); a table twin for screen readers. */
import { formatCount } from '../format';
import type { Sample } from './use-events';

const W = 600;
const H = 160;
const PAD = { l: 56, r: 8, t: 10, b: 22 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 5, 10].map((m) => m * p).find((m) => m >= v) ?? v;
}

export function ThroughputChart({ samples }: { samples: Sample[] }) {
  if (samples.length < 2) return <p class="muted">The chart starts with the first progress events of the copy.</p>;
  const t0 = samples[0].t;
  const span = Math.max(1, samples[samples.length - 1].t - t0);
  const max = niceMax(Math.max(...samples.map((s) => s.rowsPerSec)));
  const x = (t: number) => PAD.l + ((t - t0) / span) * (W - PAD.l - PAD.r);
  const y = (r: number) => H - PAD.b - (r / max) * (H - PAD.t - PAD.b);
  const points = samples.map((s) => `${x(s.t).toFixed(1)},${y(s.rowsPerSec).toFixed(1)}`).join(' ');
  const last = samples[samples.length - 1];
  const peak = Math.max(...samples.map((s) => s.rowsPerSec));
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title">
        <title id="chart-title">
          Rows per second over {Math.round(span / 1000)} s: now {formatCount(last.rowsPerSec)}, peak {formatCount(peak)}
        </title>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line class="grid" x1={PAD.l} x2={W - PAD.r} y1={y(max * f)} y2={y(max * f)} />
            <text class="axis" x={PAD.l - 6} y={y(max * f) + 4} text-anchor="end">
              {formatCount(max * f)}
            </text>
          </g>
        ))}
        <text class="axis" x={PAD.l} y={H - 4}>
          0 s
        </text>
        <text class="axis" x={W - PAD.r} y={H - 4} text-anchor="end">
          {Math.round(span / 1000)} s
        </text>
        <polyline class="line" points={points} fill="none" />
      </svg>
      <figcaption>
        Rows/s now <strong class="rate-now">{formatCount(last.rowsPerSec)}</strong>, peak {formatCount(peak)} (
        {samples.length} samples)
      </figcaption>
    </figure>
  );
}
