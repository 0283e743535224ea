import { describe, expect, it } from "vitest";
import {
  API_STATUSES,
  apiStatus,
  fileView,
  invalidRowsPage,
  storeFilter,
  waitingView,
} from "../../src/api/file-view.js";
import type { FileRecord } from "../../src/core/file-record.js";
import type { FileState } from "../../src/core/file-state.js";
import type { ProcessingRecordV1 } from "../../src/core/processing.js";

const ALL_STATES: FileState[] = [
  "discovered",
  "hashed",
  "stored",
  "manifested",
  "done",
  "duplicate",
  "quarantine",
  "failed",
];

const processing = (status: ProcessingRecordV1["status"]): ProcessingRecordV1 => ({
  version: 1,
  processor: "tabular",
  status,
  outputs: [
    {
      kind: "parquet",
      path: "/wh/d/x.sql.tables/t.parquet",
      profile: {
        table: "t",
        rowCount: 2,
        columns: [{ name: "v", type: "BIGINT", nullCount: 0, min: "9007199254740993", max: 3 }],
      },
    },
    { kind: "rejects", path: "/wh/d/x.sql.rejects.jsonl" },
  ],
  aggregations: { rows: 2 },
  processingMs: 4.2,
});

function record(over: Partial<FileRecord> = {}): FileRecord {
  return {
    ingestId: "01a209e1-f995-7000-b7d2-88214bf0ce14",
    sourcePath: "/staging/x.sql",
    name: "x.sql",
    device: 1,
    inode: 2,
    size: 300,
    mtimeMs: 1,
    sha256: "ab".repeat(32),
    state: "done",
    warehousePath: "/wh/d/x.sql",
    duplicateOf: null,
    sidecarPath: null,
    ingestedAt: "2026-11-23T19:00:44.000Z",
    manifestPath: "/m/manifest.jsonl",
    errorCode: null,
    errorMessage: null,
    errorPath: null,
    attempts: 0,
    discoveredAt: "2026-11-23T19:00:43.123Z",
    updatedAt: "2026-11-23T19:00:44.000Z",
    archiveIngestId: null,
    memberPath: null,
    memberIndex: null,
    processing: null,
    requeuedFrom: null,
    requeuedTo: null,
    ...over,
  };
}

describe("apiStatus", () => {
  it.each([
    ["discovered", null, "processing"],
    ["hashed", null, "processing"],
    ["stored", processing("partial"), "processing"],
    ["manifested", null, "processing"],
    ["done", null, "processed"],
    ["done", processing("processed"), "processed"],
    ["done", processing("partial"), "partial"],
    ["duplicate", null, "duplicate"],
    ["quarantine", null, "failed"],
    ["failed", null, "failed"],
  ] as const)("%s with processing %o is %s", (state, proc, expected) => {
    expect(apiStatus({ state, processing: proc })).toBe(expected);
  });

  it("storeFilter is its inverse: each row is selected by the filter of its own status, and only by it", () => {
    for (const state of ALL_STATES) {
      for (const proc of [null, processing("processed"), processing("partial")]) {
        const status = apiStatus({ state, processing: proc });
        for (const candidate of API_STATUSES) {
          const f = storeFilter(candidate);
          const selected =
            f !== null &&
            (f.states ?? ALL_STATES).includes(state) &&
            (state !== "done" || f.doneAs === undefined || (f.doneAs === "partial") === (proc?.status === "partial"));
          expect(selected, `${state}/${proc?.status} under ${candidate}`).toBe(candidate === status);
        }
      }
    }
    expect(storeFilter("waiting")).toBeNull();
  });
});

describe("invalidRowsPage", () => {
  it("points at the next page until the rows run out", () => {
    const rows = [{ row: 1, error: "e" }];
    expect(invalidRowsPage(3, 0, rows)).toEqual({ total: 3, items: rows, next_offset: 1 });
    expect(invalidRowsPage(3, 2, rows)).toEqual({ total: 3, items: rows, next_offset: null });
    expect(invalidRowsPage(0, 0, [])).toEqual({ total: 0, items: [], next_offset: null });
    expect(invalidRowsPage(3, 10, [])).toEqual({ total: 3, items: [], next_offset: null });
  });
});

describe("fileView", () => {
  it("maps a processed record, profile in the manifest's snake_case", () => {
    const invalid = invalidRowsPage(1, 0, [{ row: 7, error: "bad" }]);
    expect(fileView(record({ processing: processing("partial") }), invalid)).toEqual({
      id: "01a209e1-f995-7000-b7d2-88214bf0ce14",
      name: "x.sql",
      status: "partial",
      upload_time: "2026-11-23T19:00:43.123Z",
      size: 300,
      sha256: "ab".repeat(32),
      warehouse_path: "/wh/d/x.sql",
      processing_ms: 4.2,
      aggregations: { rows: 2 },
      profile: [
        {
          kind: "parquet",
          path: "/wh/d/x.sql.tables/t.parquet",
          table: "t",
          row_count: 2,
          columns: [{ name: "v", type: "BIGINT", null_count: 0, min: "9007199254740993", max: 3 }],
        },
        { kind: "rejects", path: "/wh/d/x.sql.rejects.jsonl", row_count: null, columns: [] },
      ],
      invalid_rows: { total: 1, items: [{ row: 7, error: "bad" }], next_offset: null },
      error: null,
      duplicate_of: null,
      archive_ingest_id: null,
      member_path: null,
      ingested_at: "2026-11-23T19:00:44.000Z",
      updated_at: "2026-11-23T19:00:44.000Z",
      requeued_from: null,
      requeued_to: null,
      generation: 0,
    });
  });

  it("maps failures, duplicates and archive members", () => {
    const empty = invalidRowsPage(0, 0, []);
    const failed = fileView(
      record({
        state: "failed",
        warehousePath: null,
        errorCode: "SLUICE_ERR_PARSE",
        errorMessage: "cut short (fix it)",
        errorPath: "/errors/t_x.sql",
      }),
      empty,
    );
    expect(failed).toMatchObject({
      status: "failed",
      error: { code: "SLUICE_ERR_PARSE", message: "cut short (fix it)", error_path: "/errors/t_x.sql" },
      profile: null,
      processing_ms: null,
      aggregations: null,
    });
    const dup = fileView(record({ state: "duplicate", duplicateOf: "orig" }), empty);
    expect(dup).toMatchObject({ status: "duplicate", duplicate_of: "orig", error: null });
    const member = fileView(record({ archiveIngestId: "arch", memberPath: "a/b.csv", memberIndex: 3 }), empty);
    expect(member).toMatchObject({ archive_ingest_id: "arch", member_path: "a/b.csv" });
  });

  it("shows a waiting upload with its upload time and nulls elsewhere", () => {
    const v = waitingView({ id: "u1", name: "a.csv", size: 5, uploadTime: "2026-11-23T19:00:00.000Z" });
    expect(v).toMatchObject({
      id: "u1",
      name: "a.csv",
      status: "waiting",
      upload_time: "2026-11-23T19:00:00.000Z",
      updated_at: "2026-11-23T19:00:00.000Z",
    });
    // Nothing derived yet: generation 0, like a file just ingested.
    expect(v.generation).toBe(0);
    const known = ["id", "name", "status", "upload_time", "updated_at", "size", "generation"];
    const rest = Object.entries(v).filter(([k]) => !known.includes(k));
    expect(rest.length).toBe(13);
    for (const [k, val] of rest) expect(val, k).toBeNull();
  });
});
