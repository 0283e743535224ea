/** Longest file stem we produce: leaves room for a suffix and `.parquet.tmp` under any 255-byte name limit. */
const MAX_STEM_CHARS = 100;

/**
 * A file stem for a table name: letters (any script), digits, `_`, `-` and
 * `.` are kept, every other run becomes `_`, so a name from the dump can never
 * leave the output directory or hide itself (`../x`, `.x`, `a/b`).
 */
export function safeName(table: string): string {
  const cleaned = table
    .normalize("NFC")
    .replace(/[^\p{L}\p{N}_.-]+/gu, "_")
    .replace(/^[.-]+/, "_");
  const stem = Array.from(cleaned).slice(0, MAX_STEM_CHARS).join("");
  return stem === "" ? "table" : stem;
}

/**
 * Hands out distinct stems: a later table whose stem is already taken (ignoring
 * case, as on case-insensitive filesystems) gets `_2`, `_3`, … appended.
 */
export class StemAllocator {
  private readonly taken = new Set<string>();

  allocate(table: string): string {
    const base = safeName(table);
    let stem = base;
    for (let n = 2; this.taken.has(stem.toLowerCase()); n++) stem = `${base}_${n}`;
    this.taken.add(stem.toLowerCase());
    return stem;
  }
}
