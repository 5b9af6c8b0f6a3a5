/** A schema-qualified object name, unquoted: the source or target name of a table or sequence. */
export interface QualifiedName {
  schema: string;
  name: string;
}
