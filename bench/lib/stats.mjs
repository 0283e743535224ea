// Small statistics helpers: every figure the harness reports is min / median / max over runs,
// and ratios are taken pair by pair (A B A B …) before their median is taken.

/**
 * @typedef {{ min: number, median: number, max: number, n: number, values: number[] }} Summary
 */

/**
 * @param {number[]} values
 * @returns {Summary | null}
 */
export function summarize(values) {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  const s = [...v].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { min: s[0], median, max: s[s.length - 1], n: s.length, values: v };
}

/**
 * Nearest-rank percentile (p in 0..100).
 * @param {number[]} values
 * @param {number} p
 */
export function percentile(values, p) {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

/**
 * Pair-by-pair ratios: ratio(a[i], b[i]) for every pair where both sides exist.
 * @param {number[]} a
 * @param {number[]} b
 * @param {(x: number, y: number) => number} ratio
 */
export function pairRatios(a, b, ratio) {
  const out = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(ratio(a[i], b[i]));
  return out;
}

/**
 * Deterministic PRNG (mulberry32) so the rename schedule of scenario e is the same on every run.
 * @param {number} seed
 */
export function prng(seed) {
  let t = seed >>> 0;
  return () => {
    t = (t + 0x6d2b79f5) >>> 0;
    let r = Math.imul(t ^ (t >>> 15), 1 | t);
    r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
    return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
  };
}
