/**
 * A flat copy of a text built by concatenation. V8 keeps `a + b` as a tree of pieces (a "cons
 * string", 32 bytes a node) until something reads it whole, and flattening it in place still
 * leaves a node in front of the flat text. Texts kept by the thousand (generated statements,
 * object names in inventories) are copied flat once with this. The JSON round trip gives back
 * exactly the same text, whatever characters it holds.
 */
export function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
