/**
 * Scanners for the runs inside which `;` means nothing: quoted strings and
 * identifiers, block comments, dollar-quoted bodies. Each resumes where the
 * previous chunk stopped and reports why it returned.
 */

/** Position and line, advanced in place so the hot loop allocates nothing. */
export interface Cursor {
  i: number;
  line: number;
  /** Nesting of block comments (PostgreSQL nests them, MySQL does not). */
  depth: number;
}

/** The closing delimiter was consumed. */
export const CLOSED = 0;
/** The chunk ended inside the run. */
export const MORE = 1;
/** A char at `cur.i` needs look-ahead the chunk does not have: rescan from there with the next chunk. */
export const CARRY = 2;
/** Why a scanner returned. */
export type RunResult = typeof CLOSED | typeof MORE | typeof CARRY;

/** Inside `'…'`, `"…"`, `` `…` `` or `[…]`: the closer doubled is data, as is any char after a backslash when `escapes`. */
export function scanQuoted(s: string, cur: Cursor, closer: number, escapes: boolean, final: boolean): RunResult {
  const n = s.length;
  let i = cur.i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === closer || (c === 92 && escapes)) {
      if (i + 1 >= n && !final) {
        cur.i = i;
        return CARRY;
      }
      const d = s.charCodeAt(i + 1);
      if (c === 92 || d === closer) {
        if (d === 10) cur.line++;
        i += 2;
        continue;
      }
      cur.i = i + 1;
      return CLOSED;
    }
    if (c === 10) cur.line++;
    i++;
  }
  cur.i = n;
  return MORE;
}

/** Inside `/* … *\/`; nested openers count only when `nests`. */
export function scanBlockComment(s: string, cur: Cursor, nests: boolean, final: boolean): RunResult {
  const n = s.length;
  let i = cur.i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 42 || c === 47) {
      if (i + 1 >= n && !final) {
        cur.i = i;
        return CARRY;
      }
      const d = s.charCodeAt(i + 1);
      if (c === 42 && d === 47) {
        i += 2;
        if (--cur.depth === 0) {
          cur.i = i;
          return CLOSED;
        }
        continue;
      }
      if (c === 47 && d === 42 && nests) {
        cur.depth++;
        i += 2;
        continue;
      }
    }
    if (c === 10) cur.line++;
    i++;
  }
  cur.i = n;
  return MORE;
}

/** Inside a `$tag$ … $tag$` body (PostgreSQL functions), where nothing but the same tag ends it. */
export function scanDollar(s: string, cur: Cursor, tag: string, final: boolean): RunResult {
  const n = s.length;
  let i = cur.i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 36) {
      if (i + tag.length > n && !final) {
        cur.i = i;
        return CARRY;
      }
      if (s.startsWith(tag, i)) {
        cur.i = i + tag.length;
        return CLOSED;
      }
    }
    if (c === 10) cur.line++;
    i++;
  }
  cur.i = n;
  return MORE;
}
