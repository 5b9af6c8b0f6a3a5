/**
 * What the generated DDL will ask of the target account, read from the statements themselves
 * (split and parsed like the schema stage does): the new owner of every object and the schema
 * it is in, each schema's owner and CREATE grants as the DDL leaves them, and the statements
 * that touch schemas or extensions which may already exist on the target.
 */
import type pg from 'pg';
import { introspect, type CatalogModel } from '../schema/catalog/introspect.js';
import { generateDdl } from '../schema/ddl/generate.js';
import { splitStatements, type Part } from '../schema/split.js';
import type { Selection } from '../../core/selection.js';
import type { Statement } from '../../core/statement.js';

type Node = Record<string, any>;

export interface OwnerChange {
  role: string;
  schema: string | null;
  object: string;
  sql: string;
}
export interface SchemaPlan {
  owner: string | null;
  createGrantees: Set<string>;
}
export interface ExistingTouch {
  kind: 'schema' | 'extension';
  name: string;
  part: Part;
  block: Part[];
}

export interface DdlPlan {
  owners: OwnerChange[];
  schemas: Map<string, SchemaPlan>;
  touches: ExistingTouch[];
  /** Every role the DDL grants something to (PUBLIC left out). */
  grantees: Set<string>;
}

const str = (n: Node | undefined): string | undefined => n?.String?.sval;
const role = (spec: Node | undefined): string | undefined =>
  spec?.roletype === 'ROLESPEC_PUBLIC' ? '' : spec?.roletype === 'ROLESPEC_CSTRING' ? spec.rolename : undefined;

/** Schema of an ALTER … OWNER target: RangeVar, qualified name list, or ObjectWithArgs. */
function schemaOf(node: Node | undefined): string | null {
  if (!node) return null;
  if (node.RangeVar) return node.RangeVar.schemaname ?? null;
  const names: Node[] | undefined = node.ObjectWithArgs?.objname ?? node.List?.items ?? node.TypeName?.names;
  return names && names.length > 1 ? (str(names[0]) ?? null) : null;
}

function schemaPlan(plan: DdlPlan, name: string): SchemaPlan {
  let p = plan.schemas.get(name);
  if (!p) plan.schemas.set(name, (p = { owner: null, createGrantees: new Set() }));
  return p;
}

function note(plan: DdlPlan, part: Part, object: string): void {
  const [type, s] = Object.entries(part.ast!)[0] as [string, Node];
  if (type === 'CreateSchemaStmt') {
    const owner = role(s.authrole);
    if (owner) schemaPlan(plan, s.schemaname).owner = owner;
  } else if (type === 'AlterOwnerStmt' && s.objectType === 'OBJECT_SCHEMA') {
    schemaPlan(plan, str(s.object)!).owner = role(s.newowner) ?? null;
    plan.owners.push({ role: role(s.newowner)!, schema: null, object: `schema ${str(s.object)}`, sql: part.sql });
  } else if (type === 'AlterOwnerStmt' && role(s.newowner) && s.objectType !== 'OBJECT_LARGEOBJECT') {
    plan.owners.push({ role: role(s.newowner)!, schema: schemaOf(s.object), object, sql: part.sql });
  } else if (type === 'AlterTableStmt') {
    for (const c of s.cmds ?? []) {
      const owner = role(c.AlterTableCmd?.newowner);
      if (c.AlterTableCmd?.subtype === 'AT_ChangeOwner' && owner) {
        plan.owners.push({ role: owner, schema: s.relation?.schemaname ?? null, object, sql: part.sql });
      }
    }
  }
  if (type === 'GrantStmt' && s.is_grant) {
    for (const g of s.grantees ?? []) if (role(g.RoleSpec)) plan.grantees.add(role(g.RoleSpec)!);
  }
  if (type === 'GrantStmt' && s.is_grant && s.objtype === 'OBJECT_SCHEMA') {
    const privs = (s.privileges ?? []).map((p: Node) => p.AccessPriv?.priv_name);
    if (privs.length && !privs.includes('create')) return;
    for (const o of s.objects ?? []) {
      for (const g of s.grantees ?? []) schemaPlan(plan, str(o)!).createGrantees.add(role(g.RoleSpec) ?? '?');
    }
  }
}

/** Statements on a schema or extension that may exist before the migration. */
function touched(part: Part, block: Part[]): ExistingTouch | undefined {
  const [type, s] = Object.entries(part.ast!)[0] as [string, Node];
  if (type === 'CommentStmt' && (s.objtype === 'OBJECT_SCHEMA' || s.objtype === 'OBJECT_EXTENSION')) {
    return { kind: s.objtype === 'OBJECT_SCHEMA' ? 'schema' : 'extension', name: str(s.object)!, part, block };
  }
  if (type === 'AlterOwnerStmt' && s.objectType === 'OBJECT_SCHEMA') {
    return { kind: 'schema', name: str(s.object)!, part, block };
  }
  if (type === 'GrantStmt' && s.objtype === 'OBJECT_SCHEMA' && s.objects?.length === 1) {
    return { kind: 'schema', name: str(s.objects[0])!, part, block };
  }
  return undefined;
}

/**
 * Only statements that can change an owner, grant something, create or comment on a schema or
 * extension matter here: a statement without one of these words is none of them, and is not parsed
 * (at 20,000 tables most of the DDL is CREATE TABLE / CREATE INDEX, whose parsing cost the most).
 */
const MAY_MATTER = /owner|grant|comment|schema/i;

/** An identifier as quoteIdent writes it: a plain lower-case word, or double-quoted. */
const IDENT = String.raw`(?:[a-z_][a-z0-9_$]*|"(?:[^"]|"")+")`;
/**
 * The OWNER TO line the DDL generator appends to an object's block, for the kinds PostgreSQL parses
 * into an ALTER TABLE (AT_ChangeOwner) or an ALTER … OWNER on a qualified name, never a schema.
 */
const OWNER_LINE = new RegExp(
  String.raw`;\nALTER (TABLE|SEQUENCE|VIEW|MATERIALIZED VIEW|FOREIGN TABLE|TYPE|DOMAIN) (${IDENT})(?:\.(${IDENT}))? OWNER TO (${IDENT});\s*$`,
);
const unquote = (id: string): string => (id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id);

/** The same OWNER TO line followed by lines of grants (the generator's grants() for a table or sequence). */
const OWNER_THEN_GRANTS = new RegExp(
  String.raw`;\nALTER (TABLE|SEQUENCE) (${IDENT})(?:\.(${IDENT}))? OWNER TO (${IDENT});((?:\n(?:GRANT|REVOKE) [^\n]*)+)\s*$`,
);
const QNAME = String.raw`${IDENT}(?:\.${IDENT})?`;
const GRANT_LINE = new RegExp(
  String.raw`^GRANT [A-Z]+(?: ?\(${IDENT}(?:, ${IDENT})*\))? ON (?:TABLE|SEQUENCE) ${QNAME} TO (PUBLIC|${IDENT})(?: WITH GRANT OPTION)?;$`,
);
const REVOKE_LINE = new RegExp(`^REVOKE ALL ON (?:TABLE|SEQUENCE) ${QNAME} FROM (?:PUBLIC|${IDENT});$`);
/** Unquoted names the parser reads as role specifications, not roles. */
const ROLE_WORDS = new Set(['public', 'none', 'current_user', 'session_user', 'current_role']);

/**
 * A block that is a statement with none of the words MAY_MATTER looks for, then the generator's OWNER TO
 * line (at 20,000 tables: every CREATE TABLE) gives its owner change without the parser, whose
 * WebAssembly heap and parse trees cost about 40 MB there. The head holds no string, dollar sign or
 * comment and an even number of double quotes (each quoted name closed), so the `;` before the line
 * ends a statement. Anything else returns undefined
 * and is parsed.
 */
export function ownerOnly(st: Statement): OwnerChange | undefined {
  const m = OWNER_LINE.exec(st.sql);
  if (!m) return undefined;
  const head = st.sql.slice(0, m.index);
  const quotes = head.split('"').length - 1;
  if (MAY_MATTER.test(head) || /['$]|--|\/\*/.test(head) || quotes % 2 || !head.trim()) return undefined;
  const [, , first, second, to] = m;
  // unquoted public is PUBLIC, none is refused: the parser says what they mean
  if (to === 'public' || to === 'none') return undefined;
  return {
    role: unquote(to),
    schema: second === undefined ? null : unquote(first),
    object: `${st.kind} ${st.name}`,
    sql: st.sql
      .slice(m.index + 2)
      .trim()
      .replace(/;$/, ''),
  };
}

/**
 * ownerOnly for a block whose OWNER TO line is followed by the grants the generator writes for a
 * table or sequence (`REVOKE ALL … FROM …;` and `GRANT <privilege>[ (columns)] ON … TO …;` lines): the
 * owner change and the roles granted to, as the parsed block gives them. A source whose tables are
 * all granted to a reader made every CREATE TABLE block go through the parser: at 20,000 tables about
 * 1 s and 20 MB of RSS in the precheck. Any other line, or a grantee the parser reads as a role
 * specification, returns undefined (the block is parsed).
 */
export function ownerAndGrants(st: Statement): { owner: OwnerChange; grantees: string[] } | undefined {
  const m = OWNER_THEN_GRANTS.exec(st.sql);
  if (!m) return undefined;
  const grantees: string[] = [];
  for (const line of m[5].slice(1).split('\n')) {
    if (REVOKE_LINE.test(line)) continue;
    const g = GRANT_LINE.exec(line);
    if (!g || ROLE_WORDS.has(g[1])) return undefined;
    if (g[1] !== 'PUBLIC') grantees.push(unquote(g[1]));
  }
  // the block up to its OWNER TO line (every grant line ends with its semicolon: checked above)
  const owner = ownerOnly({ ...st, sql: st.sql.slice(0, m.index + m[0].trimEnd().length - m[5].length) });
  return owner && { owner, grantees };
}

/**
 * The plan of the generated DDL: the statements a run already generated, else generated here
 * from a catalog already read, or from a session to read it in.
 */
export async function ddlPlan(source: pg.Client | CatalogModel | Statement[], sel: Selection): Promise<DdlPlan> {
  const statements = Array.isArray(source)
    ? source
    : generateDdl('serverVersionNum' in source ? source : await introspect(source), sel).statements;
  const plan: DdlPlan = { owners: [], schemas: new Map(), touches: [], grantees: new Set() };
  for (const st of statements) {
    if (!MAY_MATTER.test(st.sql)) continue;
    const owner = ownerOnly(st);
    if (owner) {
      plan.owners.push(owner);
      continue;
    }
    const granted = ownerAndGrants(st);
    if (granted) {
      plan.owners.push(granted.owner);
      for (const g of granted.grantees) plan.grantees.add(g);
      continue;
    }
    const block = await splitStatements(st.sql);
    for (const part of block) {
      if (!part.ast) continue;
      note(plan, part, `${st.kind} ${st.name}`);
      const t = touched(part, block);
      if (t) plan.touches.push(t);
    }
  }
  return plan;
}
