import { z } from "zod";
import { type BareUnit, parseDuration, parseSize, showDuration, showSize } from "./units.js";

/**
 * What an option's value is: how it is read from text (a flag, the environment, `.env`) and from the config file
 * (TOML has its own types), the constraint it must then meet (a zod schema, whose messages are the ones users see),
 * and how the docs name and show it. The option's TypeScript type is the schema's output.
 */
export interface Kind<T> {
  /** The type as the docs name it: `integer`, `size`, `duration`, `path`… */
  readonly type: string;
  /** What an unreadable value should have been, for the error: "a whole number", "a size such as 512MB"… */
  readonly expected: string;
  /** The flag's argument in `--help` (`<n>`); none for a boolean. */
  readonly placeholder: string | null;
  readonly list: boolean;
  /** undefined: not a value of this kind at all (the error says what was expected). */
  fromText(text: string): T | undefined;
  fromFile(value: unknown): T | undefined;
  readonly schema: z.ZodType<T>;
  show(value: T): string;
}

export type ValueOf<K> = K extends Kind<infer T> ? T : never;

const asIs = (v: unknown) => String(v);

/** A string; `type` and `placeholder` say what it holds (a path, a URL, a name). */
export function text(
  o: { type?: string; placeholder?: string; schema?: z.ZodType<string>; expected?: string } = {},
): Kind<string> {
  return {
    type: o.type ?? "string",
    expected: o.expected ?? "a string",
    placeholder: o.placeholder ?? "<value>",
    list: false,
    fromText: (t) => t,
    fromFile: (v) => (typeof v === "string" ? v : undefined),
    schema: o.schema ?? z.string(),
    show: asIs,
  };
}

export function choice<const V extends readonly [string, ...string[]]>(
  values: V,
  placeholder: string,
): Kind<V[number]> {
  const pick = (v: unknown) => ((values as readonly unknown[]).includes(v) ? (v as V[number]) : undefined);
  return {
    type: values.join(" | "),
    expected: `one of ${values.join(", ")}`,
    placeholder,
    list: false,
    fromText: pick,
    fromFile: pick,
    schema: z.enum(values) as unknown as z.ZodType<V[number]>,
    show: asIs,
  };
}

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["", "0", "false", "no", "off"];

export function bool(): Kind<boolean> {
  return {
    type: "boolean",
    expected: "a boolean (true or false)",
    placeholder: null,
    list: false,
    fromText: (t) => {
      const v = t.trim().toLowerCase();
      return TRUE.includes(v) ? true : FALSE.includes(v) ? false : undefined;
    },
    fromFile: (v) => (typeof v === "boolean" ? v : undefined),
    schema: z.boolean(),
    show: asIs,
  };
}

function textNumber(t: string): number | undefined {
  const n = t.trim() === "" ? Number.NaN : Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const fileNumber = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

/** A number within bounds; `whole`: an integer. */
export function num(o: { whole?: boolean; min?: number; max?: number; above?: number }): Kind<number> {
  let s = o.whole ? z.number().int("a whole number") : z.number();
  if (o.min !== undefined) s = s.min(o.min, `at least ${o.min}`);
  if (o.above !== undefined) s = s.gt(o.above, `above ${o.above}`);
  if (o.max !== undefined) s = s.max(o.max, `at most ${o.max}`);
  return {
    type: o.whole ? "integer" : "number",
    expected: o.whole ? "a whole number" : "a number",
    placeholder: "<n>",
    list: false,
    fromText: textNumber,
    fromFile: fileNumber,
    schema: s,
    show: asIs,
  };
}

/** Bytes, written with a unit or without (see units.ts for what KB and KiB mean). */
export function size(o: { min?: number; max?: number } = {}): Kind<number> {
  let s = z.number().int("a whole number of bytes");
  s = s.min(o.min ?? 1, o.min === undefined ? "at least 1 byte" : `at least ${showSize(o.min)} (${o.min} bytes)`);
  if (o.max !== undefined) s = s.max(o.max, `at most ${showSize(o.max)}`);
  return {
    type: "size",
    expected: "a size such as 512MB, 64KiB or a number of bytes",
    placeholder: "<size>",
    list: false,
    fromText: (t) => parseSize(t) ?? undefined,
    fromFile: (v) => (typeof v === "string" ? (parseSize(v) ?? undefined) : fileNumber(v)),
    schema: s,
    show: showSize,
  };
}

/** A duration in milliseconds; a bare number is in `bare` units (what the option's name says). */
export function duration(o: { bare: BareUnit; min?: number; above?: number; max?: number }): Kind<number> {
  let s = z.number();
  if (o.min !== undefined) s = s.min(o.min, `at least ${showDuration(o.min)}`);
  if (o.above !== undefined) s = s.gt(o.above, `above ${showDuration(o.above)}`);
  if (o.max !== undefined) s = s.max(o.max, `at most ${showDuration(o.max)}`);
  const unit = o.bare === "s" ? 1000 : 60_000;
  return {
    type: "duration",
    expected: `a duration such as 500ms, 30s, 5m or 1h (a bare number is in ${o.bare === "s" ? "seconds" : "minutes"})`,
    placeholder: o.bare === "s" ? "<seconds>" : "<minutes>",
    list: false,
    fromText: (t) => parseDuration(t, o.bare) ?? undefined,
    fromFile: (v) => (typeof v === "string" ? (parseDuration(v, o.bare) ?? undefined) : mul(fileNumber(v), unit)),
    schema: s,
    show: showDuration,
  };
}

const mul = (n: number | undefined, by: number) => (n === undefined || n < 0 ? undefined : n * by);

/**
 * Split on commas outside braces: `*.log,*.{tmp,bak}` is two globs. The one rule for a list in the environment and
 * in a flag (which may also be repeated).
 */
export function splitList(t: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of t) {
    if (ch === "{") depth++;
    if (ch === "}") depth = Math.max(0, depth - 1);
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

export function list(placeholder: string): Kind<string[]> {
  return {
    type: "list of strings",
    expected: "a list of strings (comma-separated in the environment, an array in the file)",
    placeholder,
    list: true,
    fromText: splitList,
    fromFile: (v) => (Array.isArray(v) && v.every((e) => typeof e === "string") ? v.map((e) => e.trim()) : undefined),
    schema: z.array(z.string().min(1, "no empty entry")),
    show: (v) => v.join(","),
  };
}
