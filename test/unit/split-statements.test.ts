// Splitting generated DDL blocks with PostgreSQL's parser: byte offsets with multi-byte names,
// semicolons inside literals and function bodies, and a block that does not parse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { splitStatements } from '../../src/stages/schema/split.js';

test('splitStatements: one part per statement, multi-byte names and bodies with semicolons kept whole', async () => {
  const block = `CREATE SCHEMA IF NOT EXISTS "Zürich";
COMMENT ON SCHEMA "Zürich" IS 'a; b — ü';
CREATE FUNCTION "Zürich".f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$;
GRANT USAGE ON SCHEMA "Zürich" TO PUBLIC;`;
  const parts = await splitStatements(block);
  assert.deepEqual(
    parts.map((p) => p.sql),
    [
      `CREATE SCHEMA IF NOT EXISTS "Zürich"`,
      `COMMENT ON SCHEMA "Zürich" IS 'a; b — ü'`,
      `CREATE FUNCTION "Zürich".f() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$`,
      `GRANT USAGE ON SCHEMA "Zürich" TO PUBLIC`,
    ],
  );
  assert.deepEqual(
    parts.map((p) => Object.keys(p.ast!)[0]),
    ['CreateSchemaStmt', 'CommentStmt', 'CreateFunctionStmt', 'GrantStmt'],
  );
});

test('splitStatements: a block the parser rejects is kept whole for the server to report', async () => {
  const parts = await splitStatements('CREATE TABLE t (a int;');
  assert.deepEqual(parts, [{ sql: 'CREATE TABLE t (a int;', ast: null }]);
});
