import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { NumberText, readSqlDump, type SqlEvent, type SqlValue } from "../../src/processors/sql-dump/index.js";

/** Feeds `sql` as UTF-8 bytes in chunks of `size` bytes (whole when omitted) and collects every event. */
async function events(sql: string | Buffer, size?: number): Promise<SqlEvent[]> {
  const bytes = typeof sql === "string" ? Buffer.from(sql, "utf8") : sql;
  const chunks: Buffer[] = [];
  const step = size ?? Math.max(1, bytes.length);
  for (let i = 0; i < bytes.length; i += step) chunks.push(bytes.subarray(i, i + step));
  const out: SqlEvent[] = [];
  for await (const ev of readSqlDump(Readable.from(chunks))) out.push(ev);
  return out;
}

/** Quoted values arrive as raw bytes (one latin1 char per byte): shown here as the UTF-8 text they hold. */
const utf8 = (v: SqlValue): SqlValue => (typeof v === "string" ? Buffer.from(v, "latin1").toString("utf8") : v);

async function rowsOf(sql: string, size?: number): Promise<Record<string, SqlValue[][]>> {
  const byTable: Record<string, SqlValue[][]> = {};
  for (const ev of await events(sql, size)) {
    if (ev.kind === "rows") byTable[ev.table] = [...(byTable[ev.table] ?? []), ...ev.rows.map((r) => r.map(utf8))];
  }
  return byTable;
}

async function errorsOf(sql: string): Promise<{ table: string | null; line: number; message: string }[]> {
  return (await events(sql)).flatMap((ev) =>
    ev.kind === "error" ? [{ table: ev.table, line: ev.line, message: ev.message }] : [],
  );
}

const bytes = (...b: number[]) => new Uint8Array(b);

describe("statement boundaries", () => {
  it("never splits on a semicolon inside a string, quoted identifier or comment", async () => {
    const sql = [
      "-- a comment; with a semicolon",
      "/* block; comment */ INSERT INTO \"we;ird\" VALUES ('a;b', 'c'';d'); -- trailing;",
      "INSERT INTO t VALUES (1 /* inline; */, 'x');",
    ].join("\n");
    expect(await rowsOf(sql)).toEqual({ "we;ird": [["a;b", "c';d"]], t: [[1, "x"]] });
    expect(await errorsOf(sql)).toEqual([]);
  });

  it("skips dollar-quoted function bodies whole, including the statements inside them", async () => {
    const sql = [
      "CREATE FUNCTION f() RETURNS trigger AS $$",
      "BEGIN INSERT INTO audit VALUES (NEW.id); RETURN NEW; END; $$ LANGUAGE plpgsql;",
      "CREATE FUNCTION g() RETURNS void AS $body$ SELECT 'it''s; $$ fine'; $body$ LANGUAGE sql;",
      "INSERT INTO t VALUES (1), ($$dollar; quoted$$);",
    ].join("\n");
    expect(await rowsOf(sql)).toEqual({ t: [[1], ["dollar; quoted"]] });
    expect(await errorsOf(sql)).toEqual([]);
  });

  it("skips every other statement without an error", async () => {
    const sql = [
      "SET NAMES utf8mb4;",
      "CREATE INDEX i ON t (a);",
      "ALTER TABLE ONLY public.t ADD CONSTRAINT pk PRIMARY KEY (id);",
      "SELECT pg_catalog.setval('public.t_id_seq', 200, true);",
      "BEGIN TRANSACTION; COMMIT;",
      "CREATE VIEW v AS SELECT 1;",
    ].join("\n");
    expect(await events(sql)).toEqual([]);
  });

  it("ends SQL Server batches at GO lines and reads [bracket] identifiers and N'' strings", async () => {
    const sql = [
      "SET IDENTITY_INSERT [dbo].[Genre] ON",
      "GO",
      "INSERT INTO [dbo].[Genre] ([GenreId], [Name]) VALUES (1, N'Rock'), (2, N'Rock ''n'' Roll')",
      "GO",
      "go",
    ].join("\r\n");
    const evs = await events(sql);
    expect(evs.filter((e) => e.kind === "rows")).toEqual([
      {
        kind: "rows",
        table: "dbo.Genre",
        columns: ["GenreId", "Name"],
        rows: [
          [1, "Rock"],
          [2, "Rock 'n' Roll"],
        ],
        firstLine: 3,
        lines: [3, 3],
      },
    ]);
    expect(await errorsOf(sql)).toEqual([]);
  });

  it("honours DELIMITER so trigger bodies are one statement", async () => {
    const sql = [
      "DELIMITER ;;",
      "CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW BEGIN",
      "  INSERT INTO film_text (film_id, title) VALUES (new.film_id, new.title);",
      "END;;",
      "DELIMITER ;",
      "INSERT INTO `film` VALUES (1,'A');",
    ].join("\n");
    expect(await rowsOf(sql)).toEqual({ film: [[1, "A"]] });
    expect(await errorsOf(sql)).toEqual([]);
  });

  it("reads a backtick identifier holding a backslash after a string with escapes", async () => {
    const sql = "INSERT INTO `t` VALUES ('a\\'b');\nINSERT INTO `back\\` VALUES (1);";
    expect(await rowsOf(sql)).toEqual({ t: [["a'b"]], "back\\": [[1]] });
  });

  it("ends a psql meta-command at its newline", async () => {
    const sql = "\\connect chinook\nCREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n";
    const evs = await events(sql);
    expect(evs[0]).toEqual({ kind: "table", table: "a", columns: [{ name: "id", type: "int" }] });
    expect(await rowsOf(sql)).toEqual({ a: [[1]] });
  });

  it("gives the same events whatever the chunk size", async () => {
    const sql = [
      "/*!40101 SET NAMES utf8 */;",
      "CREATE TABLE `t` (`id` int NOT NULL, `s` varchar(20) CHARACTER SET utf8mb4, `b` blob);",
      "INSERT INTO `t` VALUES (1,'it\\'s; ok',0x00FF),(2,'caf\u00e9 \u{1F600}',_binary 'x\\0y'),(-3,'a''b',NULL);",
      "CREATE FUNCTION f() AS $tag$ ; $ $$ $tag$;",
      "COPY public.u (a, b) FROM stdin;",
      "1\tx\\ty",
      "2\t\\N",
      "\\.",
      "INSERT INTO u VALUES (E'\\x41\\101', X'4142');",
    ].join("\n");
    const whole = await events(sql);
    expect(whole.filter((e) => e.kind === "error")).toEqual([]);
    for (const size of [1, 2, 3, 5, 7, 64]) expect(await events(sql, size)).toEqual(whole);
  });
});

describe("literals", () => {
  it("reads MySQL backslash escapes once the dump is known to be MySQL", async () => {
    const sql = "INSERT INTO `t` VALUES ('it\\'s','a\\\\b','q\\\"','\\0\\b\\n\\r\\t\\Z','50\\%\\_','end\\\\');";
    expect(await rowsOf(sql)).toEqual({ t: [["it's", "a\\b", 'q"', "\0\b\n\r\t\x1a", "50\\%\\_", "end\\"]] });
  });

  it("keeps backslashes literal in standard SQL strings, and doubles quotes with ''", async () => {
    const sql = "INSERT INTO t VALUES ('C:\\', 'O''Brien', '');";
    expect(await rowsOf(sql)).toEqual({ t: [["C:\\", "O'Brien", ""]] });
  });

  it("reads E'' strings with PostgreSQL escapes, and plain strings after standard_conforming_strings = off", async () => {
    expect(await rowsOf("INSERT INTO t VALUES (E'a\\tb\\x41\\101\\u00e9\\'', e'\\\\');")).toEqual({
      t: [["a\tbAA\u00e9'", "\\"]],
    });
    expect(await rowsOf("SET standard_conforming_strings = off;\nINSERT INTO t VALUES ('it\\'s');")).toEqual({
      t: [["it's"]],
    });
  });

  it("reads N'', X'', 0x, b'', _binary and charset introducers", async () => {
    const sql =
      "INSERT INTO `t` VALUES (N'\u00fcber', X'4142', 0x0aFf, 0xABC, b'101', _binary 'A\\0', _utf8mb4 'ok', X'');";
    expect(await rowsOf(sql)).toEqual({
      t: [["\u00fcber", bytes(0x41, 0x42), bytes(0x0a, 0xff), bytes(0x0a, 0xbc), 5, bytes(0x41, 0), "ok", bytes()]],
    });
  });

  it("reads MySQL's unquoted \\N as NULL, and a quoted one as the text \\N", async () => {
    expect(await rowsOf("INSERT INTO `t` VALUES (\\N,'\\N',1);")).toEqual({ t: [[null, "\\N", 1]] });
  });

  it("keeps the exact bytes of a _binary string that is not valid UTF-8", async () => {
    const sql = Buffer.concat([
      Buffer.from("INSERT INTO `t` VALUES (_binary '"),
      Buffer.from([0xff, 0x00, 0xc3]),
      Buffer.from("');"),
    ]);
    const evs = await events(sql, 3);
    const rows = evs.flatMap((e) => (e.kind === "rows" ? e.rows : []));
    expect(rows).toEqual([[bytes(0xff, 0x00, 0xc3)]]);
  });

  it("reads numbers, NULL and booleans; numbers with a point or exponent keep their exact text", async () => {
    const sql =
      "INSERT INTO t VALUES (0, -5, +7, 3.14, -1.5e3, .5, 12345678901234567890, -9007199254740993, NULL, TRUE, false, 123456789012345.12345);";
    const num = (t: string) => new NumberText(t);
    expect(await rowsOf(sql)).toEqual({
      t: [
        [
          0,
          -5,
          7,
          num("3.14"),
          num("-1.5e3"),
          num(".5"),
          12345678901234567890n,
          -9007199254740993n,
          null,
          true,
          false,
          num("123456789012345.12345"),
        ],
      ],
    });
  });

  it("reads SQLite .dump values: X'' blobs and replace(…, char(10)) for newlines", async () => {
    const sql = "BEGIN TRANSACTION;\nINSERT INTO \"t\" VALUES(1,X'00ff',replace('a\\nb','\\n',char(10)));\nCOMMIT;";
    expect(await rowsOf(sql)).toEqual({ t: [[1, bytes(0, 0xff), "a\nb"]] });
  });

  it("keeps a SQLite dump SQLite's when a CREATE TABLE quotes names with backticks", async () => {
    // .dump repeats each CREATE TABLE as written; SQLite's strings have no backslash escapes.
    const sql =
      "PRAGMA foreign_keys=OFF;\nCREATE TABLE t (`a` TEXT, b TEXT DEFAULT 'C:\\');\n" +
      "INSERT INTO t VALUES('ends in \\','x');\nINSERT INTO t VALUES('\\''','y');\n";
    expect(await rowsOf(sql)).toEqual({
      t: [
        ["ends in \\", "x"],
        ["\\'", "y"],
      ],
    });
    const settings = (await events(sql)).filter((e) => e.kind === "settings");
    expect(settings).toEqual([{ kind: "settings", dialect: "sqlite", charset: "utf8" }]);
  });

  it("drops casts and skips MySQL conditional comments inside tuples", async () => {
    const sql = "INSERT INTO `a` VALUES (1,/*!50705 0x0001,*/'x'),(2,'{1,2}'::int[]);";
    expect(await rowsOf(sql)).toEqual({
      a: [
        [1, "x"],
        [2, "{1,2}"],
      ],
    });
  });

  it("names tables as the dump qualifies them, whatever the quoting", async () => {
    const sql =
      'INSERT INTO public.a VALUES (1);\nINSERT INTO "s"."b" VALUES (1);\nINSERT [db].[dbo].[c] VALUES (1);\nINSERT INTO `d`.`e` VALUES (1);\nINSERT INTO "x.y" VALUES (1);\nINSERT INTO x.y VALUES (1);';
    expect(Object.keys(await rowsOf(sql))).toEqual(["public.a", "s.b", "db.dbo.c", "d.e", '"x.y"', "x.y"]);
  });

  it("strips a UTF-8 byte-order mark", async () => {
    expect(await rowsOf("\ufeffINSERT INTO t VALUES (1);", 1)).toEqual({ t: [[1]] });
  });
});

describe("COPY blocks", () => {
  it("decodes \\N, backslash escapes, octal and hex bytes", async () => {
    const sql = "COPY public.t (a, b, c) FROM stdin;\n\\N\ta\\tb\\\\c\\nd\t\\101\\x42\\303\\251\r\n\\.\n";
    const evs = await events(sql);
    expect(evs).toEqual([
      { kind: "settings", dialect: "postgres", charset: "utf8" },
      { kind: "table", table: "public.t", columns: null },
      {
        kind: "rows",
        table: "public.t",
        columns: ["a", "b", "c"],
        // Raw bytes: \303\251 is é in UTF-8, decoded only by the column it lands in.
        rows: [[null, "a\tb\\c\nd", "AB\u00c3\u00a9"]],
        firstLine: 2,
        lines: [2],
      },
    ]);
  });

  it("reports rows with the wrong field count and keeps the others", async () => {
    const sql = "COPY t (a, b, c) FROM stdin;\n1\t2\t3\n1\t2\n1\t2\t3\t4\n5\t6\t7\n\\.\n";
    const evs = await events(sql);
    expect(evs.filter((e) => e.kind === "error")).toEqual([
      { kind: "error", table: "t", line: 3, message: "expected 3 fields, got 2" },
      { kind: "error", table: "t", line: 4, message: "expected 3 fields, got 4" },
    ]);
    expect(await rowsOf(sql)).toEqual({
      t: [
        ["1", "2", "3"],
        ["5", "6", "7"],
      ],
    });
  });

  it("reports a CSV-format COPY and does not read its lines as SQL", async () => {
    const sql = "COPY t (a) FROM stdin WITH (FORMAT csv);\nINSERT INTO x VALUES (1);\n\\.\nINSERT INTO y VALUES (2);";
    expect(await rowsOf(sql)).toEqual({ y: [[2]] });
    expect((await errorsOf(sql)).map((e) => e.line)).toEqual([1]);
  });
});

describe("CREATE TABLE", () => {
  it("reads column names and declared types, skipping constraints and options", async () => {
    const sql = [
      "CREATE TABLE IF NOT EXISTS `x`.`t` (",
      "  `id` int(11) unsigned NOT NULL AUTO_INCREMENT,",
      "  `name` varchar(45) CHARACTER SET utf8 COLLATE utf8_bin DEFAULT 'a,b',",
      "  price numeric(10, 2),",
      "  ts timestamp with time zone DEFAULT now() NOT NULL,",
      "  tags text[],",
      "  untyped,",
      "  PRIMARY KEY (`id`),",
      "  KEY `idx` (`name`),",
      "  CONSTRAINT fk FOREIGN KEY (id) REFERENCES o (id)",
      ") ENGINE=InnoDB;",
    ].join("\n");
    expect(await events(sql)).toEqual([
      { kind: "settings", dialect: "mysql", charset: "utf8" },
      {
        kind: "table",
        table: "x.t",
        columns: [
          { name: "id", type: "int(11) unsigned" },
          // Its charset decodes it in a dump taken with SET NAMES binary.
          { name: "name", type: "varchar(45)", charset: "utf8" },
          { name: "price", type: "numeric(10, 2)" },
          { name: "ts", type: "timestamp with time zone" },
          { name: "tags", type: "text[]" },
          { name: "untyped", type: null },
        ],
      },
    ]);
  });
});

describe("errors", () => {
  it("reports a broken INSERT once and goes on with the next statement", async () => {
    const sql = "INSERT INTO t VALUES (1),(2) (3);\nINSERT INTO t VALUES (4, now());\nINSERT INTO t VALUES (5);";
    expect(await rowsOf(sql)).toEqual({ t: [[5]] });
    const errors = await errorsOf(sql);
    expect(errors.map((e) => [e.table, e.line])).toEqual([
      ["t", 1],
      ["t", 2],
    ]);
    expect(errors[1]?.message).toMatch(/unsupported expression NOW/);
  });

  it("reports INSERT … SELECT as having no rows to read", async () => {
    expect((await errorsOf("INSERT INTO t SELECT * FROM u;"))[0]?.message).toMatch(/no literal rows/);
  });

  it("reports unterminated strings, identifiers and dollar quotes at end of input", async () => {
    for (const sql of [
      "INSERT INTO t VALUES ('x);\n",
      "INSERT INTO `t VALUES (1);",
      "SELECT 1;\nINSERT INTO t VALUES ($$x);",
    ]) {
      const errors = await errorsOf(sql);
      expect(errors).toHaveLength(1);
      expect(errors[0]?.message).toMatch(/^unterminated .* opened at line \d+/);
    }
    expect((await errorsOf("SELECT 1;\nINSERT INTO t VALUES ($$x);"))[0]).toMatchObject({ table: "t", line: 2 });
  });
});
