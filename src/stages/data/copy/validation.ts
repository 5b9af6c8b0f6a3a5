/**
 * A foreign key the data stage added NOT VALID (Statement.validation) but did not validate — its
 * run stopped in between, or a later run leaves foreign keys to post-data — is validated, not added
 * again (which would fail: it exists) nor dropped first.
 */
import type { Statement } from '../../../core/statement.js';
import { notValidKey } from '../../../state/keys.js';

export function validateAdded(stmts: Statement[], done: Set<string>): Statement[] {
  return stmts.map((s) =>
    s.validation && done.has(notValidKey(s.key)) && !done.has(s.key)
      ? { ...s, sql: s.validation.validate, drop: undefined }
      : s,
  );
}
