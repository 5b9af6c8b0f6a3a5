/**
 * The create-task wizard: source, target, objects, options, precheck and start — in that order.
 * Moving to a step puts the keyboard focus on its heading, so the next Tab continues in that step.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { announceError } from '../announce';
import { missingField } from '../connection';
import { CauseFixNote } from '../ui/cause-fix';
import { ConnectionStep } from './connection-step';
import { ObjectsStep } from './objects-step';
import { OptionsStep } from './options-step';
import { PrecheckStep } from './precheck-step';
import { defaultName, initialWizard, type WizardState } from './state';

const STEPS = ['Source', 'Target', 'Objects', 'Options', 'Precheck and start'];

/** Why the wizard cannot leave step `i` yet, or null. */
function blocker(i: number, s: WizardState): { cause: string; fix: string } | null {
  const conn = i === 0 ? s.source : i === 1 ? s.target : null;
  const missing = conn && missingField(conn);
  if (missing) {
    const [cause, fix] = missing.split(': ');
    return { cause, fix };
  }
  if (i === 3 && !/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(s.name.trim()))
    return { cause: 'the task name is empty or has other characters', fix: 'use letters, digits, "_", "." and "-"' };
  if (i === 3 && !(Number(s.jobs) >= 1 && Number(s.jobs) <= 64))
    return { cause: 'parallel jobs must be a number from 1 to 64', fix: 'enter e.g. 2' };
  if (i === 3 && s.maxRowsPerSec.trim() && !/^\d+(\.\d+)?k?$/i.test(s.maxRowsPerSec.trim()))
    return { cause: 'rows per second is not a number', fix: 'enter e.g. 20000 or 20k, or leave it empty' };
  return null;
}

export function Wizard() {
  const [step, setStep] = useState(0);
  const [state, setState] = useState<WizardState>(initialWizard);
  const [taskId, setTaskId] = useState<string | null>(null);
  const [stop, setStop] = useState<{ cause: string; fix: string } | null>(null);
  const heading = useRef<HTMLHeadingElement>(null);
  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else heading.current?.focus();
  }, [step]);
  const update = (patch: Partial<WizardState>) => setState((s) => ({ ...s, ...patch }));
  const go = (to: number) => {
    if (to > step) {
      const b = blocker(step, state);
      if (b) {
        setStop(b);
        announceError(b.cause);
        return;
      }
      if (to === 3 && !state.name) update({ name: defaultName(state) });
    }
    setStop(null);
    setStep(to);
  };
  return (
    <section aria-labelledby="wizard-h">
      <h1 id="wizard-h">New task</h1>
      <nav aria-label="Wizard steps">
        <ol class="steps">
          {STEPS.map((name, i) => (
            <li key={name} aria-current={i === step ? 'step' : undefined} class={i < step ? 'done' : ''}>
              <span class="step-num">{i + 1}</span> {name}
            </li>
          ))}
        </ol>
      </nav>
      <form class="step" onSubmit={(e) => e.preventDefault()} aria-labelledby="step-h">
        <h2 id="step-h" tabIndex={-1} ref={heading}>
          Step {step + 1} of {STEPS.length}: {STEPS[step]}
        </h2>
        {step === 0 && <ConnectionStep side="source" value={state.source} onChange={(v) => update({ source: v })} />}
        {step === 1 && <ConnectionStep side="target" value={state.target} onChange={(v) => update({ target: v })} />}
        {step === 2 && <ObjectsStep state={state} update={update} />}
        {step === 3 && <OptionsStep state={state} update={update} />}
        {step === 4 && <PrecheckStep state={state} update={update} taskId={taskId} setTaskId={setTaskId} />}
        {stop && <CauseFixNote error={stop} />}
        <div class="actions wizard-nav">
          {step > 0 && (
            <button type="button" onClick={() => go(step - 1)}>
              Back
            </button>
          )}
          {step < STEPS.length - 1 && (
            <button type="button" class="primary" onClick={() => go(step + 1)}>
              Next: {STEPS[step + 1]}
            </button>
          )}
        </div>
      </form>
    </section>
  );
}
