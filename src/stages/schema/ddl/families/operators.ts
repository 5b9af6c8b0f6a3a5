/** Operators, operator families (their members added by ALTER OPERATOR FAMILY) and operator classes. */
import { qualify, quoteIdent } from '../../../../core/ident.js';
import type { OpFamilyMember, OpFamilyProc } from '../../catalog/model.js';
import type { DdlContext } from '../context.js';

/** schema.operator (operator names are not identifiers: only the schema is quoted). */
const opName = (ctx: DdlContext, schema: string, name: string) => `${quoteIdent(ctx.sel.targetSchema(schema))}.${name}`;
const opArgs = (ctx: DdlContext, l: string | null, r: string | null, what: string) =>
  `(${l ? ctx.rw(l, what) : 'NONE'}, ${r ? ctx.rw(r, what) : 'NONE'})`;

export function operators(ctx: DdlContext): void {
  for (const o of ctx.m.operators) {
    if (!ctx.sel.schemaSelected(o.schema)) continue;
    const what = `operator ${o.schema}.${o.name}`;
    const rw = (x: string) => ctx.rw(x, what);
    const sig = `${opName(ctx, o.schema, o.name)} ${opArgs(ctx, o.left, o.right, what)}`;
    ctx.names.set(o.id, sig);
    // A COMMUTATOR/NEGATOR that does not exist yet is created as a shell and filled in by its own CREATE OPERATOR.
    const p = [`FUNCTION = ${rw(o.proc)}`];
    if (o.left) p.push(`LEFTARG = ${rw(o.left)}`);
    if (o.right) p.push(`RIGHTARG = ${rw(o.right)}`);
    if (o.commutator) p.push(`COMMUTATOR = OPERATOR(${opName(ctx, o.commutator[0], o.commutator[1])})`);
    if (o.negator) p.push(`NEGATOR = OPERATOR(${opName(ctx, o.negator[0], o.negator[1])})`);
    if (o.restrict) p.push(`RESTRICT = ${rw(o.restrict)}`);
    if (o.join) p.push(`JOIN = ${rw(o.join)}`);
    if (o.hashes) p.push('HASHES');
    if (o.merges) p.push('MERGES');
    ctx.add(
      o.id,
      'operator',
      `operator ${quoteIdent(o.schema)}.${o.name}(${o.left ?? 'NONE'}, ${o.right ?? 'NONE'})`,
      sig,
      `CREATE OPERATOR ${opName(ctx, o.schema, o.name)} (\n    ${p.join(',\n    ')}\n);` +
        ctx.owner('OPERATOR', sig, o.owner) +
        ctx.comment(`OPERATOR ${sig}`, o.comment),
      `DROP OPERATOR IF EXISTS ${sig} CASCADE;`,
    );
  }
}

function familyItems(ctx: DdlContext, f: { ops: OpFamilyMember[]; procs: OpFamilyProc[] }, what: string): string[] {
  return [
    ...f.ops.map(
      (x) =>
        `OPERATOR ${x.strategy} ${opName(ctx, x.op[0], x.op[1])}${opArgs(ctx, x.op[2], x.op[3], what)}` +
        (x.purpose === 'o' && x.sortFamily ? ` FOR ORDER BY ${ctx.q(x.sortFamily[0], x.sortFamily[1])}` : ''),
    ),
    ...f.procs.map(
      (x) => `FUNCTION ${x.num} (${ctx.rw(x.left, what)}, ${ctx.rw(x.right, what)}) ${ctx.rw(x.proc, what)}`,
    ),
  ];
}

export function operatorFamilies(ctx: DdlContext): void {
  for (const f of ctx.m.opFamilies) {
    if (!ctx.sel.schemaSelected(f.schema)) continue;
    const n = ctx.q(f.schema, f.name);
    const using = `${n} USING ${quoteIdent(f.am)}`;
    ctx.names.set(f.id, using);
    const items = familyItems(ctx, f, `operator family ${n}`);
    ctx.add(
      f.id,
      'operator family',
      `operator family ${qualify(f.schema, f.name)} using ${f.am}`,
      using,
      `CREATE OPERATOR FAMILY ${using};` +
        (items.length ? `\nALTER OPERATOR FAMILY ${using} ADD\n    ${items.join(',\n    ')};` : '') +
        ctx.owner('OPERATOR FAMILY', using, f.owner) +
        ctx.comment(`OPERATOR FAMILY ${using}`, f.comment),
      `DROP OPERATOR FAMILY IF EXISTS ${using} CASCADE;`,
    );
  }
}

export function operatorClasses(ctx: DdlContext): void {
  for (const c of ctx.m.opClasses) {
    if (!ctx.sel.schemaSelected(c.schema)) continue;
    const n = ctx.q(c.schema, c.name);
    const using = `${n} USING ${quoteIdent(c.am)}`;
    ctx.names.set(c.id, using);
    const what = `operator class ${n}`;
    const items = familyItems(ctx, c, what);
    if (c.storage) items.push(`STORAGE ${ctx.rw(c.storage, what)}`);
    if (!items.length) items.push(`STORAGE ${ctx.rw(c.type, what)}`);
    ctx.add(
      c.id,
      'operator class',
      `operator class ${qualify(c.schema, c.name)} using ${c.am}`,
      using,
      `CREATE OPERATOR CLASS ${n}${c.isDefault ? ' DEFAULT' : ''} FOR TYPE ${ctx.rw(c.type, what)} USING ${quoteIdent(c.am)} FAMILY ${ctx.q(c.family[0], c.family[1])} AS\n    ${items.join(',\n    ')};` +
        ctx.owner('OPERATOR CLASS', using, c.owner) +
        ctx.comment(`OPERATOR CLASS ${using}`, c.comment),
      `DROP OPERATOR CLASS IF EXISTS ${using} CASCADE;`,
    );
  }
}
