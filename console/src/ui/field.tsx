/** A text input with its label tied to it (for= / id), and an optional hint tied by aria-describedby. */
interface FieldProps {
  id: string;
  label: string;
  value: string;
  onInput: (v: string) => void;
  type?: 'text' | 'password';
  hint?: string;
  autoComplete?: string;
  required?: boolean;
  inputMode?: 'numeric' | 'text';
}

export function Field(p: FieldProps) {
  const hintId = p.hint ? `${p.id}-hint` : undefined;
  return (
    <div class="field">
      <label for={p.id}>
        {p.label}
        {p.required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={p.id}
        type={(p.type ?? 'text') as 'text'}
        value={p.value}
        required={p.required}
        autoComplete={p.autoComplete ?? 'off'}
        inputMode={p.inputMode}
        aria-describedby={hintId}
        onInput={(e) => p.onInput((e.currentTarget as HTMLInputElement).value)}
      />
      {p.hint && (
        <small id={hintId} class="hint">
          {p.hint}
        </small>
      )}
    </div>
  );
}
