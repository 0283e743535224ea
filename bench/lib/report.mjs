// The table: scenario | sluice (median) | anchor (median) | ratio (median, min–max) | target | met?

/**
 * @param {number} x
 */
export function fmt(x) {
  if (!Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/**
 * @param {import("./stats.mjs").Summary | null} s
 * @param {string} unit
 */
function cell(s, unit) {
  if (!s) return "n/a";
  const range = s.n > 1 ? ` [${fmt(s.min)}–${fmt(s.max)}]` : "";
  return `${fmt(s.median)} ${unit}${range}`;
}

/**
 * Sets row.met: true / false, or null when the row has no target or it could not be measured.
 * @param {import("./scenarios.mjs").Row} row
 */
export function evaluate(row) {
  const t = row.target;
  if (!t) return null;
  /** @type {number | undefined} */
  let v;
  if (t.on === "ratio") v = row.ratio?.median;
  else if (t.on === "sluice_max") v = row.sluice?.max;
  else v = row.sluice?.median;
  if (v === undefined || !Number.isFinite(v)) return null;
  return t.op === ">=" ? v >= t.value : v <= t.value;
}

/**
 * @param {import("./scenarios.mjs").Row[]} rows
 * @param {boolean} quick
 */
export function table(rows, quick) {
  const head = ["scenario", "sluice (median)", "anchor (median)", "ratio (median, min–max)", "target", "met?"];
  const body = rows.map((r) => {
    let anchor = "—";
    if (r.anchor)
      anchor = r.anchor.missing ? "anchor missing" : `${r.anchor.name}: ${cell(r.anchor.summary, r.anchor.unit)}`;
    let ratio = "—";
    if (r.ratio) {
      ratio = `${fmt(r.ratio.median)}×${r.ratio.n > 1 ? ` (${fmt(r.ratio.min)}–${fmt(r.ratio.max)})` : ""}`;
    } else if (r.anchor?.missing) ratio = "anchor missing";
    let met = "—";
    if (r.target) {
      if (r.met === null || r.met === undefined) met = "n/a";
      else met = r.met ? "yes" : "NO";
      if (quick) met += " (not asserted)";
    }
    return [r.label, cell(r.sluice, r.unit), anchor, ratio, r.target ? r.target.text : "report only", met];
  });
  return render(head, body);
}

/**
 * @param {string[]} head
 * @param {string[][]} body
 */
export function render(head, body) {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (/** @type {string[]} */ r) => `| ${r.map((c, i) => (c ?? "").padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const sep = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(head), sep, ...body.map(line)].join("\n");
}
