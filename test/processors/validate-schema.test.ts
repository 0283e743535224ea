import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadSchemaOption, SENSOR_READINGS, schemaFor } from "../../src/processors/validate/index.js";

const dir = mkdtempSync(join(tmpdir(), "sluice-validate-schema-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function schemaFile(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

const FEED = {
  name: "meters",
  match: ["meters/*.csv", "*.meter.tsv"],
  columns: [
    { name: "meter", type: "string", nonEmpty: true },
    { name: "kwh", type: "number" },
    { name: "note", type: "string", required: false },
  ],
  keyColumn: "meter",
};

describe("loadSchemaOption", () => {
  it("`sensor-readings` is the built-in preset", () => {
    expect(loadSchemaOption("sensor-readings")).toEqual([SENSOR_READINGS]);
    expect(SENSOR_READINGS.columns.map((c) => [c.name, c.type, c.required])).toEqual([
      ["sensor_id", "string", true],
      ["timestamp", "timestamp", true],
      ["value", "number", true],
    ]);
  });

  it("reads a feed file: one feed, a list, or { feeds }; `required` defaults to true", () => {
    for (const doc of [FEED, [FEED], { feeds: [FEED] }]) {
      const [feed] = loadSchemaOption(schemaFile("ok.json", doc));
      expect(feed?.name).toBe("meters");
      expect(feed?.columns.map((c) => c.required)).toEqual([true, true, false]);
    }
  });

  it("names every problem with its path", () => {
    const bad = {
      ...FEED,
      columns: [{ name: "meter", type: "text" }, { name: "kwh" }],
      colour: "blue",
    };
    const err = () => loadSchemaOption(schemaFile("bad.json", bad));
    expect(err).toThrow(/schema file .*bad\.json is not a valid feed schema/);
    expect(err).toThrow(/columns\[0\]\.type: Invalid option: expected one of "string"\|"number"/);
    expect(err).toThrow(/columns\[1\]\.type: Invalid option/);
    expect(err).toThrow(/Unrecognized key: "colour"/);
  });

  it("checks references between fields", () => {
    const err = () =>
      loadSchemaOption(schemaFile("refs.json", { ...FEED, keyColumn: "site", valueColumns: ["meter", "kwh"] }));
    expect(err).toThrow(/keyColumn: "site" is not one of the columns/);
    expect(err).toThrow(/valueColumns\[0\]: "meter" is not a number or integer column/);
    const dup = { ...FEED, columns: [...FEED.columns, { name: "kwh", type: "integer" }] };
    expect(() => loadSchemaOption(schemaFile("dup.json", dup))).toThrow(/column names must be unique/);
    expect(() => loadSchemaOption(schemaFile("twice.json", [FEED, FEED]))).toThrow(/feed name "meters" is used twice/);
    const nonEmpty = { ...FEED, columns: [{ name: "kwh", type: "number", nonEmpty: true }] };
    expect(() => loadSchemaOption(schemaFile("ne.json", nonEmpty))).toThrow(/nonEmpty applies to strings only/);
  });

  it("reports unreadable and non-JSON files plainly", () => {
    expect(() => loadSchemaOption(join(dir, "missing.json"))).toThrow(
      /cannot read schema file .*missing\.json: ENOENT/,
    );
    expect(() => loadSchemaOption(schemaFile("text.json", "columns: [a]"))).toThrow(/is not valid JSON/);
    expect(() => loadSchemaOption(schemaFile("num.json", "42"))).toThrow(/expected object, received number/);
  });
});

describe("schemaFor", () => {
  const [feed] = loadSchemaOption(schemaFile("feed.json", FEED));
  const feeds = [feed ?? FEED, SENSOR_READINGS] as Parameters<typeof schemaFor>[1];

  it("matches globs with a slash against the path, others against the base name, ignoring case", () => {
    expect(schemaFor("meters/a.csv", feeds)?.name).toBe("meters");
    expect(schemaFor("x/y.METER.tsv", feeds)?.name).toBe("meters");
    expect(schemaFor("other/a.csv", feeds)?.name).toBe("sensor-readings");
  });

  it("the preset applies to every tabular extension and nothing else", () => {
    for (const n of ["a.csv", "b.TSV", "c.json", "d.jsonl", "e.ndjson"]) {
      expect(schemaFor(n, [SENSOR_READINGS])).toBe(SENSOR_READINGS);
    }
    expect(schemaFor("a.txt", [SENSOR_READINGS])).toBeNull();
    expect(schemaFor("a.csv", [])).toBeNull();
  });
});
