import { SqlSyntaxError } from "./syntax-error.js";
import { codePointAsLatin1 } from "./text.js";

/** How backslashes inside a quoted literal are read. */
export type EscapeStyle = "none" | "mysql" | "postgres";

const MYSQL: Record<string, string> = {
  "0": "\0",
  "'": "'",
  '"': '"',
  b: "\b",
  n: "\n",
  r: "\r",
  t: "\t",
  Z: "\x1a",
  "\\": "\\",
};

const PG_SIMPLE: Record<string, string> = { b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * Decodes the body of a quoted literal (`raw` is what lies between the quotes)
 * in latin1 byte space. Doubled quotes collapse to one in every style.
 *
 * MySQL deviation: an unknown escape keeps its backslash (`\ ` stays `\ `,
 * `\%` stays `\%`) instead of dropping it. mysqldump never writes unknown
 * escapes, so they only occur in hand-ported dumps whose authors meant a
 * literal backslash (Chinook's `Rusticana \ Act`); `\%`/`\_` keep it in MySQL too.
 */
export function decodeQuoted(raw: string, quote: string, style: EscapeStyle): string {
  const doubled = quote + quote;
  if (style === "none" || !raw.includes("\\")) return raw.includes(doubled) ? raw.replaceAll(doubled, quote) : raw;
  let out = "";
  let seg = 0;
  let i = 0;
  while (i < raw.length) {
    const c = raw[i];
    if (c === quote && raw[i + 1] === quote) {
      out += raw.slice(seg, i + 1);
      i += 2;
      seg = i;
      continue;
    }
    if (c !== "\\" || i + 1 >= raw.length) {
      i++;
      continue;
    }
    out += raw.slice(seg, i);
    const [text, used] = style === "mysql" ? mysqlEscape(raw, i + 1) : pgEscape(raw, i + 1, false);
    out += text;
    i += 1 + used;
    seg = i;
  }
  return out + raw.slice(seg);
}

function mysqlEscape(raw: string, at: number): [string, number] {
  const c = raw[at] as string;
  return [MYSQL[c] ?? `\\${c}`, 1];
}

/**
 * PostgreSQL escapes, of `E'…'` strings or (`copy`) of COPY text fields: octal
 * and hex forms produce bytes; only strings know `\u`/`\U`, only COPY knows `\v`.
 */
function pgEscape(raw: string, at: number, copy: boolean): [string, number] {
  const c = raw[at] as string;
  const simple = PG_SIMPLE[c];
  if (simple !== undefined) return [simple, 1];
  if (copy && c === "v") return ["\v", 1];
  const oct = /^[0-7]{1,3}/.exec(raw.slice(at, at + 3));
  if (oct) return [String.fromCharCode(Number.parseInt(oct[0], 8) & 0xff), oct[0].length];
  if (c === "x") {
    const hex = /^[0-9a-fA-F]{1,2}/.exec(raw.slice(at + 1, at + 3));
    if (hex) return [String.fromCharCode(Number.parseInt(hex[0], 16)), 1 + hex[0].length];
  }
  if (!copy && (c === "u" || c === "U")) {
    const width = c === "u" ? 4 : 8;
    const hex = raw.slice(at + 1, at + 1 + width);
    if (hex.length === width && /^[0-9a-fA-F]+$/.test(hex)) {
      const text = codePointAsLatin1(Number.parseInt(hex, 16));
      // PostgreSQL refuses the literal; guessing a character would be a value the dump did not hold.
      if (text === null) throw new SqlSyntaxError(`invalid Unicode escape \\${c}${hex}`, 0);
      return [text, 1 + width];
    }
  }
  return [c, 1];
}

/**
 * PostgreSQL COPY text-format field: `\b \f \n \r \t \v \\`, `\NNN` octal and
 * `\xHH` hex bytes; any other escaped char stands for itself (which is how a
 * delimiter char inside data is written).
 */
export function decodeCopyField(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let out = "";
  let seg = 0;
  let i = 0;
  while (i < raw.length) {
    if (raw.charCodeAt(i) !== 92 || i + 1 >= raw.length) {
      i++;
      continue;
    }
    out += raw.slice(seg, i);
    const [text, used] = pgEscape(raw, i + 1, true);
    out += text;
    i += 1 + used;
    seg = i;
  }
  return out + raw.slice(seg);
}
