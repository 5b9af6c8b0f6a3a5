/** A precheck report as the API shows it: pass/warning/fail/skipped, objects, and the fix. */
import type { Redactor } from '../core/redact.js';
import type { PrecheckReport } from '../stages/precheck/index.js';
import { scrub } from '../state/scrub.js';
import type { ApiPrecheck, ApiPrecheckItem } from './service-state.js';

const RESULT: Record<string, ApiPrecheckItem['result']> = {
  passed: 'pass',
  failed: 'fail',
  warning: 'warning',
  skipped: 'skipped',
};

export function toApiPrecheck(r: PrecheckReport, redactor: Redactor): ApiPrecheck {
  const items = r.items.map((i) => {
    const item: ApiPrecheckItem = {
      id: i.id,
      title: i.title,
      // an error-level failure blocks; a failed item of lower severity is a warning
      result: i.result === 'failed' && i.severity !== 'error' ? 'warning' : RESULT[i.result],
      message: i.message,
      objects: i.objects,
    };
    if (i.hint) item.fix = i.hint;
    return item;
  });
  return scrub({ ok: r.ok, items, at: new Date().toISOString() }, redactor);
}
