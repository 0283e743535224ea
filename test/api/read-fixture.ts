import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { expect } from "vitest";
import type { Activity, Readiness, WaitingUpload } from "../../src/api/deps.js";
import { newIngestId } from "../../src/core/ids.js";
import type { ProcessingResult } from "../../src/core/processing.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import type { NewFile } from "../../src/store/state-store.js";
import { Metrics } from "../../src/telemetry/metrics.js";

/**
 * A real SQLite state store on a temp file, filled by driving the store's own
 * transitions (discover → decide → store → manifest → finish, quarantine,
 * duplicates), plus plain fakes for what `sluice serve` provides.
 */

let inode = 0;
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

function newFile(name: string, extra: Partial<NewFile> = {}): NewFile {
  return {
    ingestId: newIngestId(),
    sourcePath: `/staging/${name}`,
    name,
    device: 1,
    inode: ++inode,
    size: 100 + inode,
    mtimeMs: 1_700_000_000_000,
    sidecarPath: null,
    ...extra,
  };
}

function placement(name: string, content: string) {
  return {
    partitionDir: "/wh/ingest_date=2026-11-23",
    baseName: name,
    collisionName: `${sha(content).slice(0, 12)}.${name}`,
    ingestedAt: new Date().toISOString(),
    manifestPath: "/manifests/2026/11/23/19/manifest.jsonl",
  };
}

export const PROCESSED: ProcessingResult = {
  record: {
    version: 1,
    processor: "tabular",
    status: "processed",
    outputs: [
      {
        kind: "parquet",
        path: "/wh/ingest_date=2026-11-23/sensors-ok.csv.parquet",
        profile: {
          rowCount: 3,
          columns: [
            { name: "sensor", type: "VARCHAR", nullCount: 0, min: "a", max: "c" },
            { name: "value", type: "DOUBLE", nullCount: 1, min: -1.5, max: 42 },
            { name: "ok", type: "BOOLEAN", nullCount: 3, min: null, max: null },
          ],
        },
      },
    ],
    aggregations: { row_count: 3, per_sensor: { a: 2, c: 1 }, value: { min: -1.5, max: 42 } },
    processingMs: 12.5,
  },
  invalidRows: [],
};

export const PARTIAL_INVALID = 250;

export const PARTIAL: ProcessingResult = {
  record: {
    version: 1,
    processor: "sql-dump",
    status: "partial",
    outputs: [
      {
        kind: "parquet",
        path: "/wh/ingest_date=2026-11-23/dump.sql.tables/users.parquet",
        table: "users",
        profile: {
          table: "users",
          rowCount: 1,
          columns: [{ name: "id", type: "BIGINT", nullCount: 0, min: 1, max: 1 }],
        },
      },
      { kind: "rejects", path: "/wh/ingest_date=2026-11-23/dump.sql.rejects.jsonl" },
    ],
    invalidCount: PARTIAL_INVALID,
    processingMs: 7,
  },
  invalidRows: Array.from({ length: PARTIAL_INVALID }, (_, i) => ({ row: i + 2, error: `bad value in row ${i + 2}` })),
};

async function ingest(store: SqliteStateStore, f: NewFile, content: string, processing?: ProcessingResult) {
  await store.recordDiscovered(f);
  const p = placement(f.name, content);
  const d = await store.decide(f, sha(content), p);
  if (d.kind !== "new") throw new Error(`expected new content for ${f.name}, got ${d.kind}`);
  await store.markStored(f.ingestId, p.ingestedAt, p.manifestPath, processing);
  await store.markManifested(f.ingestId);
  await store.finish(f.ingestId, "done");
  return f.ingestId;
}

export const BULK = 23;

/** The ids of the interesting rows, by what they are. */
export interface Seeded {
  processed: string;
  partial: string;
  plain: string;
  member: string;
  duplicate: string;
  failed: string;
  quarantined: string;
  discovered: string;
  hashed: string;
  stored: string;
  bulk: string[];
}

async function seed(store: SqliteStateStore): Promise<Seeded> {
  const processed = await ingest(store, newFile("sensors-ok.csv"), "ok-content", PROCESSED);
  const partial = await ingest(store, newFile("Dump-Ünïcode.SQL"), "partial-content", PARTIAL);
  const plain = await ingest(store, newFile("plain.bin"), "plain-content");
  const archive = newIngestId();
  const member = await ingest(
    store,
    newFile("nested/member.csv", { archiveIngestId: archive, memberPath: "nested/member.csv", memberIndex: 0 }),
    "member-content",
    { ...PROCESSED, record: { ...PROCESSED.record, outputs: [] } },
  );

  // Same bytes as sensors-ok.csv, under another name.
  const dup = newFile("copy-of-ok.csv");
  await store.recordDiscovered(dup);
  const p = placement(dup.name, "ok-content");
  const d = await store.decide(dup, sha("ok-content"), p);
  if (d.kind !== "duplicate") throw new Error("expected a duplicate");
  await store.markManifested(dup.ingestId);
  await store.finish(dup.ingestId, "duplicate");

  const failedFile = newFile("broken.json");
  await store.recordDiscovered(failedFile);
  const err = { code: "SLUICE_ERR_PARSE", message: "unexpected end of JSON at line 3 (fix it upstream)", attempts: 1 };
  await store.beginQuarantine(failedFile.ingestId, err, "/errors/20261123T190043.123Z_broken.json");
  await store.finishFailed(failedFile.ingestId);

  const quarantined = newFile("being-quarantined.csv");
  await store.recordDiscovered(quarantined);
  await store.beginQuarantine(
    quarantined.ingestId,
    { code: "SLUICE_ERR_VANISHED", message: "gone", attempts: 1 },
    null,
  );

  const discovered = newFile("big-upload.csv");
  await store.recordDiscovered(discovered);
  const hashed = newFile("being-hashed.csv");
  await store.decide(hashed, sha("hashed-content"), placement(hashed.name, "hashed-content"));
  const stored = newFile("being-stored.csv");
  const sp = placement(stored.name, "stored-content");
  await store.decide(stored, sha("stored-content"), sp);
  await store.markStored(stored.ingestId, sp.ingestedAt, sp.manifestPath);

  // Many at once: one group commit, and many rows sharing a discovery millisecond (the id breaks the tie).
  const bulkFiles = Array.from({ length: BULK }, (_, i) => newFile(`bulk-${String(i).padStart(2, "0")}.txt`));
  const bulk = await Promise.all(bulkFiles.map((f, i) => ingest(store, f, `bulk-content-${i}`)));

  return {
    processed,
    partial,
    plain,
    member,
    duplicate: dup.ingestId,
    failed: failedFile.ingestId,
    quarantined: quarantined.ingestId,
    discovered: discovered.ingestId,
    hashed: hashed.ingestId,
    stored: stored.ingestId,
    bulk,
  };
}

export interface Fixture {
  store: SqliteStateStore;
  metrics: Metrics;
  ids: Seeded;
  waiting: WaitingUpload[];
  readiness: Readiness;
  activity: Activity;
  deps(apiToken: string | null): {
    store: SqliteStateStore;
    metrics: Metrics;
    apiToken: string | null;
    ready(): Promise<Readiness>;
    activity(): Activity;
    waiting(id: string): WaitingUpload | undefined;
    waitingList(): WaitingUpload[];
  };
  close(): Promise<void>;
}

export async function openFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "sluice-api-"));
  // Commits on this thread: the writer thread's compiled .js does not exist when tests run from sources.
  const store = new SqliteStateStore(join(dir, "sluice.db"), { writerThread: false });
  const ids = await seed(store);
  const soon = (ms: number) => new Date(Date.now() + ms).toISOString();
  const fx: Fixture = {
    store,
    metrics: new Metrics(),
    ids,
    waiting: [
      { id: newIngestId(), name: "upload-a.csv", size: 10, uploadTime: soon(1000) },
      { id: newIngestId(), name: "UPLOAD-b.csv", size: 20, uploadTime: soon(2000) },
      // Picked up by the pipeline but not settled yet: the store's row speaks for it.
      { id: ids.discovered, name: "big-upload.csv", size: 30, uploadTime: soon(3000) },
    ],
    readiness: { state: true, warehouse: true },
    activity: { queueDepth: 4, inFlight: 2, pending: 3, warehouseWaiting: 1 },
    deps: (apiToken) => ({
      store,
      metrics: fx.metrics,
      apiToken,
      ready: async () => fx.readiness,
      activity: () => fx.activity,
      waiting: (id) => fx.waiting.find((w) => w.id === id),
      waitingList: () => [...fx.waiting],
    }),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fx;
}

const byteDesc = (a: string, b: string) => (a < b ? 1 : a > b ? -1 : 0);

/** What `GET /files` must list, worked out independently: waiting uploads not in the store, then every row. */
export async function expectedOrder(fx: Fixture): Promise<string[]> {
  const stored = await Promise.all(fx.waiting.map((w) => fx.store.get(w.id)));
  const waiting = fx.waiting
    .filter((_w, i) => !stored[i])
    .sort((a, b) => byteDesc(a.uploadTime, b.uploadTime))
    .map((w) => w.id);
  const rows = (
    await Promise.all(
      Object.values(fx.ids)
        .flat()
        .map((id) => fx.store.get(id)),
    )
  ).map((r) => r!);
  rows.sort((a, b) => byteDesc(a.discoveredAt, b.discoveredAt) || byteDesc(a.ingestId, b.ingestId));
  return [...waiting, ...rows.map((r) => r.ingestId)];
}

export async function getJson(app: FastifyInstance, url: string, headers: Record<string, string> = {}) {
  const r = await app.inject({ method: "GET", url, headers });
  return { status: r.statusCode, body: r.json(), headers: r.headers };
}

/** The one error shape, exactly: no other field. */
export function expectError(r: { status: number; body: unknown }, code: string, status: number) {
  expect(r.status).toBe(status);
  expect(r.body).toEqual({ error: expect.any(String), code, message: expect.any(String), statusCode: status });
  expect(Object.keys(r.body as object).sort()).toEqual(["code", "error", "message", "statusCode"]);
}
