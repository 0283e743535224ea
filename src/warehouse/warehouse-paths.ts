import { basename, dirname, join } from "node:path";
import { fitName } from "../core/fit-name.js";

/** `YYYY-MM-DD` of a Date in UTC. */
export function utcDate(d: Date): string {
  return d.toISOString().slice(0, 10);
}

export interface Placement {
  partitionDir: string;
  baseName: string;
  collisionName: string;
}

/**
 * Where a file lands: `WAREHOUSE/ingest_date=YYYY-MM-DD/<relative path>`.
 * A name already used that day by other content gets a deterministic distinct
 * name carrying a content-hash prefix: `report.csv` → `report.1a2b3c4d5e6f.csv`
 * (before the first dot, so `x.tar.gz` keeps its double extension).
 */
export function placementFor(warehouse: string, name: string, sha256: string, at: Date): Placement {
  // Each segment within the file system's name limit (an archive member may carry a 300-byte name); the manifest
  // and state keep the original name.
  const dir = dirname(name) === "." ? "" : dirname(name).split("/").map(fitName).join("/");
  const partitionDir = join(warehouse, `ingest_date=${utcDate(at)}`, dir);
  const base = fitName(basename(name));
  return { partitionDir, baseName: base, collisionName: collisionName(base, sha256) };
}

export function collisionName(base: string, sha256: string): string {
  const tag = sha256.slice(0, 12);
  const dot = base.indexOf(".", 1);
  if (dot === -1) return `${base}.${tag}`;
  return `${base.slice(0, dot)}.${tag}${base.slice(dot)}`;
}

/** Compact UTC timestamp for names: 20261123T190043.123Z. */
export function compactTimestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, "");
}

/**
 * `dir/name` → `dir/<newBase>`, for local paths and `s3://` URIs alike
 * (path.join would fold the `//` of a URI).
 */
export function siblingPath(path: string, newBase: string): string {
  return `${path.slice(0, path.lastIndexOf("/") + 1)}${newBase}`;
}

/** The last segment of a local path or an `s3://` URI. */
export function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** What each kind of output is called beside its raw file: `NAME.parquet`, `NAME.rejects.jsonl`, `NAME.tables/`. */
export const OUTPUT_SUFFIX = { parquet: ".parquet", rejects: ".rejects.jsonl", tables: ".tables" } as const;
