import type { ThroughputPoint } from "../api/types";

/** uPlot's columnar data: x in seconds since the epoch, then files/s and bytes/s per slot. */
export type RateSeries = [number[], number[], number[]];

/**
 * Per-slot counts → per-second rates. The last slot is still filling, so it
 * is divided by the time elapsed in it, not by the slot's length; a slot
 * only a moment old would swing wildly, so it is left out until it has run
 * for a second.
 */
export function toRateSeries(points: readonly ThroughputPoint[]): RateSeries {
  const xs: number[] = [];
  const files: number[] = [];
  const bytes: number[] = [];
  for (const p of points) {
    if (p.seconds < 1) continue;
    xs.push(p.t / 1000);
    files.push(p.files / p.seconds);
    bytes.push(p.bytes / p.seconds);
  }
  return [xs, files, bytes];
}

/** Files finished over the whole window (what moves as files are ingested). */
export const totalFiles = (points: readonly ThroughputPoint[]) => points.reduce((n, p) => n + p.files, 0);

/** The latest full slot's rate: what "now" means on the overview cards. */
export function currentRate(points: readonly ThroughputPoint[]): { files: number; bytes: number } {
  const full = points.length >= 2 ? points[points.length - 2] : points[0];
  if (!full || full.seconds <= 0) return { files: 0, bytes: 0 };
  return { files: full.files / full.seconds, bytes: full.bytes / full.seconds };
}

/** `per_sensor_count`-style aggregations: every `per_<key>_count` object of numbers, as bar-chart input. */
export function perKeyCounts(
  aggregations: Record<string, unknown> | null,
): { key: string; counts: [string, number][] }[] {
  if (!aggregations) return [];
  const out: { key: string; counts: [string, number][] }[] = [];
  for (const [name, value] of Object.entries(aggregations)) {
    const m = /^per_(.+)_count$/.exec(name);
    if (!m?.[1] || value === null || typeof value !== "object" || Array.isArray(value)) continue;
    const counts = Object.entries(value as Record<string, unknown>)
      .filter((e): e is [string, number] => typeof e[1] === "number")
      .sort((a, b) => a[0].localeCompare(b[0], "en", { numeric: true }));
    out.push({ key: m[1], counts });
  }
  return out;
}

/** The scalar aggregations (row_count, min_value, …) for a definition list; per-key maps are charted instead. */
export function scalarAggregations(aggregations: Record<string, unknown> | null): [string, string | number][] {
  if (!aggregations) return [];
  return Object.entries(aggregations)
    .filter((e): e is [string, string | number] => typeof e[1] === "number" || typeof e[1] === "string")
    .map(([k, v]) => [k, v]);
}
