/**
 * Keyset pages walked forwards and back. The API only gives a cursor to the
 * next page, so the cursors that led to each page seen are kept: page k is
 * fetched with `cursors[k]` (null for the first).
 */
export interface CursorPager {
  cursors: (string | null)[];
  index: number;
  /** The cursor the current page answered with (null on the last page). */
  next: string | null;
}

export const firstPage = (): CursorPager => ({ cursors: [null], index: 0, next: null });

export const currentCursor = (p: CursorPager): string | null => p.cursors[p.index] ?? null;

/** The current page was loaded and said where the next one starts. */
export function loaded(p: CursorPager, next: string | null): CursorPager {
  return p.next === next ? p : { ...p, next };
}

export const hasNext = (p: CursorPager) => p.next !== null;
export const hasPrev = (p: CursorPager) => p.index > 0;

export function goNext(p: CursorPager): CursorPager {
  if (p.next === null) return p;
  // Forward from a page reached by going back: the pages beyond it may have shifted, so their cursors are dropped.
  return { cursors: [...p.cursors.slice(0, p.index + 1), p.next], index: p.index + 1, next: null };
}

export function goPrev(p: CursorPager): CursorPager {
  if (p.index === 0) return p;
  return { cursors: p.cursors, index: p.index - 1, next: p.cursors[p.index] ?? null };
}

/** 1-based page number, for "page 3". */
export const pageNumber = (p: CursorPager) => p.index + 1;
