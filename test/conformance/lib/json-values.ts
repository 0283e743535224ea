/**
 * What "equal" means when a JSON document read back from sluice's Parquet is compared with `JSON.parse` of the
 * original (docs/conformance.md states the same rules for readers):
 *
 * - null, booleans: the same.
 * - strings: the same UTF-16 code units (so NUL, U+2028, noncharacters and escapes all count).
 * - objects: the same set of keys, each with an equal value; order does not count (RFC 8259 §4 calls objects
 *   unordered) and a duplicated key holds its last value, as `JSON.parse` (ECMA-262) has it. A key read back that
 *   the document did not have (a `null` DuckDB added when unifying records) is a difference.
 * - arrays: the same length, equal element by element.
 * - numbers: equal when the value read back denotes the same exact decimal value as the source text (so an integer
 *   beyond 2^53 or a decimal beyond float64 kept exactly is equal), or when it is the same float64 `JSON.parse`
 *   gives (a reader that rounds to the nearest double, as RFC 8259 §6 expects of interoperable ones, is equal).
 *   Anything else is a change: an overflow to ±Infinity, a float32 rounding, a truncation, digits lost in text.
 *   The sign of zero is not compared: `-0` is the decimal value zero, and an integer column (where `[-0]` lands)
 *   has no negative zero; a float read back as `-0.0` or `0.0` is equal to either source.
 * - a number read back as a string, or a string read back as a number, is a difference whatever its text.
 */

/** A JSON value with each number's source text kept (needed to compare beyond float64). */
export type JsonNode =
  | { t: "null" }
  | { t: "bool"; v: boolean }
  | { t: "str"; v: string }
  | { t: "num"; v: number; src: string }
  | { t: "arr"; v: JsonNode[] }
  | { t: "obj"; v: Map<string, JsonNode> };

/** Marks a number while JSON.parse builds the tree (a class, so no object from the document can look like it). */
class NumberText {
  constructor(
    readonly value: number,
    readonly src: string,
  ) {}
}

/**
 * `JSON.parse` itself (so duplicated keys and every other rule are ECMA-262's), keeping each number's text through
 * the reviver's `context.source` (JSON.parse source text access, in V8 since 11.4).
 */
export function parseJsonNode(text: string): JsonNode {
  const keepNumberText = (_key: string, value: unknown, context?: { source?: string }): unknown =>
    typeof value === "number" ? new NumberText(value, context?.source ?? String(value)) : value;
  return toNode(JSON.parse(text, keepNumberText));
}

function toNode(v: unknown): JsonNode {
  if (v === null) return { t: "null" };
  if (v instanceof NumberText) return { t: "num", v: v.value, src: v.src };
  if (typeof v === "boolean") return { t: "bool", v };
  if (typeof v === "string") return { t: "str", v };
  if (Array.isArray(v)) return { t: "arr", v: v.map(toNode) };
  if (typeof v === "object") return { t: "obj", v: new Map(Object.entries(v).map(([k, x]) => [k, toNode(x)])) };
  throw new Error(`not a JSON value: ${String(v)}`);
}

/** A decimal number's exact value as `m × 10^e` with no trailing zero in `m` (zero is `0 × 10^0`, unsigned). */
function exactDecimal(src: string): { m: bigint; e: number } | null {
  const d = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(src.trim());
  if (!d) return null;
  const [, sign, int, frac = "", exp = "0"] = d;
  let m = BigInt(`${int}${frac}`);
  let e = Number(exp) - frac.length;
  if (m === 0n) return { m: 0n, e: 0 };
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  return { m: sign === "-" ? -m : m, e };
}

/** The rule for numbers stated at the top of this file. */
export function sameNumber(expected: { v: number; src: string }, gotSrc: string): boolean {
  const a = exactDecimal(expected.src);
  const b = exactDecimal(gotSrc);
  if (a && b && a.m === b.m && a.e === b.e) return true;
  const got = Number(gotSrc);
  return got === expected.v;
}

/** Short text of a node for failure messages. */
export function show(n: JsonNode | undefined): string {
  if (n === undefined) return "(absent)";
  const s = JSON.stringify(plain(n));
  return s.length > 160 ? `${s.slice(0, 160)}…` : s;
}

function plain(n: JsonNode): unknown {
  switch (n.t) {
    case "null":
      return null;
    case "num":
      return { number: n.src };
    case "arr":
      return n.v.map(plain);
    case "obj":
      return Object.fromEntries([...n.v].map(([k, x]) => [k, plain(x)]));
    default:
      return n.v;
  }
}

/** The first difference between `want` and `got`, with its JSON path, or null when they are equal. */
export function jsonDifference(want: JsonNode, got: JsonNode, path = "$"): string | null {
  if (want.t === "num" && got.t === "num") {
    return sameNumber(want, got.src) ? null : `${path}: number ${want.src} read back as ${got.src}`;
  }
  if (want.t !== got.t) return `${path}: expected ${show(want)}, read back ${show(got)}`;
  if (want.t === "arr" && got.t === "arr") {
    if (want.v.length !== got.v.length) {
      return `${path}: expected ${want.v.length} elements, read back ${got.v.length}: ${show(got)}`;
    }
    for (let i = 0; i < want.v.length; i++) {
      const d = jsonDifference(want.v[i] as JsonNode, got.v[i] as JsonNode, `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (want.t === "obj" && got.t === "obj") {
    for (const [k, w] of want.v) {
      const g = got.v.get(k);
      const at = `${path}[${JSON.stringify(k)}]`;
      if (g === undefined) return `${at}: key missing when read back (keys read back: ${show(got)})`;
      const d = jsonDifference(w, g, at);
      if (d) return d;
    }
    for (const k of got.v.keys()) {
      if (!want.v.has(k)) return `${path}[${JSON.stringify(k)}]: key read back that the document does not have`;
    }
    return null;
  }
  if ((want.t === "str" || want.t === "bool") && (got.t === "str" || got.t === "bool")) {
    return want.v === got.v ? null : `${path}: expected ${show(want)}, read back ${show(got)}`;
  }
  return null;
}
