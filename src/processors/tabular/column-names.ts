/**
 * The one rule that turns the names a file gives its columns (a CSV header's fields, a JSON record's keys) into
 * Parquet column names. Any name is data in the source; a column name must also survive DuckDB's SQL text and
 * its case-insensitive catalog, so:
 *
 * 1. control characters (U+0000–U+001F, U+007F) and lone UTF-16 surrogates become `_` (DuckDB's parser stops at
 *    NUL; a lone surrogate has no UTF-8 form); U+FEFF (a stray byte-order mark) is dropped;
 * 2. an empty name becomes `column<i>`, i its 0-based position (DuckDB's own naming);
 * 3. a name already taken, compared ignoring case (DuckDB and many Parquet readers do), gets the first free
 *    suffix `_1`, `_2`, …
 *
 * Every column whose name differs from the source's carries the original as `source` in the profile, so the
 * mapping can always be read back.
 */

const CONTROL_OR_LONE_SURROGATE =
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function cleaned(raw: string): string {
  return raw.replaceAll("\ufeff", "").replace(CONTROL_OR_LONE_SURROGATE, "_");
}

/** Parquet column names for `raw` (in column order): same length, unique ignoring case. */
export function columnNames(raw: readonly string[]): string[] {
  const taken = new Set<string>();
  return raw.map((r, i) => {
    const base = cleaned(r) || `column${i}`;
    let name = base;
    for (let n = 1; taken.has(name.toLowerCase()); n++) name = `${base}_${n}`;
    taken.add(name.toLowerCase());
    return name;
  });
}

/** name → source name, for the columns whose name is not the source's own (see ColumnProfile.source). */
export function renamedColumns(raw: readonly string[], names: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  names.forEach((n, i) => {
    const r = raw[i] as string;
    if (n !== r) out.set(n, r);
  });
  return out;
}
