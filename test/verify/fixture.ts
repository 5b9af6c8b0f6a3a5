/** A small database with the object kinds verify compares; loaded into both sides = a clean migration. */
export const FIXTURE_SQL = `
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE items (
  id serial PRIMARY KEY,
  name text NOT NULL,
  price numeric(12,2),
  weight double precision,
  at timestamptz,
  m mood,
  tags text[]
);
CREATE INDEX items_name_idx ON items (name);
INSERT INTO items (name, price, weight, at, m, tags)
SELECT 'item ' || g, g * 1.25, g / 3.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 hour',
       (ARRAY['sad','ok','happy'])[1 + g % 3]::mood, ARRAY['a' || g, NULL]
FROM generate_series(1, 20) g;
CREATE TABLE "Order Lines" (a int NOT NULL, b text NOT NULL, qty int, PRIMARY KEY (a, b));
INSERT INTO "Order Lines" SELECT g / 3, 'x' || (g % 3), g FROM generate_series(0, 29) g;
CREATE TABLE nokey (x int, y text);
INSERT INTO nokey SELECT g % 4, 'v' || g FROM generate_series(1, 12) g;
INSERT INTO nokey VALUES (NULL, NULL), (NULL, '');
CREATE SEQUENCE counter_seq;
SELECT nextval('counter_seq') FROM generate_series(1, 5);
CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER items_touch BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE items ADD CONSTRAINT items_price_check CHECK (price >= 0);
`;

/** Source of the filter/subset/rename test: the target holds only kind='keep' rows and no secret column. */
export const FILTER_SOURCE_SQL = `
CREATE TABLE filt (id int PRIMARY KEY, kind text NOT NULL, secret text);
INSERT INTO filt SELECT g, CASE WHEN g % 2 = 0 THEN 'keep' ELSE 'drop' END, 's' || g FROM generate_series(1, 40) g;
`;
export const FILTER_TARGET_SQL = `
CREATE TABLE filt2 (id int NOT NULL, category text NOT NULL, CONSTRAINT filt_pkey PRIMARY KEY (id));
INSERT INTO filt2 SELECT g, 'keep' FROM generate_series(2, 40, 2) g;
`;
