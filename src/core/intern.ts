/**
 * One copy of each text that recurs across many objects. Every row of a catalog query brings its
 * own copy of texts such as a schema, an owner, a type or a column name; at 20,000 tables those copies
 * are hundreds of thousands of strings. Mapping them through one Interner while the model is built
 * keeps a single string per distinct text.
 */
export class Interner {
  private readonly seen = new Map<string, string>();
  private readonly kept = new Map<string, unknown>();

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

  /**
   * One frozen copy of each distinct list of texts: lists that recur table after table (a table's
   * ACL, its key columns, a column's collation) are kept once instead of once a table. The list
   * must not be changed afterwards (it is frozen).
   */
  list<T extends string[] | null | undefined>(a: T): T {
    if (!a) return a;
    return this.keep(`l${a.length}\u0000${a.join('\u0000')}`, () => Object.freeze(this.texts(a))) as T;
  }

  /**
   * One frozen copy of each distinct value, named by `key` (built by the caller from everything the
   * value holds); `make` builds it the first time.
   */
  keep<T>(key: string, make: () => T): T {
    const kept = this.kept.get(key);
    if (kept !== undefined) return kept as T;
    const v = make();
    this.kept.set(key, v);
    return v;
  }
}
