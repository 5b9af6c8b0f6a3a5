/**
 * The one place where SQL identifiers are quoted. Every generated statement goes through
 * `quoteIdent`/`qualify`; values never do — they travel as query parameters.
 *
 * We always quote (like pg_dump --quote-all-identifiers) except for names that are plain
 * lower-case words and not reserved: the output stays readable and is always correct.
 * https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS
 */

// Keywords that cannot be used as bare column/table names (reserved and
// type_func_name/col_name categories) — quoting them is always safe.
const RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric authorization binary both case cast check
collate collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user default deferrable desc distinct do else end
except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into
is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
only or order outer overlaps placing primary references returning right select session_user similar some
symmetric system_user table tablesample then to trailing true union unique user using variadic verbose when
where window with between bigint bit boolean char character coalesce dec decimal exists extract float
greatest grouping inout int integer interval json json_array json_arrayagg json_exists json_object
json_objectagg json_query json_scalar json_serialize json_table json_value least merge_action national
nchar none normalize nullif numeric out overlay position precision real row setof smallint substring time
timestamp treat trim values varchar xmlattributes xmlconcat xmlelement xmlexists xmlforest xmlnamespaces
xmlparse xmlpi xmlroot xmlserialize xmltable`.split(/\s+/),
);

const PLAIN = /^[a-z_][a-z0-9_$]*$/;

export function quoteIdent(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  if (name.includes('\u0000')) throw new Error('SQL identifier contains a NUL byte');
  if (PLAIN.test(name) && !RESERVED.has(name)) return name;
  return '"' + name.replace(/"/g, '""') + '"';
}

/** schema.name, each part quoted. */
export function qualify(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * A SQL string literal. Used only where PostgreSQL grammar forbids a parameter
 * (DDL such as COMMENT ON, CREATE ... DEFAULT in generated scripts).
 * Uses E'' form when backslashes are present so that it is independent of
 * standard_conforming_strings.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new Error('SQL literal contains a NUL byte');
  const body = value.replace(/'/g, "''");
  if (body.includes('\\')) return `E'${body.replace(/\\/g, '\\\\')}'`;
  return `'${body}'`;
}

/**
 * Parse a possibly-quoted, possibly-qualified name as written by a user on the command
 * line: `public.child`, `"My Schema"."Order Items"`, `orders`. Unquoted parts are folded
 * to lower case as PostgreSQL does. Returns the parts (1 or 2).
 */
export function parseQualifiedName(text: string): string[] {
  const parts: string[] = [];
  let i = 0;
  const s = text.trim();
  while (i < s.length) {
    let part = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw new Error(`unterminated quoted identifier in ${JSON.stringify(text)}`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            part += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        part += s[i++];
      }
    } else {
      while (i < s.length && s[i] !== '.') part += s[i++];
      part = part.trim().toLowerCase();
    }
    if (part === '') throw new Error(`empty name part in ${JSON.stringify(text)}`);
    parts.push(part);
    if (i < s.length) {
      if (s[i] !== '.') throw new Error(`unexpected ${JSON.stringify(s[i])} in name ${JSON.stringify(text)}`);
      i++;
      if (i >= s.length) throw new Error(`name ${JSON.stringify(text)} ends with a dot`);
    }
  }
  if (parts.length === 0 || parts.length > 2) {
    throw new Error(`expected name or schema.name, got ${JSON.stringify(text)}`);
  }
  return parts;
}
