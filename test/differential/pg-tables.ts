import { asText, BYTES, DATE_DAYS, float, list, micros, TIME_MICROS, VARCHAR_TEXT } from "./canonical.js";
import { bulk } from "./pg-tables-bulk.js";
import { numbers, others, texts } from "./pg-tables-scalar.js";
import { col, type DiffTable } from "./tables.js";

/**
 * The PostgreSQL side of the differential test: tables holding every type of docs/types.md's PostgreSQL table,
 * filled with hostile values. Each value is PostgreSQL input text (or bytes), inserted as a query parameter, so
 * what the table holds is PostgreSQL's own reading of it.
 */

const INT = asText(/^INTEGER$/);

function times(): DiffTable {
  return {
    name: "public.times",
    columns: [
      col("c_date", "date", DATE_DAYS),
      col("c_ts", "timestamp", micros(false)),
      col("c_tstz", "timestamptz", micros(true)),
      col("c_ts3", "timestamp(3) without time zone", micros(false)),
      col("c_time", "time", TIME_MICROS),
    ],
    rows: [
      ["0001-01-01", "0001-01-01 00:00:00", "0001-01-01 00:00:00+00", "2000-01-01 00:00:00.123", "00:00:00"],
      [
        "9999-12-31",
        "9999-12-31 23:59:59.999999",
        "9999-12-31 23:59:59.999999+00",
        "1999-12-31 23:59:59.999",
        "23:59:59.999999",
      ],
      ["0044-03-15 BC", "0044-03-15 12:00:00 BC", "0044-03-15 12:00:00+00 BC", "1970-01-01 00:00:00", "12:34:56.5"],
      // PostgreSQL's first day (Julian day 0).
      ["4714-11-24 BC", "4714-11-24 00:00:00 BC", "4714-11-25 00:00:00+00 BC", null, "00:00:00.000001"],
      ["infinity", "infinity", "infinity", "infinity", null],
      ["-infinity", "-infinity", "-infinity", "-infinity", "13:00:00"],
      ["2000-02-29", "2000-02-29 12:00:00", "1900-01-01 00:00:00", "2024-02-29 23:59:59.999", "01:02:03"],
      ["5874897-12-31", "294246-12-31 23:59:59.999999", "2024-03-31 02:30:00", null, null],
      ["1970-01-01", "1970-01-01 00:00:00", "1969-12-31 23:59:59.999999-01:30", null, "23:59:59"],
      [null, null, null, null, null],
    ],
  };
}

function binaries(): DiffTable {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  return {
    name: "public.binaries",
    columns: [col("c_bytea", "bytea", BYTES)],
    rows: [
      [all],
      [Buffer.alloc(0)],
      [Buffer.from("\\")],
      [Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0xff])],
      [Buffer.from("\\x41\\N\n\t\r")],
      [null],
    ],
  };
}

function arrays(): DiffTable {
  return {
    name: "public.arrays",
    columns: [
      col("c_uuid", "uuid", asText(/^UUID$/)),
      col("c_ints", "integer[]", list(asText(/./), /^INTEGER\[\]$/)),
      col("c_bigints", "bigint[]", list(asText(/./), /^BIGINT\[\]$/)),
      col("c_nums", "numeric(10,2)[]", list(asText(/./), /^DECIMAL\(10,2\)\[\]$/)),
      col("c_dates", "date[]", list(DATE_DAYS, /^DATE\[\]$/)),
      col("c_tstzs", "timestamptz[]", list(micros(true), /^TIMESTAMP WITH TIME ZONE\[\]$/)),
      col("c_bools", "boolean[]", list(asText(/./), /^BOOLEAN\[\]$/)),
      col("c_byteas", "bytea[]", list(BYTES, /^BLOB\[\]$/)),
      col("c_f8s", "float8[]", list(float(8), /^DOUBLE\[\]$/)),
      col("c_uuids", "uuid[]", list(asText(/./), /^UUID\[\]$/)),
    ],
    rows: [
      [
        "00000000-0000-0000-0000-000000000000",
        "{1,NULL,-2147483648,2147483647}",
        "{-9223372036854775808,9223372036854775807}",
        "{0.01,-99999999.99,NULL}",
        '{0001-01-01,infinity,"0044-03-15 BC",NULL}',
        '{"2000-01-01 00:00:00+05:30",-infinity}',
        "{t,f,NULL}",
        '{"\\\\x00ff",NULL,"\\\\x"}',
        "{NaN,Infinity,-Infinity,-0,1e-300,0.1}",
        "{ffffffff-ffff-ffff-ffff-ffffffffffff,NULL}",
      ],
      ["ffffffff-ffff-ffff-ffff-ffffffffffff", "{}", "{}", "{}", "{}", "{}", "{}", "{}", "{}", "{}"],
      [
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        "{7}",
        "{NULL}",
        "{1.5}",
        "{2000-02-29}",
        "{infinity}",
        "{t}",
        '{"\\\\x41"}',
        "{5e-324}",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
      ],
      Array(10).fill(null),
    ],
  };
}

/** One table name in two schemas, with different columns: two outputs, never one. */
function schemas(): DiffTable[] {
  return [
    { name: "public.users", columns: [col("name", "text", VARCHAR_TEXT)], rows: [["public one"], ["public two"]] },
    {
      name: "app.users",
      columns: [col("email", "text", VARCHAR_TEXT), col("score", "numeric(5,2)", asText(/^DECIMAL\(5,2\)$/))],
      rows: [
        ["a@example.com", "1.50"],
        [null, "-999.99"],
        ["c@example.com", null],
      ],
    },
  ];
}

/** pg_dump writes non-reserved words unquoted: `fulltext tsvector`, `key integer`… are columns, not constraints. */
function keywordColumns(): DiffTable {
  return {
    name: "public.film",
    columns: [
      col("title", "text", VARCHAR_TEXT),
      col("fulltext", "tsvector", VARCHAR_TEXT),
      col("key", "integer", INT),
      col("index", "text", VARCHAR_TEXT),
      col("period", "date", DATE_DAYS),
      col("exclude", "boolean", asText(/^BOOLEAN$/)),
      col("spatial", "text", VARCHAR_TEXT),
      col('"unique"', "integer", INT),
      col('"primary"', "text", VARCHAR_TEXT),
      col('"check"', "text", VARCHAR_TEXT),
      col('"constraint"', "text", VARCHAR_TEXT),
      col('"foreign"', "text", VARCHAR_TEXT),
    ],
    rows: [
      ["ACADEMY DINOSAUR", "'academi':1 'dinosaur':2", "1", "i", "2006-02-15", "true", "s", "2", "p", "c", "k", "f"],
      ["ACE GOLDFINGER", "'ace':1 'goldfing':2", "2", null, null, "false", null, null, null, null, null, null],
    ],
  };
}

/**
 * A generated column and an identity one: pg_dump leaves the generated one out of COPY's column list and writes
 * DEFAULT for it with --inserts, so it is not in the Parquet (docs/types.md) and not compared; the identity
 * column's values are in the dump.
 */
function generated(): DiffTable {
  return {
    name: "public.generated",
    columns: [
      col("a", "integer", INT),
      { ...col("doubled", "integer GENERATED ALWAYS AS (a * 2) STORED", INT), generated: true },
      col("ident", "bigint GENERATED BY DEFAULT AS IDENTITY", asText(/^BIGINT$/)),
      col("c", "text", VARCHAR_TEXT),
    ],
    rows: [
      ["5", "7", "x"],
      [null, "8", null],
      ["-1", "9", "DEFAULT"],
    ],
  };
}

/** Values docs/types.md refuses by design: each such row is invalid with its reason, the others are kept. */
function refused(): DiffTable {
  return {
    name: "public.refused",
    columns: [
      col("c_dec", "numeric(10,2)", asText(/^DECIMAL\(10,2\)$/)),
      col("c_ints", "integer[]", list(asText(/./), /^INTEGER\[\]$/)),
      col("c_time", "time", TIME_MICROS),
      col("c_ts", "timestamp", micros(false)),
    ],
    rows: [
      ["1.00", "{1}", "01:00:00", "2000-01-01 00:00:00"],
      ["NaN", "{1}", "01:00:00", "2000-01-01 00:00:00"],
      ["1.00", "{{1,2},{3,4}}", "01:00:00", "2000-01-01 00:00:00"],
      ["1.00", "{1}", "24:00:00", "2000-01-01 00:00:00"],
      ["1.00", "{1}", "01:00:00", "294276-12-31 23:59:59"],
    ],
    invalid: {
      2: /"c_dec": "NaN" is not a valid DECIMAL\(10,2\)/,
      3: /"c_ints": .* multi-dimensional/,
      4: /"c_time": "24:00:00" is not a valid TIME/,
      5: /"c_ts": .* out of range for TIMESTAMP/,
    },
  };
}

export function diffTables(citext: boolean): DiffTable[] {
  return [
    numbers(),
    texts(citext),
    others(),
    times(),
    binaries(),
    arrays(),
    ...schemas(),
    keywordColumns(),
    generated(),
    refused(),
    bulk(),
  ];
}

/** Types, schemas and settings the tables need, before them. */
export const SETUP = [
  "CREATE SCHEMA app",
  "CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy')",
  "CREATE DOMAIN public.short_text AS text CHECK (length(VALUE) < 100)",
];
