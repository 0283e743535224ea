import { type DuckDBType, LIST } from "@duckdb/node-api";
import { type ColumnCodec, Invalid } from "./codec.js";
import { asciiTrim } from "./text.js";

/**
 * One-dimensional PostgreSQL arrays (`{1,2,NULL}`, `{"a b","c\"d"}`) as LIST of a mapped element type. The
 * array text is split here; each element goes through the element's own codec, as raw bytes like any value.
 */

const MULTI = new Invalid("is a multi-dimensional array: not a LIST");
const BOUNDS = new Invalid("has explicit array bounds: not a LIST");
const SYNTAX = new Invalid("is not valid PostgreSQL array text");

/** Elements of a one-dimensional array literal (null for NULL), or why it is not one. */
export function splitPgArray(raw: string): (string | null)[] | Invalid {
  const s = asciiTrim(raw);
  if (s.startsWith("[")) return BOUNDS;
  if (!s.startsWith("{") || !s.endsWith("}")) return SYNTAX;
  const out: (string | null)[] = [];
  let i = 1;
  const end = s.length - 1;
  const space = (c: string | undefined) => c === " " || c === "\t" || c === "\n" || c === "\r";
  while (space(s[i])) i++;
  if (i === end) return out;
  for (;;) {
    while (space(s[i])) i++;
    if (s[i] === "{") return MULTI;
    let value = "";
    let quoted = false;
    if (s[i] === '"') {
      quoted = true;
      i++;
      while (i < end && s[i] !== '"') {
        if (s[i] === "\\") i++;
        value += s[i];
        i++;
      }
      if (s[i] !== '"') return SYNTAX;
      i++;
      while (space(s[i])) i++;
    } else {
      while (i < end && s[i] !== ",") {
        if (s[i] === '"' || s[i] === "{" || s[i] === "}") return SYNTAX;
        if (s[i] === "\\") i++;
        value += s[i];
        i++;
      }
      value = value.replace(/[ \t\n\r]+$/, "");
      if (value === "") return SYNTAX;
    }
    out.push(!quoted && value.toUpperCase() === "NULL" ? null : value);
    if (i === end) return out;
    if (s[i] !== ",") return SYNTAX;
    i++;
  }
}

/**
 * LIST<element>; `elementType` is the element's DuckDB type and `toValue` turns its cells into the value objects
 * the appender's list path takes (a column takes plain JS where a list element needs a DuckDB value).
 */
export function listCodec(
  element: ColumnCodec,
  elementType: DuckDBType,
  toValue: (cell: unknown) => unknown,
): ColumnCodec {
  const listType = LIST(elementType);
  return {
    sql: `${element.sql}[]`,
    convert(v, cs) {
      if (v === null) return null;
      if (typeof v !== "string") return SYNTAX;
      const items = splitPgArray(v);
      if (items instanceof Invalid) return items;
      const cells: unknown[] = new Array(items.length);
      for (let k = 0; k < items.length; k++) {
        const cell = element.convert(items[k] as string | null, cs);
        if (cell instanceof Invalid) return new Invalid(`element ${k + 1} ${cell.reason}`);
        cells[k] = cell === null ? null : toValue(cell);
      }
      return cells;
    },
    append: (a, cell) => a.appendList(cell as never, listType),
  };
}
