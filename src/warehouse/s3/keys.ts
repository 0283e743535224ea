import { posix } from "node:path";
import { collisionName, utcDate } from "../warehouse-paths.js";
import type { S3Location } from "./client.js";

/** Joins key segments, dropping empty ones; `.`/`..` segments are a caller bug, not a key. */
export function joinKey(...parts: string[]): string {
  const segments = parts.flatMap((p) => p.split("/")).filter((s) => s !== "");
  if (segments.some((s) => s === "." || s === "..")) {
    throw new TypeError(`S3 key "${parts.join("/")}" has a "." or ".." segment`);
  }
  return segments.join("/");
}

/** `PREFIX/<relPath>`: `keyFor(raw, "ingest_date=2026-11-23/a/b.csv")` → `raw/ingest_date=2026-11-23/a/b.csv`. */
export function keyFor(location: S3Location, relPath: string): string {
  const key = joinKey(location.prefix, relPath);
  if (key === location.prefix) throw new TypeError(`S3 key for "${relPath}" is empty`);
  return key;
}

/**
 * The key of `name` (a path relative to staging) ingested at `at`, and the key it takes when that one holds
 * other content — the local warehouse's rule: `report.csv` → `report.<first 12 hex of sha256>.csv`.
 */
export function placementKeys(
  location: S3Location,
  name: string,
  sha256: string,
  at: Date,
): { key: string; collisionKey: string } {
  const dir = posix.dirname(name) === "." ? "" : posix.dirname(name);
  const base = posix.basename(name);
  const partition = `ingest_date=${utcDate(at)}`;
  return {
    key: keyFor(location, `${partition}/${dir}/${base}`),
    collisionKey: keyFor(location, `${partition}/${dir}/${collisionName(base, sha256)}`),
  };
}
