import { isUtf8 } from "node:buffer";

/**
 * The charset a dump declares for its text (mysqldump's `SET NAMES`, pg_dump's `SET client_encoding`). Text
 * columns decode their raw bytes with it, strictly: bytes that are not valid in it make the row invalid, never a
 * replacement character. Binary columns never use it.
 */
export interface Charset {
  /** The name as the dump gave it, for messages. */
  readonly name: string;
  /** The text of `raw` (bytes as latin1 chars), or null when the bytes are not valid in this charset. */
  decode(raw: string): string | null;
  /**
   * MySQL's `SET NAMES binary` (mysqldump --default-character-set=binary): the server sent every column in its own
   * charset, unconverted, so a column that declares one (`CHARACTER SET latin1`, or its table's default) is
   * decoded with that one; this charset (UTF-8) only serves columns that declare none.
   */
  readonly perColumn?: boolean;
}

const NON_ASCII = /[^\x00-\x7f]/;

const UTF8: Charset = {
  name: "utf8",
  decode(raw) {
    // Most values are ASCII: no Buffer round trip for them.
    if (!NON_ASCII.test(raw)) return raw;
    const buf = Buffer.from(raw, "latin1");
    return isUtf8(buf) ? buf.toString("utf8") : null;
  },
};

/** Names of the two tools (lower case, without `-` and `_`) → WHATWG labels TextDecoder knows. */
const LABELS: Record<string, string> = {
  // MySQL's latin1 is cp1252 with 0x81, 0x8D, 0x8F, 0x90, 0x9D as C1 controls: exactly WHATWG windows-1252.
  latin1mysql: "windows-1252",
  latin2: "iso-8859-2",
  latin3: "iso-8859-3",
  latin4: "iso-8859-4",
  latin5: "iso-8859-9",
  latin6: "iso-8859-10",
  latin7: "iso-8859-13",
  latin8: "iso-8859-14",
  latin9: "iso-8859-15",
  latin10: "iso-8859-16",
  iso88595: "iso-8859-5",
  iso88596: "iso-8859-6",
  iso88597: "iso-8859-7",
  iso88598: "iso-8859-8",
  greek: "iso-8859-7",
  hebrew: "iso-8859-8",
  koi8r: "koi8-r",
  koi8u: "koi8-u",
  win866: "ibm866",
  cp866: "ibm866",
  eucjp: "euc-jp",
  ujis: "euc-jp",
  eucjpms: "euc-jp",
  euckr: "euc-kr",
  euccn: "gbk",
  gb2312: "gbk",
  gbk: "gbk",
  gb18030: "gb18030",
  big5: "big5",
  sjis: "shift_jis",
  cp932: "shift_jis",
};
for (const n of [1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258]) {
  LABELS[`win${n}`] = `windows-${n}`;
  LABELS[`cp${n}`] = `windows-${n}`;
}

const cache = new Map<string, Charset>();

/**
 * The charset for a declared name; `mysql` says whose name it is (MySQL's `latin1` is cp1252, PostgreSQL's
 * LATIN1 is ISO 8859-1). Unknown names decode ASCII only: any other byte makes its row invalid with the name.
 */
export function charsetFor(declared: string, mysql: boolean): Charset {
  const key = declared.toLowerCase().replace(/[-_\s'"]/g, "");
  const cacheKey = `${mysql ? "m" : "p"}:${key}`;
  let cs = cache.get(cacheKey);
  if (cs) return cs;
  if (/^(?:utf8(?:mb3|mb4)?|unicode|sqlascii|binary)$/.test(key)) {
    // SQL_ASCII and binary declare no charset at all; UTF-8 is the only text Parquet holds, so it is checked for.
    cs = key === "utf8" ? UTF8 : { name: declared, decode: UTF8.decode, perColumn: mysql && key === "binary" };
  } else if (key === "latin1" && !mysql) {
    cs = { name: declared, decode: (raw) => raw }; // ISO 8859-1: every byte is the code point of its char.
  } else if (key === "ascii" || key === "usascii") {
    cs = { name: declared, decode: (raw) => (NON_ASCII.test(raw) ? null : raw) };
  } else if (Object.hasOwn(WIDE, key)) {
    // MySQL's ucs2/utf16/utf32 columns, met only under SET NAMES binary (no client may use them): ASCII bytes are
    // not ASCII text there, so they must never fall to the ASCII-only default.
    const label = WIDE[key] as string;
    cs = label === "utf-32be" ? { name: declared, decode: utf32be } : decoderCharset(declared, label, false);
  } else {
    // Own keys only: a declared name like `constructor` must not find Object's.
    const name = key === "latin1" ? "latin1mysql" : key;
    const label = Object.hasOwn(LABELS, name) ? LABELS[name] : undefined;
    cs = label ? decoderCharset(declared, label, true) : { name: `${declared} (unsupported)`, decode: asciiOnly };
  }
  cache.set(cacheKey, cs);
  return cs;
}

function asciiOnly(raw: string): string | null {
  return NON_ASCII.test(raw) ? null : raw;
}

/** Charsets whose ASCII bytes are not ASCII characters, by MySQL name. */
const WIDE: Record<string, string> = { ucs2: "utf-16be", utf16: "utf-16be", utf16le: "utf-16le", utf32: "utf-32be" };

/** UTF-32BE (no WHATWG decoder has it): four bytes per code point, each a Unicode scalar value. */
function utf32be(raw: string): string | null {
  if (raw.length % 4 !== 0) return null;
  let out = "";
  for (let i = 0; i < raw.length; i += 4) {
    const cp =
      raw.charCodeAt(i) * 0x1000000 +
      ((raw.charCodeAt(i + 1) << 16) | (raw.charCodeAt(i + 2) << 8) | raw.charCodeAt(i + 3));
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
    out += String.fromCodePoint(cp);
  }
  return out;
}

function decoderCharset(name: string, label: string, asciiCompatible: boolean): Charset {
  // ignoreBOM: a leading FEFF in a value is a character of the value, not a marker to drop.
  const decoder = new TextDecoder(label, { fatal: true, ignoreBOM: true });
  return {
    name,
    decode(raw) {
      if (asciiCompatible && !NON_ASCII.test(raw)) return raw;
      try {
        return decoder.decode(Buffer.from(raw, "latin1"));
      } catch {
        return null;
      }
    },
  };
}

/** The default when a dump declares nothing: pg_dump and mysqldump both write UTF-8 unless told otherwise. */
export const DEFAULT_CHARSET: Charset = UTF8;
