/**
 * Sizes and durations as people write them. Sizes follow DuckDB (which receives `--duckdb-memory-limit`) and the SI:
 * KB, MB, GB, TB are powers of 1000 and KiB, MiB, GiB, TiB powers of 1024, so "512MB" means what it always meant.
 */

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

/** "512MB", "64 KiB", "1.5GB", "1048576" → bytes; null when the text is not a whole number of bytes. */
export function parseSize(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const factor = m[2] === "" ? 1 : SIZE_UNITS[(m[2] as string).toLowerCase()];
  if (factor === undefined) return null;
  const bytes = Number(m[1]) * factor;
  // "1.5KiB" is 1536 bytes; "0.3B" is no size at all.
  return Number.isSafeInteger(bytes) ? bytes : null;
}

/** Bytes in the unit that shows them shortest and exactly: "8MiB", "512MB", "10GiB"; plain when none divides. */
export function showSize(bytes: number): string {
  let best = String(bytes);
  let bestValue = bytes;
  for (const [unit, factor] of Object.entries(SHOWN_UNITS)) {
    if (bytes >= factor && bytes % factor === 0 && bytes / factor < bestValue) {
      best = `${bytes / factor}${unit}`;
      bestValue = bytes / factor;
    }
  }
  return best;
}

const SHOWN_UNITS = { KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  // Days, for ages (`prune --older-than 90d`); shown as hours, which every reader of "24h" already knows.
  d: 86_400_000,
};

/** The unit a bare number means: the option's name says which (`--stability-seconds 5`, `--stuck-minutes 10`). */
export type BareUnit = "s" | "min";

/** "500ms", "30s", "5m", "1h", "7d", or a bare number in `bare` units → milliseconds; null when unreadable. */
export function parseDuration(text: string, bare: BareUnit): number | null {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(text);
  if (!m) return null;
  const factor = DURATION_UNITS[(m[2] || bare).toLowerCase()];
  if (factor === undefined) return null;
  return Number(m[1]) * factor;
}

/** Milliseconds as the shortest exact text: "30s", "10min", "1h", "250ms". */
export function showDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}min`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
