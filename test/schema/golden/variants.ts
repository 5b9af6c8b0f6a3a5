/** Task variants the golden DDL output is recorded for (see capture.ts). */
export const VARIANTS: Record<string, unknown>[] = [
  {},
  { mapSchemas: { 'Odd "Schema" ünï': 'Mapped ✓' }, tables: { 'app.scratch': { rename: 'scratch pad' } } },
  { tables: { 'app.scratch': { columnMap: { k: 'Key ✓' }, columns: ['k', 'v'] } } },
  { noOwner: true, noAcl: true },
  { ownerTo: 'Reader Röle' },
  { excludeTables: ['app.customer'], dropOrphanForeignKeys: true },
  { excludeTables: ['app.customer', 'app.orders'] },
  { includeSchemas: ['app'] },
  { excludeSchemas: ['public'] },
  { mapSchemas: { app: 'app_new', fid: 'fid_new', sales: 'sales_new' } },
];
