/** Per-table progress: rows and bytes done of each selected table. */
import { formatBytes, formatCount } from '../format';
import type { TableProgress } from '../types';
import { ProgressBar } from '../ui/progress-bar';

export function TablesTable({ tables }: { tables: TableProgress[] }) {
  if (tables.length === 0) return <p class="muted">No table has started yet.</p>;
  return (
    <div class="table-scroll">
      <table class="tables">
        <caption class="sr-only">Progress per table</caption>
        <thead>
          <tr>
            <th scope="col">Table</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Rows done</th>
            <th scope="col">Rows total</th>
            <th scope="col">Bytes</th>
          </tr>
        </thead>
        <tbody>
          {tables.map((t) => (
            <tr key={t.name} data-table={t.name}>
              <th scope="row">{t.name}</th>
              <td>
                <span class={`badge badge-${t.status}`}>{t.status}</span>
              </td>
              <td>
                <ProgressBar done={t.rowsDone} total={t.rowsTotal} label={`progress of ${t.name}`} />
              </td>
              <td class="num rows-done">{formatCount(t.rowsDone)}</td>
              <td class="num">{formatCount(t.rowsTotal)}</td>
              <td class="num">{formatBytes(t.bytesDone)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
