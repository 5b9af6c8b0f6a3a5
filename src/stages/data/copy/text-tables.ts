/** Report the tables that go as text although the run uses binary COPY, with the column and type. */
import type { CopyTable } from '../plan/types.js';
import type { TaskConfig } from '../../../core/config.js';
import type { EventBus } from '../../../core/events.js';
import { describeTextReason, type Format, type TextReason } from './format.js';

export function emitTextTables(
  events: EventBus,
  tables: CopyTable[],
  textOnly: Map<string, TextReason>,
  runFormat: Format,
  asked: TaskConfig['copy']['format'],
): void {
  if (runFormat !== 'binary' || textOnly.size === 0) return;
  for (const t of tables) {
    const r = textOnly.get(t.key);
    if (!r) continue;
    const reason = describeTextReason(r);
    events.emit({ type: 'copy-format', table: t.key, format: 'text', column: r.column, columnType: r.type, reason });
  }
  const names = [...textOnly.keys()];
  const list = `${names.slice(0, 10).join(', ')}${names.length > 10 ? `, … (${names.length - 10} more)` : ''}`;
  const msg =
    `${names.length} table(s) copied as text, not binary, because of a column type: ${list} ` +
    '(the report names the columns)';
  if (asked === 'binary') events.warn(`copy.format binary applies where binary COPY is possible; ${msg}`);
  else events.info(msg);
}
