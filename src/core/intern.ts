/**
 * One copy of each text that recurs across many objects. Every row of a catalog query brings its
 * own copy of texts such as a schema, an owner, a type or a column name; at 20,000 tables those copies
 * are hundreds of thousands of strings. Mapping them through one Interner while the model is built
 * keeps a single string per distinct text.
 */
export class Interner {
  private readonly seen = new Map<string, string>();

  /** The kept copy of `s` (null and undefined pass through). */
  text<T extends string | null | undefined>(s: T): T {
    if (typeof s !== 'string') return s;
    const kept = this.seen.get(s);
    if (kept !== undefined) return kept as T;
    this.seen.set(s, s);
    return s;
  }

  /**
   * A list of texts, each through text(), in a new list of its exact length (a list the driver built
   * item by item keeps room for more: about 150 bytes for a list of one to three names).
   */
  texts<T extends string[] | null | undefined>(a: T): T {
    if (!a) return a;
    return a.map((x) => this.text(x)) as T;
  }
}
