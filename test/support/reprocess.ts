import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FileRecord } from "../../src/core/file-record.js";
import { PostgresStateStore } from "../../src/store/postgres/postgres-store.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import type { HistoryEntry, ReprocessIntent, StateStore } from "../../src/store/state-store.js";
import { type RunResult, runSluice, type SpawnExtra } from "./cli.js";
import { readManifest, type Sandbox } from "./sandbox.js";

/**
 * Reprocess (issue 21) test helpers: a CSV whose validity depends on the schema (A: `value` is a number, every
 * row valid; B: `value` is an integer, the 2.5 row invalid), the two schema files, and reads of the state as a
 * reader outside sluice would make them (the real store classes, on the test's SQLite file or PostgreSQL database).
 */
export const CSV = "sensor_id,value\ns1,1\ns2,2.5\ns1,3\ns3,4\n";

export function writeSchemas(s: Sandbox): { a: string; b: string } {
  const feed = (name: string, type: string) => [
    {
      name,
      match: ["*.csv"],
      columns: [
        { name: "sensor_id", type: "string" },
        { name: "value", type },
      ],
      keyColumn: "sensor_id",
    },
  ];
  const a = join(s.root, "schema-a.json");
  const b = join(s.root, "schema-b.json");
  writeFileSync(a, JSON.stringify(feed("feed-a", "number")));
  writeFileSync(b, JSON.stringify(feed("feed-b", "integer")));
  return { a, b };
}

/** Opens the sandbox's state with the real store (a reader node on PostgreSQL); close it after. */
export async function openStore(s: Sandbox): Promise<StateStore> {
  return s.stateUrl
    ? PostgresStateStore.open(s.stateUrl, { node: "test-reader" })
    : new SqliteStateStore(s.statePath, { writerThread: false });
}

export interface StateView {
  rec: FileRecord;
  history: HistoryEntry[];
  intents: ReprocessIntent[];
}

export async function readFileState(s: Sandbox, id: string): Promise<StateView> {
  const store = await openStore(s);
  try {
    const rec = await store.get(id);
    if (!rec) throw new Error(`no row ${id}`);
    return { rec, history: await store.history(id), intents: await store.reprocessIntents() };
  } finally {
    await store.close();
  }
}

/** `sluice reprocess … --json`, parsed. */
export async function reprocess(
  args: string[],
  extra: SpawnExtra = {},
): Promise<
  RunResult & { report: { reprocessed: number; refused: number; results: Record<string, unknown>[] } | null }
> {
  const r = await runSluice(["reprocess", ...args, "--json"], { timeoutMs: 90_000, ...extra });
  let report = null;
  try {
    report = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
  } catch {
    report = null;
  }
  return { ...r, report };
}

/** The manifest's `reprocessed` lines of a file, by generation. */
export function reprocessedLines(s: Sandbox, id: string): { generation: number; processing?: unknown }[] {
  return (readManifest(s.manifests) as unknown as { ingest_id: string; status: string; generation: number }[])
    .filter((l) => l.ingest_id === id && l.status === "reprocessed")
    .sort((x, y) => x.generation - y.generation);
}

/** The ingest's lines (status ingested/duplicate) of a file. */
export function ingestLines(s: Sandbox, id: string): unknown[] {
  return readManifest(s.manifests).filter((l) => l.ingest_id === id && (l.status as string) !== "reprocessed");
}
