import type { FileView } from "../api/types";

/** A row of a live table: the file, and whether it just appeared or just changed (for a brief highlight). */
export interface LiveRow {
  file: FileView;
  flash: "new" | "changed" | null;
}

const sameView = (a: FileView, b: FileView) =>
  a.status === b.status && a.updated_at === b.updated_at && a.sha256 === b.sha256 && a.size === b.size;

/**
 * Folds a freshly polled page into the rows on screen. The server's page is
 * the truth for which rows are shown and in what order; the merge only works
 * out what is new or changed since the last poll, and hands back the very
 * same array when nothing changed, so React skips the render.
 */
export function mergeLive(prev: readonly LiveRow[] | null, fresh: readonly FileView[]): LiveRow[] {
  if (prev === null) return fresh.map((file) => ({ file, flash: null }));
  const before = new Map(prev.map((r) => [r.file.id, r]));
  const next: LiveRow[] = fresh.map((file) => {
    const old = before.get(file.id);
    if (!old) return { file, flash: "new" };
    if (!sameView(old.file, file)) return { file, flash: "changed" };
    // Unchanged since the last poll: a highlight lasts one poll, and the old object is kept.
    return old.flash === null ? old : { file: old.file, flash: null };
  });
  const unchanged = next.length === prev.length && next.every((r, i) => r === prev[i]);
  return unchanged ? (prev as LiveRow[]) : next;
}

/** How many rows of a merge are new. */
export const newCount = (rows: readonly LiveRow[]) => rows.filter((r) => r.flash === "new").length;
