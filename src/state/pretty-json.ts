/**
 * A document as `JSON.stringify(value, null, 2)` writes it, in pieces: each top-level entry, and each
 * element of a top-level list, on its own. The report of a run of 20,000 tables is an 8 MB text, and
 * one character outside Latin-1 (a dash in a message) makes V8 hold all of it at two bytes a
 * character: written whole, the text, its copy with the final newline and its UTF-8 bytes took about
 * 60 MB of RSS for a moment after verify. In pieces, a few hundred kB at a time.
 */

/** `JSON.stringify(v, null, 2)` of a value nested `depth` spaces deep (undefined and functions print as null). */
const nested = (v: unknown, depth: number): string =>
  (JSON.stringify(v, null, 2) ?? 'null').replace(/\n/g, `\n${' '.repeat(depth)}`);

/** Whether JSON.stringify keeps an object's entry (undefined, functions and symbols are left out). */
const kept = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

export function* prettyJsonPieces(doc: Record<string, unknown>): Generator<string> {
  const keys = Object.keys(doc).filter((k) => kept(doc[k]));
  if (keys.length === 0) {
    yield '{}';
    return;
  }
  yield '{\n';
  for (let i = 0; i < keys.length; i++) {
    const v = doc[keys[i]];
    const end = i < keys.length - 1 ? ',\n' : '\n';
    const head = `  ${JSON.stringify(keys[i])}: `;
    if (Array.isArray(v) && v.length > 0 && typeof (v as { toJSON?: unknown }).toJSON !== 'function') {
      yield `${head}[\n`;
      for (let j = 0; j < v.length; j++) yield `    ${nested(v[j], 4)}${j < v.length - 1 ? ',' : ''}\n`;
      yield `  ]${end}`;
    } else {
      yield `${head}${nested(v, 2)}${end}`;
    }
  }
  yield '}';
}
