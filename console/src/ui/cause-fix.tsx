/** An error as pgferry states it: the cause, then what to do about it. */
import type { CauseFix } from '../types';

export function CauseFixNote({ error, title }: { error: CauseFix; title?: string }) {
  return (
    <div class="note note-error" role="alert">
      {title && <p class="note-title">{title}</p>}
      <p>
        <strong>Cause:</strong> <span class="cause">{error.cause}</span>
      </p>
      {error.fix && (
        <p>
          <strong>Fix:</strong> <span class="fix">{error.fix}</span>
        </p>
      )}
    </div>
  );
}
