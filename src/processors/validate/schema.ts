import { readFileSync } from "node:fs";
import { basename } from "node:path";
import picomatch from "picomatch";
import { z } from "zod";

/** What a cell must hold to be valid. */
export type ColumnType = "string" | "number" | "integer" | "timestamp" | "boolean";

/** One column a feed must (or may) have. */
export interface ColumnRule {
  name: string;
  /**
   * `number`: a finite double; `integer`: an optional sign and digits only (fits BIGINT);
   * `timestamp`: ISO-8601 (a value without offset is UTC) or epoch seconds; `boolean`: true/false, t/f, 1/0, yes/no.
   */
  type: ColumnType;
  /** The field must be present; for a typed column it must also not be blank. */
  required: boolean;
  /** Strings only: blank (whitespace only) is invalid. */
  nonEmpty?: boolean;
}

/** A feed: the files it applies to and the columns they must have. */
export interface FeedSchema {
  name: string;
  /** Globs; one without `/` is matched against the base name. Matching ignores case. */
  match: string[];
  columns: ColumnRule[];
  /** Aggregations count valid rows per value of this column. */
  keyColumn?: string;
  /** Aggregations report min/max of these (numeric) columns; default: every number/integer column. */
  valueColumns?: string[];
}

/** The built-in "sensor readings" preset: `sensor_id,timestamp,value`, applied to every tabular file. */
export const SENSOR_READINGS: FeedSchema = Object.freeze({
  name: "sensor-readings",
  match: ["*.csv", "*.tsv", "*.json", "*.jsonl", "*.ndjson"],
  columns: [
    { name: "sensor_id", type: "string", required: true, nonEmpty: true },
    { name: "timestamp", type: "timestamp", required: true },
    { name: "value", type: "number", required: true },
  ],
  keyColumn: "sensor_id",
  valueColumns: ["value"],
}) as FeedSchema;

const columnRuleSchema = z
  .object({
    name: z.string().min(1, "a column needs a name"),
    type: z.enum(["string", "number", "integer", "timestamp", "boolean"]),
    // A column listed in a schema is expected unless said otherwise.
    required: z.boolean().default(true),
    nonEmpty: z.boolean().optional(),
  })
  .strict();

const feedSchema = z
  .object({
    name: z.string().min(1, "a feed needs a name"),
    match: z.array(z.string().min(1)).min(1, "list at least one glob"),
    columns: z.array(columnRuleSchema).min(1, "list at least one column"),
    keyColumn: z.string().min(1).optional(),
    valueColumns: z.array(z.string().min(1)).optional(),
  })
  .strict()
  .superRefine((feed, ctx) => {
    const byName = new Map(feed.columns.map((c) => [c.name, c]));
    if (byName.size !== feed.columns.length) {
      ctx.addIssue({ code: "custom", path: ["columns"], message: "column names must be unique" });
    }
    if (feed.keyColumn !== undefined && !byName.has(feed.keyColumn)) {
      ctx.addIssue({ code: "custom", path: ["keyColumn"], message: `"${feed.keyColumn}" is not one of the columns` });
    }
    feed.valueColumns?.forEach((v, i) => {
      const col = byName.get(v);
      if (!col || (col.type !== "number" && col.type !== "integer")) {
        ctx.addIssue({
          code: "custom",
          path: ["valueColumns", i],
          message: `"${v}" is not a number or integer column`,
        });
      }
    });
    feed.columns.forEach((c, i) => {
      if (c.nonEmpty && c.type !== "string") {
        ctx.addIssue({ code: "custom", path: ["columns", i, "nonEmpty"], message: "nonEmpty applies to strings only" });
      }
    });
  });

// A file may hold one feed, a list of feeds, or { "feeds": [...] }: all three read naturally.
const schemaFile = z.union([
  z.object({ feeds: z.array(feedSchema).min(1) }).strict(),
  z.array(feedSchema).min(1),
  feedSchema,
]);

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
      return `${path ? path.replace(/^\./, "") : "(top level)"}: ${i.message}`;
    })
    .join("; ");
}

/** Parses a schema document already read from JSON; throws an Error listing every problem. */
export function parseFeedSchemas(doc: unknown, source = "schema"): FeedSchema[] {
  const parsed = schemaFile.safeParse(doc);
  if (!parsed.success) {
    // A union hides which branch the user meant; re-check against the single-feed shape for a readable report.
    const asList = Array.isArray(doc) ? z.array(feedSchema).safeParse(doc) : null;
    const asWrapped =
      doc && typeof doc === "object" && "feeds" in doc
        ? z
            .object({ feeds: z.array(feedSchema) })
            .strict()
            .safeParse(doc)
        : null;
    const best = asList ?? asWrapped ?? feedSchema.safeParse(doc);
    const error = best.success ? parsed.error : best.error;
    throw new Error(`${source} is not a valid feed schema: ${describeIssues(error)}`);
  }
  const data = parsed.data;
  const feeds = Array.isArray(data) ? data : "feeds" in data ? data.feeds : [data];
  const names = feeds.map((f) => f.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new Error(`${source} is not a valid feed schema: feed name "${dup}" is used twice`);
  return feeds as FeedSchema[];
}

/**
 * The `--schema` option: `sensor-readings` is the built-in preset (it applies to
 * every tabular file); anything else is a path to a JSON file of feeds, checked
 * here so a mistake is reported at start-up, not at the first file.
 */
export function loadSchemaOption(value: string): FeedSchema[] {
  if (value === SENSOR_READINGS.name) return [SENSOR_READINGS];
  let text: string;
  try {
    text = readFileSync(value, "utf8");
  } catch (err) {
    throw new Error(
      `cannot read schema file ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new Error(`schema file ${value} is not valid JSON: ${(err as Error).message}`);
  }
  return parseFeedSchemas(doc, `schema file ${value}`);
}

/** The first feed whose globs match `name` (a base name or a relative path), or null. */
export function schemaFor(name: string, feeds: FeedSchema[]): FeedSchema | null {
  for (const feed of feeds) {
    for (const glob of feed.match) {
      const target = glob.includes("/") ? name : basename(name);
      if (picomatch.isMatch(target, glob, { dot: true, nocase: true })) return feed;
    }
  }
  return null;
}
