/** Aggregates: CREATE AGGREGATE with every option the catalog records that differs from its default. */
import { quoteLiteral } from '../../../../core/ident.js';
import type { FunctionObj } from '../../catalog/model.js';

export function aggregateSql(f: FunctionObj, name: string, rw: (s: string) => string): string {
  const a = f.aggregate!;
  const p: string[] = [`SFUNC = ${rw(a.sfunc)}`, `STYPE = ${rw(a.stype)}`];
  if (a.sspace) p.push(`SSPACE = ${a.sspace}`);
  if (a.finalfunc) {
    p.push(`FINALFUNC = ${rw(a.finalfunc)}`);
    if (a.finalExtra) p.push('FINALFUNC_EXTRA');
    if (a.finalModify && a.finalModify !== (a.kind === 'n' ? 'r' : 'w'))
      p.push(
        `FINALFUNC_MODIFY = ${({ r: 'READ_ONLY', s: 'SHAREABLE', w: 'READ_WRITE' } as Record<string, string>)[a.finalModify]}`,
      );
  }
  if (a.combinefunc) p.push(`COMBINEFUNC = ${rw(a.combinefunc)}`);
  if (a.serialfunc) p.push(`SERIALFUNC = ${rw(a.serialfunc)}`);
  if (a.deserialfunc) p.push(`DESERIALFUNC = ${rw(a.deserialfunc)}`);
  if (a.initcond != null) p.push(`INITCOND = ${quoteLiteral(a.initcond)}`);
  if (a.msfunc) p.push(`MSFUNC = ${rw(a.msfunc)}`);
  if (a.minvfunc) p.push(`MINVFUNC = ${rw(a.minvfunc)}`);
  if (a.mstype) p.push(`MSTYPE = ${rw(a.mstype)}`);
  if (a.mfinalfunc) p.push(`MFINALFUNC = ${rw(a.mfinalfunc)}`);
  if (a.minitcond != null) p.push(`MINITCOND = ${quoteLiteral(a.minitcond)}`);
  if (a.sortop) p.push(`SORTOP = OPERATOR(${rw(a.sortop.replace(/\(.*$/, ''))})`);
  if (a.parallel && a.parallel !== 'u')
    p.push(`PARALLEL = ${({ s: 'SAFE', r: 'RESTRICTED' } as Record<string, string>)[a.parallel]}`);
  if (a.kind === 'h') p.push('HYPOTHETICAL');
  return `CREATE AGGREGATE ${name}(${rw(f.args)}) (\n    ${p.join(',\n    ')}\n);`;
}
