import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DuckSession, openDuck, sqlString } from "../../src/processors/tabular/duckdb-session.js";
import { reasonSql, type StageLayout, typedValueSql, validSql } from "../../src/processors/validate/rules-sql.js";
import type { ColumnRule, ColumnType, FeedSchema } from "../../src/processors/validate/schema.js";

let duck: DuckSession;
beforeAll(async () => {
  duck = await openDuck({ memoryLimit: "256MB", threads: 1 });
  await duck.conn.run("SET TimeZone = 'UTC'");
});
afterAll(() => duck?.close());

/** Awkward cells for every type: blanks, spellings of NaN, overflow, impossible dates, epoch seconds. */
const VALUES: (string | null)[] = [
  null,
  "",
  " ",
  "\t",
  "abc",
  "1",
  "-1",
  "+1",
  "007",
  "1.5",
  ".5",
  "5.",
  "1e5",
  "1e400",
  "-1e400",
  "NaN",
  "nan",
  "+nan",
  "inf",
  "-inf",
  "Infinity",
  "-Infinity",
  "0x10",
  "1_000",
  " 12 ",
  "12.3.4",
  "--1",
  "9999999999999999999",
  "2024-03-01",
  "2024-03-01T00:00:00Z",
  "2024-03-01 12:30:00",
  "2024-03-01T02:00:00+02:00",
  "2024-02-30T00:00:00Z",
  "2024-03-01T25:00:00Z",
  "not-a-timestamp",
  "1709251200",
  "1709251200.5",
  "-86400",
  "true",
  "FALSE",
  "t",
  "yes",
  "maybe",
];

const TYPES: ColumnType[] = ["string", "number", "integer", "timestamp", "boolean"];

function one(rule: ColumnRule): { layout: StageLayout; schema: FeedSchema } {
  return {
    layout: { columns: [{ name: "c", rule }], absent: [], paddedColumns: null },
    schema: { name: "t", match: ["*"], columns: [rule] },
  };
}

async function evaluate(
  rule: ColumnRule,
): Promise<{ v: string | null; reason: string | null; ok: boolean; typed: unknown }[]> {
  const { layout, schema } = one(rule);
  const values = VALUES.map((v, i) => `(${i}, ${v === null ? "NULL" : sqlString(v)})`).join(", ");
  const r = await duck.conn.runAndReadAll(
    `SELECT i, c, ${reasonSql(layout, schema)} AS reason, ${validSql(layout, schema)} AS ok,
       ${typedValueSql('"c"', rule.type)} AS typed
     FROM (VALUES ${values}) t(i, c) ORDER BY i`,
  );
  return r.getRowObjectsJS().map((x) => ({
    v: x.c as string | null,
    reason: x.reason as string | null,
    ok: x.ok as boolean,
    typed: x.typed,
  }));
}

describe("the cheap validity predicate agrees with the detailed reasons", () => {
  for (const type of TYPES) {
    for (const required of [true, false]) {
      const rule: ColumnRule = { name: "c", type, required, ...(type === "string" ? { nonEmpty: true } : {}) };
      it(`${type}, ${required ? "required" : "optional"}`, async () => {
        for (const row of await evaluate(rule)) {
          expect({ v: row.v, valid: row.ok }).toEqual({ v: row.v, valid: row.reason === null });
          // A valid typed cell is never NULL unless it was blank and optional.
          if (row.ok && required && row.v !== null) expect(row.typed, String(row.v)).not.toBeNull();
        }
      });
    }
  }
});

async function verdicts(
  type: ColumnType,
  required = true,
  nonEmpty = false,
): Promise<Map<string | null, string | null>> {
  const rows = await evaluate({ name: "c", type, required, ...(nonEmpty ? { nonEmpty } : {}) });
  return new Map(rows.map((r) => [r.v, r.reason === null ? null : (r.reason.split(":")[0] ?? null)]));
}

describe("reason codes", () => {
  it("number: finite doubles only", async () => {
    const v = await verdicts("number");
    expect([v.get("1.5"), v.get("1e5"), v.get(" 12 "), v.get("+1")]).toEqual([null, null, null, null]);
    for (const bad of ["abc", "12.3.4", "--1", "0x10", ""]) expect(v.get(bad), bad).toBe("non_numeric_value");
    for (const nan of ["NaN", "nan", "+nan", "inf", "-inf", "Infinity", "-Infinity", "1e400"]) {
      expect(v.get(nan), nan).toBe("nan_or_infinity");
    }
    expect(v.get(null)).toBe("missing_field");
  });

  it("integer: digits with an optional sign, within BIGINT", async () => {
    const v = await verdicts("integer");
    expect([v.get("1"), v.get("-1"), v.get("+1"), v.get("007"), v.get(" 12 ")]).toEqual([null, null, null, null, null]);
    for (const bad of ["1.5", "1e5", "0x10", "1_000", "9999999999999999999", "abc"]) {
      expect(v.get(bad), bad).toBe("non_integer_value");
    }
  });

  it("timestamp: ISO-8601 or epoch seconds, real calendar dates only", async () => {
    const v = await verdicts("timestamp");
    for (const ok of [
      "2024-03-01",
      "2024-03-01T00:00:00Z",
      "2024-03-01 12:30:00",
      "1709251200",
      "1709251200.5",
      "-86400",
    ]) {
      expect(v.get(ok), ok).toBeNull();
    }
    for (const bad of [
      "2024-02-30T00:00:00Z",
      "2024-03-01T25:00:00Z",
      "not-a-timestamp",
      "",
      "abc",
      "inf",
      "-Infinity",
    ]) {
      expect(v.get(bad), bad).toBe("bad_timestamp");
    }
  });

  it("timestamp values are UTC instants: offsets applied, epoch seconds converted", async () => {
    const rows = await evaluate({ name: "c", type: "timestamp", required: true });
    const iso = (s: string) => {
      const t = rows.find((r) => r.v === s)?.typed;
      return t instanceof Date ? t.toISOString() : String(t);
    };
    expect(iso("2024-03-01T02:00:00+02:00")).toBe("2024-03-01T00:00:00.000Z");
    expect(iso("1709251200")).toBe("2024-03-01T00:00:00.000Z");
    expect(iso("2024-03-01 12:30:00")).toBe("2024-03-01T12:30:00.000Z");
  });

  it("boolean and non-empty string", async () => {
    const b = await verdicts("boolean");
    expect([b.get("true"), b.get("FALSE"), b.get("t"), b.get("yes"), b.get("1")]).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(b.get("maybe")).toBe("non_boolean_value");
    const s = await verdicts("string", true, true);
    expect([s.get(""), s.get(" "), s.get("\t")]).toEqual(["empty_c", "empty_c", "empty_c"]);
    expect(s.get("abc")).toBeNull();
  });

  it("optional typed columns accept blanks (as NULL) but not garbage", async () => {
    const v = await verdicts("number", false);
    expect([v.get(null), v.get(""), v.get(" ")]).toEqual([null, null, null]);
    expect(v.get("abc")).toBe("non_numeric_value");
  });

  it("a short CSV row is missing_field before anything else; an absent column is named", async () => {
    const rule: ColumnRule = { name: "value", type: "number", required: true };
    const layout: StageLayout = { columns: [{ name: "a", rule: null }], absent: [rule], paddedColumns: ["a"] };
    const schema: FeedSchema = { name: "t", match: ["*"], columns: [rule] };
    const r = await duck.conn.runAndReadAll(
      `SELECT ${reasonSql(layout, schema)} AS reason, ${validSql(layout, schema)} AS ok FROM (VALUES (NULL), ('x')) t(a)`,
    );
    expect(r.getRowObjectsJS()).toEqual([
      { reason: "missing_field: the row has 0 fields, the header has 1", ok: false },
      { reason: "missing_field: value is missing (no such column in the header)", ok: false },
    ]);
  });
});
