import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BATCH_ROWS, readSqlDump, type SqlEvent, sqlDumpToParquet } from "../../src/processors/sql-dump/index.js";
import { chunked, hostileString, makeRoot, params, removeRoot, tree, withinTime } from "./support.js";
import { DUCK } from "./tabular-check.js";

/**
 * The SQL dump reader (src/processors/sql-dump): arbitrary and broken dumps
 * never make it throw or hang, whatever the chunking; well-formed INSERTs and
 * COPY blocks come out value for value; and the Parquet writer keeps every
 * table inside its output directory, never running a statement of the dump.
 */

const CASE_MS = 10_000;

let root: string;
let n = 0;
beforeAll(() => {
  root = makeRoot("sql");
});
afterAll(() => removeRoot(root));

function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

async function events(chunks: Buffer[]): Promise<SqlEvent[]> {
  const out: SqlEvent[] = [];
  for await (const ev of readSqlDump(Readable.from(chunks))) out.push(ev);
  return out;
}

/** What every event stream must look like, whatever the input. */
function checkEvents(evs: SqlEvent[]): void {
  for (const ev of evs) {
    if (ev.kind === "rows") {
      expect(ev.rows.length).toBeGreaterThan(0);
      expect(ev.rows.length).toBeLessThanOrEqual(BATCH_ROWS);
      expect(ev.lines).toHaveLength(ev.rows.length);
      expect(ev.firstLine).toBe(ev.lines[0]);
      for (const [i, l] of ev.lines.entries()) {
        expect(l).toBeGreaterThanOrEqual(1);
        if (i > 0) expect(l).toBeGreaterThanOrEqual(ev.lines[i - 1] as number);
      }
    } else if (ev.kind === "error") {
      expect(ev.line).toBeGreaterThanOrEqual(1);
      expect(ev.message.length).toBeGreaterThan(0);
    } else if (ev.kind === "settings") {
      expect(["generic", "postgres", "mysql", "sqlite", "sqlserver"]).toContain(ev.dialect);
      expect(ev.charset.length).toBeGreaterThan(0);
    } else {
      expect(ev.kind).toBe("table");
      expect(typeof ev.table).toBe("string");
    }
  }
}

const SQL_PIECES = [
  "INSERT INTO ",
  "INSERT INTO `t` VALUES ",
  'INSERT INTO "t" (a, b) VALUES ',
  "REPLACE INTO t VALUES ",
  "CREATE TABLE t (id INT, name VARCHAR(10));\n",
  "CREATE TABLE `x` (`a` bigint unsigned, b text);\n",
  "COPY public.t (a, b) FROM stdin;\n",
  "COPY t FROM stdin WITH (FORMAT csv);\n",
  "\\.\n",
  "1\tx\n",
  "\\N\t\\t\\\\\n",
  "(1, 'a')",
  "(NULL, 'it''s')",
  "('\\'', \"dq\")",
  "(0x00ff, X'41', b'101', E'\\x41\\n')",
  "(-1.5e3, +2, --3\n)",
  ",",
  ";",
  ";\n",
  "'",
  '"',
  "`",
  "[",
  "]",
  "(",
  ")",
  "$$",
  "$tag$body$tag$",
  "/*",
  "*/",
  "/*!40101 SET NAMES utf8 */;\n",
  "-- comment\n",
  "#",
  "DELIMITER //\n",
  "//",
  "GO\n",
  "SET standard_conforming_strings = off;\n",
  "\n",
  "\r\n",
  "\0",
  "é",
  "\ufeff",
  "replace('a', char(10), 'b')",
  "CAST('1' AS INT)",
  "UNHEX('41')",
  "COPY (SELECT 1) TO '/tmp/x';\n",
];

/** Text built from dump syntax (statements, quotes, comments, COPY blocks, delimiters) and noise. */
const dumpish: fc.Arbitrary<Buffer> = fc.oneof(
  fc
    .array(
      fc.oneof(
        { weight: 5, arbitrary: fc.constantFrom(...SQL_PIECES) },
        { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
      ),
      {
        maxLength: 30,
      },
    )
    .map((p) => Buffer.from(p.join(""), "utf8")),
  fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
);

describe("sql dump reader: arbitrary and broken dumps", () => {
  it("never throws or hangs, reports well-formed events, and does not depend on where chunks end", async () => {
    await fc.assert(
      fc.asyncProperty(dumpish, fc.array(fc.nat(), { maxLength: 6 }), async (bytes, cuts) => {
        const label = `sql ${JSON.stringify(bytes.toString("latin1").slice(0, 300))}`;
        const whole = await withinTime(label, CASE_MS, () => events([bytes]));
        checkEvents(whole);
        const split = await withinTime(`${label} cuts ${cuts}`, CASE_MS, () => events(chunked(bytes, cuts)));
        expect(split).toEqual(whole);
      }),
      params("sql reader arbitrary", 0x5d0001, 500),
    );
  });
});

// Well-formed dumps whose values are known, in PostgreSQL's plain-string style (doubled quotes, no backslash
// escapes) and as COPY text blocks.
const value = fc.oneof(
  fc.integer(),
  fc.constant(null),
  // Strings with the characters a splitter must not stop at: ; ' " -- /* newline tab backslash, and Unicode.
  fc.string({
    maxLength: 12,
    unit: fc.constantFrom("a", "é", ";", "'", '"', "-", "/", "*", "\n", "\t", "\\", " ", "\u{1F4CA}"),
  }),
);
const ident = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);

function sqlLiteral(v: string | number | null): string {
  if (v === null) return "NULL";
  if (typeof v === "number") return String(v);
  return `'${v.replaceAll("'", "''")}'`;
}

function copyField(v: string | number | null): string {
  if (v === null) return "\\N";
  return String(v).replaceAll("\\", "\\\\").replaceAll("\t", "\\t").replaceAll("\n", "\\n").replaceAll("\r", "\\r");
}

const table = fc.uniqueArray(ident, { minLength: 1, maxLength: 4 }).chain((cols) =>
  fc.record({
    name: ident,
    cols: fc.constant(cols),
    rows: fc.array(fc.array(value, { minLength: cols.length, maxLength: cols.length }), { minLength: 1, maxLength: 8 }),
    copy: fc.boolean(),
  }),
);

describe("sql dump reader: well-formed INSERT and COPY", () => {
  it("gives back every row, value for value, with no error", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(table, { minLength: 1, maxLength: 3, selector: (t) => t.name }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (tables, cuts) => {
          let text = "-- generated\n";
          for (const t of tables) {
            if (t.copy) {
              text += `COPY public.${t.name} (${t.cols.join(", ")}) FROM stdin;\n`;
              for (const r of t.rows) text += `${r.map(copyField).join("\t")}\n`;
              text += "\\.\n";
            } else {
              const tuples = t.rows.map((r) => `(${r.map(sqlLiteral).join(", ")})`).join(",\n  ");
              text += `INSERT INTO "${t.name}" (${t.cols.join(", ")}) VALUES\n  ${tuples};\n`;
            }
          }
          const evs = await withinTime("sql well-formed", CASE_MS, () =>
            events(chunked(Buffer.from(text, "utf8"), cuts)),
          );
          expect(evs.filter((e) => e.kind === "error")).toEqual([]);
          for (const t of tables) {
            // COPY names the table as pg_dump does (public.t); quoted values arrive as raw UTF-8 bytes.
            const name = t.copy ? `public.${t.name}` : t.name;
            const rows = evs.flatMap((e) => (e.kind === "rows" && e.table === name ? e.rows : []));
            // COPY fields are text; INSERT literals keep their type (integers as numbers).
            const raw = (v: string | number | null) => (typeof v === "string" ? Buffer.from(v).toString("latin1") : v);
            const want = t.rows.map((r) => r.map((v) => raw(t.copy && typeof v === "number" ? String(v) : v)));
            expect(rows).toEqual(want);
          }
        },
      ),
      params("sql reader well-formed", 0x5d0002, 200),
    );
  });
});

const TABLE_NAMES = [
  "../../escape",
  "/etc/passwd",
  ".hidden",
  "a/b",
  "a\\b",
  "..",
  ".",
  "",
  "T",
  "t",
  "-rf",
  "x".repeat(300),
  "é",
  "con",
  "a b",
];

describe("sql dump to Parquet", () => {
  it("writes one Parquet per table inside its directory only, never runs the dump's SQL, and never throws on input", async () => {
    const tableName = fc.oneof(fc.constantFrom(...TABLE_NAMES), hostileString({ maxPieces: 4 }));
    // Statements a database would run with side effects: here they must be read past, never executed.
    const attacks = (dir: string): string[] => [
      `COPY (SELECT 42) TO '${dir}/pwned-copy.csv';\n`,
      `CREATE TABLE p AS SELECT * FROM read_csv('/etc/passwd');\n`,
      `ATTACH '${dir}/pwned.db' AS x;\n`,
      "INSTALL httpfs;\nLOAD httpfs;\n",
      "SELECT * FROM read_text('/etc/hostname');\n",
      `EXPORT DATABASE '${dir}/pwned-export';\n`,
      "",
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(tableName, fc.array(fc.array(value, { minLength: 2, maxLength: 2 }), { maxLength: 3 })), {
          maxLength: 4,
        }),
        fc.array(fc.nat({ max: 6 }), { maxLength: 3 }),
        dumpish,
        async (tables, picks, noise) => {
          const dir = caseDir();
          let text = picks.map((k) => attacks(dir)[k]).join("");
          for (const [name, rows] of tables) {
            const quoted = `"${name.replaceAll('"', '""')}"`;
            text += `CREATE TABLE ${quoted} (a INT, b TEXT);\n`;
            if (rows.length > 0)
              text += `INSERT INTO ${quoted} VALUES ${rows.map((r) => `(${r.map(sqlLiteral).join(", ")})`).join(", ")};\n`;
          }
          const input = Buffer.concat([Buffer.from(text, "utf8"), noise]);
          const out = join(dir, "tables");
          const result = await withinTime(`sql parquet ${JSON.stringify(text.slice(0, 200))}`, CASE_MS * 2, () =>
            sqlDumpToParquet(Readable.from([input]), out, { ...DUCK, tempDirectory: join(dir, "spill") }),
          );
          // Every Parquet is a plain, visible file directly in the output directory; nothing else was written.
          const files = readdirSync(out);
          expect(files.sort()).toEqual(result.tables.map((t) => t.parquetPath.slice(out.length + 1)).sort());
          for (const f of files) expect(f).toMatch(/^[\p{L}\p{N}_][\p{L}\p{N}_.-]*\.parquet$/u);
          expect(new Set(files.map((f) => f.toLowerCase())).size).toBe(files.length);
          for (const t of result.tables) expect(t.profile.rowCount).toBeGreaterThan(0);
          expect(result.errorCount).toBeGreaterThanOrEqual(result.errors.length);
          const stray = tree(dir).filter((e) => !e.startsWith("tables/") && e !== "spill/" && !e.startsWith("spill/"));
          expect(stray.filter((e) => e !== "tables/")).toEqual([]);
          expect(tree(dir).filter((e) => e.startsWith("spill/") && !e.endsWith("/"))).toEqual([]);
          for (const f of ["pwned-copy.csv", "pwned.db", "pwned-export"]) expect(existsSync(join(dir, f))).toBe(false);
          removeRoot(dir);
        },
      ),
      params("sql dump to parquet", 0x5d0003, 100),
    );
  });
});
