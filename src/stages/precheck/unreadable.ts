/**
 * objects.unreadable: selected objects whose definition the source server fails to print (a
 * catalog function such as pg_get_partkeydef errors on them — pg_dump stops there too). They are
 * listed first, with the server's message; the migration goes on without them.
 */
import { introspect } from '../schema/catalog/introspect.js';
import { passed, plural, warning, type CheckDef } from './types.js';

export const objectsUnreadable: CheckDef = {
  id: 'objects.unreadable',
  title: 'Objects the source cannot print',
  level: 'warning',
  needs: ['source'],
  async run(ctx) {
    const m = ctx.catalog ?? (await introspect(ctx.source!));
    const found = m.unreadable.filter((u) => u.schema === null || ctx.sel.schemaSelected(u.schema));
    if (!found.length) return passed('the source prints the definition of every selected object');
    return warning(
      `${plural(found.length, 'object')} cannot be read from the source and will not be migrated`,
      found.map((u) => `${u.kind} ${u.name}: ${u.reason}`),
      'create these objects on the target yourself; everything else is migrated',
    );
  },
};
