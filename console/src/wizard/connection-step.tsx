/** One side's connection form with its Test Connectivity button and the result. */
import { useState } from 'preact/hooks';
import { api, causeOf } from '../api';
import { announce, announceError } from '../announce';
import { type ConnFields, connectionUri, missingField, SSL_MODES } from '../connection';
import type { CauseFix, PingReply } from '../types';
import { CauseFixNote } from '../ui/cause-fix';
import { Field } from '../ui/field';

interface Props {
  side: 'source' | 'target';
  value: ConnFields;
  onChange: (v: ConnFields) => void;
}

type TestState =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'done'; reply: PingReply }
  | { kind: 'error'; e: CauseFix };

export function ConnectionStep({ side, value, onChange }: Props) {
  const [test, setTest] = useState<TestState>({ kind: 'idle' });
  const set = (k: keyof ConnFields) => (v: string) => {
    onChange({ ...value, [k]: v });
    setTest({ kind: 'idle' });
  };
  const id = (k: string) => `${side}-${k}`;
  const run = async () => {
    const missing = missingField(value);
    if (missing) {
      setTest({ kind: 'error', e: { cause: missing.split(':')[0], fix: missing.split(':')[1]?.trim() ?? '' } });
      announceError(missing);
      return;
    }
    setTest({ kind: 'busy' });
    try {
      const reply = await api.testConnection(connectionUri(value));
      setTest({ kind: 'done', reply });
      if (reply.ok) announce(`${side} connected: PostgreSQL ${reply.serverVersion}, ${reply.latencyMs} ms`);
      else announceError(`${side} connection failed: ${reply.error?.cause ?? ''}`);
    } catch (e) {
      setTest({ kind: 'error', e: causeOf(e) });
      announceError(causeOf(e).cause);
    }
  };
  return (
    <fieldset class="conn">
      <legend>{side === 'source' ? 'Source database' : 'Target database'}</legend>
      <div class="grid">
        <Field id={id('host')} label="Host" value={value.host} onInput={set('host')} required />
        <Field id={id('port')} label="Port" value={value.port} onInput={set('port')} inputMode="numeric" />
        <Field id={id('database')} label="Database" value={value.database} onInput={set('database')} required />
        <Field id={id('user')} label="User" value={value.user} onInput={set('user')} required />
        <Field
          id={id('password')}
          label="Password"
          type="password"
          autoComplete="new-password"
          value={value.password}
          onInput={set('password')}
          hint="Sent to the pgferry service only; never shown again."
        />
        <div class="field">
          <label for={id('sslmode')}>SSL mode</label>
          <select
            id={id('sslmode')}
            value={value.sslmode}
            onChange={(e) => set('sslmode')((e.currentTarget as HTMLSelectElement).value)}
          >
            {SSL_MODES.map((m) => (
              <option key={m} value={m}>
                {m}
              </option>
            ))}
          </select>
        </div>
      </div>
      <div class="actions">
        <button type="button" onClick={run} disabled={test.kind === 'busy'}>
          Test connectivity
        </button>
        {test.kind === 'busy' && <span class="muted">Connecting…</span>}
      </div>
      <div class={`test-result test-${side}`}>
        {test.kind === 'done' && test.reply.ok && (
          <p class="note note-ok" role="status">
            Connected: PostgreSQL <span class="version">{test.reply.serverVersion}</span>, latency{' '}
            <span class="latency">{test.reply.latencyMs}</span> ms
          </p>
        )}
        {test.kind === 'done' && !test.reply.ok && test.reply.error && (
          <CauseFixNote error={test.reply.error} title="Connection failed" />
        )}
        {test.kind === 'error' && <CauseFixNote error={test.e} title="Connection not tested" />}
      </div>
    </fieldset>
  );
}
