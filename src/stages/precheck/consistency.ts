/** consistency.writes: a full migration copies one snapshot; later writes on the source are not carried. */
import type { CheckDef } from './types.js';

export const consistencyWrites: CheckDef = {
  id: 'consistency.writes',
  title: 'Writes during the migration',
  level: 'info',
  needs: [],
  async run() {
    return {
      result: 'passed',
      severity: 'info',
      message:
        'a full migration copies one consistent snapshot of the source; rows written after it starts are not carried over — stop writes to the selected tables for the duration',
    };
  },
};
