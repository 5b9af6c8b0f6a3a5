import type { VerifyReport } from '../verify/types.js';
import { plural } from '../../core/plural.js';

const num = (n: number | null) => (n === null ? '-' : n.toLocaleString('en-US'));

/** Human output of `pgferry verify`: one line per table, then the differences. */
export function renderVerify(v: VerifyReport): string {
  const L: string[] = [];
  for (const t of v.tables) {
    const mark = t.ok ? 'ok  ' : 'DIFF';
    const rows =
      t.sourceRows === t.targetRows && t.sourceRows !== null
        ? plural(t.sourceRows, 'row')
        : `source ${num(t.sourceRows)} / target ${num(t.targetRows)} rows`;
    const chunks =
      t.chunks !== undefined
        ? `, ${plural(t.chunks, 'range')}${t.keyColumns?.length ? ` by ${t.keyColumns.join(', ')}` : ' (no key: whole table)'}`
        : '';
    L.push(`${mark} table ${t.key}${t.target !== t.key ? ` → ${t.target}` : ''}: ${t.error ?? rows}${chunks}`);
    for (const m of t.mismatches.slice(0, 20)) {
      L.push(`       range ${m.range}: source ${num(m.sourceCount)}, target ${num(m.targetCount)}`);
      for (const x of m.examples)
        L.push(`         ${x.side === 'source-only' ? 'only on source' : 'only on target'}: ${x.row}`);
    }
    if (t.mismatches.length > 20) L.push(`       … ${t.mismatches.length - 20} more ranges`);
  }
  for (const s of v.sequences) {
    const f = (x: { lastValue: string; isCalled: boolean } | null) =>
      x ? `${x.lastValue}${x.isCalled ? '' : ' (is_called=false)'}` : 'missing';
    if (!s.ok)
      L.push(
        `DIFF sequence ${s.key}${s.target !== s.key ? ` → ${s.target}` : ''}: source ${f(s.source)}, target ${f(s.targetState)}`,
      );
  }
  if (v.sequences.length && v.sequences.every((s) => s.ok)) L.push(`ok   ${plural(v.sequences.length, 'sequence')}`);
  for (const o of v.objects) {
    const extra = [
      o.missing.length ? `missing on target: ${o.missing.slice(0, 10).join(', ')}` : '',
      o.extra.length ? `only on target: ${o.extra.slice(0, 10).join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('; ');
    L.push(
      `${o.ok ? 'ok  ' : 'DIFF'} ${o.kind}: source ${o.sourceCount}, target ${o.targetCount}${extra ? ` (${extra})` : ''}`,
    );
  }
  L.push(`verification ${v.ok ? 'OK' : 'FOUND DIFFERENCES'} (${v.mode} mode, ${v.durationMs} ms)`);
  return L.join('\n');
}
