import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { listFiles, readManifest, type Sandbox, sha256File, warehouseFiles } from "./sandbox.js";

/** What the test dropped into staging: name → sha256 of its content. */
export type Inputs = Map<string, string>;

export interface InvariantReport {
  problems: string[];
  distinct: number;
  stored: number;
  manifestLines: number;
}

/**
 * Rows of a query on the sandbox's state, whichever store it is: the SQLite file, or the PostgreSQL database
 * through the real `psql` client (synchronous, so the checks below stay plain functions).
 */
export function stateRows<T>(s: Sandbox, sql: string): T[] {
  if (s.stateUrl) {
    const out = execFileSync(
      "psql",
      ["-XAtq", "-v", "ON_ERROR_STOP=1", "-c", `SELECT coalesce(json_agg(t), '[]') FROM (${sql}) t`, s.stateUrl],
      { encoding: "utf8" },
    );
    return JSON.parse(out) as T[];
  }
  const db = new Database(s.statePath, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

/**
 * Files processors wrote beside raw files (Parquet, rejects), as recorded in
 * state: they are derived, not ingested content, so the one-copy-per-content
 * count leaves them out (a test of processing checks them on their own).
 */
export function processingOutputs(s: Sandbox): Set<string> {
  const out = new Set<string>();
  for (const r of stateRows<{ processing: string }>(s, "SELECT processing FROM files WHERE processing IS NOT NULL")) {
    const p = JSON.parse(r.processing) as { outputs: { path: string }[] };
    for (const o of p.outputs) out.add(o.path);
  }
  return out;
}

/**
 * The exactly-once contract, checked from the outside after a run: every
 * distinct content in the warehouse exactly once, one manifest line per
 * source file, nothing left in staging (but ignored files), no temp file
 * anywhere, every state row terminal.
 */
export function checkExactlyOnce(s: Sandbox, inputs: Inputs, opts: { ignoredLeft?: string[] } = {}): InvariantReport {
  const problems: string[] = [];
  const distinct = new Set(inputs.values());

  const outputs = processingOutputs(s);
  const stored = warehouseFiles(s.warehouse).filter((f) => !outputs.has(join(s.warehouse, f)));
  const storedShas = stored.map((f) => sha256File(join(s.warehouse, f)));
  const counts = new Map<string, number>();
  for (const h of storedShas) counts.set(h, (counts.get(h) ?? 0) + 1);
  for (const h of distinct) {
    const n = counts.get(h) ?? 0;
    if (n !== 1) problems.push(`content ${h.slice(0, 12)} is in the warehouse ${n} times`);
  }
  for (const h of counts.keys()) if (!distinct.has(h)) problems.push(`unknown content ${h.slice(0, 12)} in warehouse`);

  const tmpLeft = listFiles(join(s.warehouse, ".sluice-tmp"));
  if (tmpLeft.length) problems.push(`temp files left in warehouse: ${tmpLeft.join(", ")}`);
  const errTmp = listFiles(s.errors).filter((f) => f.endsWith(".tmp"));
  if (errTmp.length) problems.push(`temp files left in errors: ${errTmp.join(", ")}`);

  const lines = readManifest(s.manifests);
  const perName = new Map<string, number>();
  for (const l of lines) perName.set(l.name, (perName.get(l.name) ?? 0) + 1);
  for (const name of inputs.keys()) {
    const n = perName.get(name) ?? 0;
    if (n !== 1) problems.push(`${name} has ${n} manifest lines`);
  }
  for (const name of perName.keys()) if (!inputs.has(name)) problems.push(`manifest line for unknown ${name}`);
  for (const l of lines) {
    if (inputs.get(l.name) !== l.sha256) problems.push(`manifest sha for ${l.name} is wrong`);
  }
  const ingestedLines = lines.filter((l) => l.status === "ingested").length;
  if (ingestedLines !== distinct.size) problems.push(`${ingestedLines} ingested lines for ${distinct.size} contents`);

  const left = readdirSync(s.input).filter((f) => !(opts.ignoredLeft ?? []).includes(f));
  if (left.length) problems.push(`left in staging: ${left.slice(0, 10).join(", ")}${left.length > 10 ? " …" : ""}`);

  const active = stateRows<{ name: string; state: string }>(
    s,
    "SELECT name, state FROM files WHERE state NOT IN ('done','duplicate','failed')",
  );
  for (const r of active) problems.push(`state row for ${r.name} stuck in ${r.state}`);
  const [{ n: done } = { n: 0 }] = stateRows<{ n: number }>(s, "SELECT COUNT(*) AS n FROM files WHERE state = 'done'");
  if (Number(done) !== distinct.size) problems.push(`${done} done rows for ${distinct.size} contents`);
  return { problems, distinct: distinct.size, stored: stored.length, manifestLines: lines.length };
}
