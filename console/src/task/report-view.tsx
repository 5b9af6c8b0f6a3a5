/** The task's report (report.md rendered), loaded once the task has one. */
import { useEffect, useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import type { CauseFix } from '../types';
import { CauseFixNote } from '../ui/cause-fix';
import { Markdown } from './markdown';

export function ReportView({ id, version }: { id: string; version: string }) {
  const [text, setText] = useState<string | null>(null);
  const [error, setError] = useState<CauseFix | null>(null);
  useEffect(() => {
    let alive = true;
    api.reportMarkdown(id).then(
      (t) => alive && (setText(t), setError(null)),
      (e) => alive && setError(causeOf(e)),
    );
    return () => {
      alive = false;
    };
  }, [id, version]);
  if (error) return <CauseFixNote error={error} />;
  if (text === null) return <p class="muted">The report is written when the run ends.</p>;
  return <Markdown text={text} />;
}
