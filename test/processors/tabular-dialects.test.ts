import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlIdent, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { convertTabular, type TabularFormat, tabularFormatOf } from "../../src/processors/tabular/index.js";
import type { DialectFileFacts } from "../fixtures/gen/dialects.js";
import { fixture, fixtureFacts } from "../support/fixture-files.js";

/**
 * CSV as found in the wild (test/fixtures/gen/dialects.ts): every delimiter whatever the extension, `'` quotes,
 * backslash escapes, CRLF and a BOM, a damaged header, preamble and footer lines, no header, ragged rows. Each
 * file is converted without a schema, and the dialect sluice reports, the column names and every value read back
 * from the Parquet are compared with the generator's model (values as text, null for a missing value: a quoted
 * `""` must come back as an empty string, an unquoted empty field as NULL).
 */

const DUCK = { memoryLimit: "256MB", threads: 2 };
const FILES = Object.entries(fixtureFacts<Record<string, DialectFileFacts>>("dialects/dialects.expected.json"));

let reader: DuckSession;
let out: string;
beforeAll(async () => {
  reader = await openDuck(DUCK);
  out = await mkdtemp(join(tmpdir(), "sluice-dialects-"));
});
afterAll(async () => {
  reader?.close();
  await rm(out, { recursive: true, force: true });
});

describe("CSV dialects and layouts: detected, and every value read back", () => {
  it.each(FILES)("%s", async (rel, f) => {
    const parquet = join(out, `${rel.replaceAll("/", "_")}.parquet`);
    const r = await convertTabular(fixture(rel), tabularFormatOf(rel) as TabularFormat, parquet, DUCK);
    expect(r.dialect).toMatchObject(f.dialect);
    expect(r.profile?.columns.map((c) => c.name)).toEqual(f.columns);
    // Typed as DuckDB types the table, whatever the dialect: no preamble, header or footer line got in the way.
    expect(r.profile?.columns.map((c) => c.type)).toEqual(["BIGINT", "VARCHAR", "VARCHAR", "DOUBLE", "VARCHAR"]);
    const cols = f.columns.map((c) => `${sqlIdent(c)}::VARCHAR AS ${sqlIdent(c)}`).join(", ");
    const got = (await reader.conn.runAndReadAll(`SELECT ${cols} FROM read_parquet(${sqlString(parquet)})`)).getRows();
    expect(got).toEqual(f.rows);
    expect(r.validation?.invalidRows.map((x) => [x.row, x.error.split(":")[0]]) ?? []).toEqual(f.invalid);
  });

  it("the set covers each delimiter, both quotes, both escapes and every header verdict", () => {
    const d = FILES.map(([, f]) => f.dialect);
    expect(new Set(d.map((x) => x.delimiter))).toEqual(new Set([",", ";", "\t", "|", " "]));
    expect(new Set(d.map((x) => x.quote))).toEqual(new Set(['"', "'"]));
    expect(new Set(d.map((x) => x.escape))).toEqual(new Set(['"', "'", "\\"]));
    expect(new Set(d.map((x) => x.header))).toEqual(new Set(["present", "absent", "repaired", "damaged"]));
  });
});
