/**
 * The page asking for the API token, shown when the console has none or the server refused it:
 * one labelled field and a button, usable by keyboard; the token is checked against the server
 * before the console opens.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { causeOf, setToken, type TokenState, tokenAccepted } from './api';
import { CauseFixNote } from './ui/cause-fix';

export function TokenPage({ state }: { state: TokenState }) {
  const [value, setValue] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ cause: string; fix: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), []);
  const refused = {
    cause:
      state === 'rejected' ? 'the server refused the API token this console holds' : 'this console has no API token',
    fix: 'enter the token printed by pgferry serve at start (in the console URL after ?token=), or the one it was given with --token or $PGFERRY_TOKEN; it is also kept in the .api-token file of its data dir',
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!value.trim()) {
      setError({ cause: 'the token field is empty', fix: refused.fix });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (await tokenAccepted(value)) {
        setToken(value); // the console opens in place of this page
        return;
      }
      setError({ cause: 'the server refused this token', fix: refused.fix });
    } catch (err) {
      setError(causeOf(err));
    }
    setBusy(false);
  };
  return (
    <section class="token-page" aria-labelledby="token-h">
      <h1 id="token-h" tabIndex={-1} ref={heading}>
        Enter the API token
      </h1>
      <p class="token-why">
        <strong>Why:</strong> {refused.cause}.
      </p>
      <form onSubmit={submit} noValidate>
        <div class="field">
          <label for="token-input">API token</label>
          <input
            id="token-input"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={value}
            aria-describedby="token-hint"
            aria-invalid={error ? true : undefined}
            onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
          />
          <small id="token-hint" class="hint">
            Printed by pgferry serve at start (after ?token= in the console address), or the one it was given with
            --token or $PGFERRY_TOKEN; also kept in the .api-token file of its data dir.
          </small>
        </div>
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Open the console'}
        </button>
      </form>
      {error && <CauseFixNote error={error} title="The token was not accepted" />}
    </section>
  );
}
