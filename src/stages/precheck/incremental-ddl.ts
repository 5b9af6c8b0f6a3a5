/** incremental.ddl: schema changes on the source are not replicated. */
import { incrementalCheck } from './incremental-skip.js';
import { warning } from './types.js';

export const incrementalDdl = incrementalCheck({
  id: 'incremental.ddl',
  title: 'DDL during change capture',
  level: 'warning',
  needs: [],
  async run() {
    return warning(
      'DDL is not replicated: a column added, dropped or retyped on a selected source table stops the apply, ' +
        'naming the table',
      [],
      'freeze schema changes on the source until `pgferry finish`, or make each change on the target too ' +
        'before the source',
    );
  },
});
