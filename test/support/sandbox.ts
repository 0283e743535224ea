import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away set of real directories for one test: staging, warehouse, manifests, errors, state. */
export interface Sandbox {
  root: string;
  input: string;
  warehouse: string;
  manifests: string;
  errors: string;
  statePath: string;
  /** Set when the state is a PostgreSQL database (`--state URL --node-id NODE`) instead of the SQLite file. */
  stateUrl?: string;
  /** The CLI flags that point sluice at this sandbox. */
  args: string[];
  cleanup(): void;
}

export function makeSandbox(
  opts: {
    base?: string;
    input?: string;
    warehouse?: string;
    manifests?: string;
    errors?: string;
    /** A PostgreSQL state (one node, `test-node`) instead of the embedded SQLite file. */
    stateUrl?: string;
  } = {},
): Sandbox {
  const root = mkdtempSync(join(opts.base ?? tmpdir(), "sluice-test-"));
  const s = {
    root,
    input: opts.input ?? join(root, "staging"),
    warehouse: opts.warehouse ?? join(root, "warehouse"),
    manifests: opts.manifests ?? join(root, "manifests"),
    errors: opts.errors ?? join(root, "errors"),
    statePath: join(root, "state", "sluice.db"),
  };
  const state = opts.stateUrl ? ["--state", opts.stateUrl, "--node-id", "test-node"] : ["--state-path", s.statePath];
  return {
    ...s,
    ...(opts.stateUrl ? { stateUrl: opts.stateUrl } : {}),
    args: ["--input", s.input, "--warehouse", s.warehouse, "--manifests", s.manifests, "--errors", s.errors, ...state],
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Every regular file below `dir` (relative paths), including hidden ones. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(d, e.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, "");
  return out.sort();
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface ManifestLine {
  version: number;
  ingest_id: string;
  status: "ingested" | "duplicate";
  path: string;
  name: string;
  sha256: string;
  device: number;
  inode: number;
  size: number;
  mtime: string;
  warehouse_path: string;
  ingested_at: string;
  duplicate_of?: string;
}

/** All manifest lines under a manifest root; throws on a torn or non-JSON line. */
export function readManifest(root: string): ManifestLine[] {
  const lines: ManifestLine[] = [];
  for (const rel of listFiles(root)) {
    // manifest.jsonl, or manifest.NODE.jsonl when several nodes share the state.
    if (!/(^|\/)manifest(\.[A-Za-z0-9._-]+)?\.jsonl$/.test(rel)) continue;
    const text = readFileSync(join(root, rel), "utf8");
    if (text.length > 0 && !text.endsWith("\n")) throw new Error(`${rel} has a torn last line`);
    for (const l of text.split("\n")) if (l) lines.push(JSON.parse(l) as ManifestLine);
  }
  return lines;
}

/** Warehouse data files (excluding sluice's own temp area). */
export function warehouseFiles(warehouse: string): string[] {
  return listFiles(warehouse).filter((f) => !f.startsWith(".sluice-tmp/"));
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
