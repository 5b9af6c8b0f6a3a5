/**
 * The object identifier alias types (https://www.postgresql.org/docs/current/datatype-oid.html):
 * their binary form is the raw OID, which names another object (or nothing) on another server;
 * their text form is the object's name.
 */
export const REG_TYPES: readonly string[] = [
  'regclass',
  'regtype',
  'regproc',
  'regprocedure',
  'regoper',
  'regoperator',
  'regconfig',
  'regdictionary',
  'regnamespace',
  'regrole',
  'regcollation',
];
