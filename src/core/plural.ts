/** "1 table", "2 tables", "1,500 rows": one way to count things in every output. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
