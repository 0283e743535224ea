import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { API_STATUSES, type ApiStatus, type FileView } from "../../src/api/file-view.js";
import {
  BULK,
  expectError,
  expectedOrder,
  type Fixture,
  getJson,
  openFixture,
  PARTIAL_INVALID,
} from "./read-fixture.js";

/** The /api/v1/files read routes, through app.inject() over a real, populated SQLite state store. */

let fx: Fixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await openFixture();
  app = buildApp(fx.deps(null));
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

const get = (url: string) => getJson(app, url);

/** Every page of a listing, following next_cursor. */
async function allPages(query: string, limit: number) {
  const pages: FileView[][] = [];
  let cursor: string | null = null;
  do {
    const r = await get(`/api/v1/files?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`);
    expect(r.status).toBe(200);
    pages.push(r.body.items);
    cursor = r.body.next_cursor;
    expect(pages.length).toBeLessThan(100);
  } while (cursor);
  return pages;
}

const EXPECTED_BY_STATUS = (): Record<ApiStatus, string[]> => {
  const ids = fx.ids;
  return {
    waiting: fx.waiting.filter((w) => w.id !== ids.discovered).map((w) => w.id),
    processing: [ids.discovered, ids.hashed, ids.stored],
    processed: [ids.processed, ids.plain, ids.member, ...ids.bulk],
    partial: [ids.partial],
    duplicate: [ids.duplicate],
    failed: [ids.failed, ids.quarantined],
  };
};

describe("GET /api/v1/files", () => {
  it("lists waiting uploads first, then files newest first, in one default page of 50", async () => {
    const r = await get("/api/v1/files");
    expect(r.status).toBe(200);
    const order = await expectedOrder(fx);
    expect(order).toHaveLength(2 + 10 + BULK);
    expect(r.body.items.map((f: FileView) => f.id)).toEqual(order);
    expect(r.body.next_cursor).toBeNull();
    expect(r.body.items.slice(0, 2).map((f: FileView) => f.status)).toEqual(["waiting", "waiting"]);
    // The upload the pipeline has recorded is listed once, from its row.
    expect(r.body.items.filter((f: FileView) => f.id === fx.ids.discovered).map((f: FileView) => f.status)).toEqual([
      "processing",
    ]);
  });

  it("pages with an opaque cursor over more than 2 pages, with no duplicate and no gap", async () => {
    const pages = await allPages("", 7);
    expect(pages.length).toBe(Math.ceil((await expectedOrder(fx)).length / 7));
    for (const p of pages.slice(0, -1)) expect(p).toHaveLength(7);
    const ids = pages.flat().map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(await expectedOrder(fx));
    // The cursor crossing from waiting uploads to recorded files, and exactly at the end, both work.
    const two = await allPages("", 2);
    expect(two.flat().map((f) => f.id)).toEqual(await expectedOrder(fx));
    const exact = await allPages("", (await expectedOrder(fx)).length);
    expect(exact).toHaveLength(1);
  });

  it.each(API_STATUSES)("filters by status=%s (across pages)", async (status) => {
    const pages = await allPages(`&status=${status}`, 4);
    const items = pages.flat();
    expect(items.every((f) => f.status === status)).toBe(true);
    expect(items.map((f) => f.id).sort()).toEqual([...EXPECTED_BY_STATUS()[status]].sort());
    const all = await expectedOrder(fx);
    expect(items.map((f) => f.id)).toEqual(all.filter((id) => items.some((f) => f.id === id)));
  });

  it("q is a case-insensitive substring of the name, Unicode included, with no wildcards", async () => {
    const names = async (query: string) => (await allPages(query, 50)).flat().map((f) => f.name);
    expect(await names("&q=UpLoAd")).toEqual(["UPLOAD-b.csv", "upload-a.csv", "big-upload.csv"]);
    expect(await names(`&q=${encodeURIComponent("P-üNÏC")}`)).toEqual(["Dump-Ünïcode.SQL"]);
    expect(await names("&q=upload&status=waiting")).toEqual(["UPLOAD-b.csv", "upload-a.csv"]);
    expect(await names("&q=bulk_")).toEqual([]);
    expect(await names("&q=%25")).toEqual([]);
    expect((await names("&q=bulk-")).length).toBe(BULK);
    const paged = await allPages("&q=bulk-", 5);
    expect(paged.length).toBe(Math.ceil(BULK / 5));
  });

  it("list items carry the invalid-row count, the rows themselves are paged separately", async () => {
    const items = (await allPages("&status=partial", 50)).flat();
    expect(items[0]?.invalid_rows).toEqual({ total: PARTIAL_INVALID, items: [], next_offset: 0 });
  });

  it.each([
    ["limit=0", "querystring/limit"],
    ["limit=501", "querystring/limit"],
    ["limit=abc", "querystring/limit"],
    ["status=bogus", "querystring/status"],
    ["status=done", "querystring/status"],
  ])("rejects %s with 400 in the error shape", async (query, where) => {
    const r = await get(`/api/v1/files?${query}`);
    expectError(r, "SLUICE_ERR_BAD_REQUEST", 400);
    expect(r.body.message).toContain(where);
  });

  it("rejects a cursor it did not make", async () => {
    for (const cursor of ["not-a-cursor", Buffer.from('{"k":"x","t":"a","id":"b"}').toString("base64url"), "%00"]) {
      const r = await get(`/api/v1/files?cursor=${cursor}`);
      expectError(r, "SLUICE_ERR_BAD_REQUEST", 400);
      expect(r.body.message).toContain("cursor");
    }
  });
});

describe("GET /api/v1/files/:id", () => {
  it("maps a processed file with its profile and aggregations", async () => {
    const r = await get(`/api/v1/files/${fx.ids.processed}`);
    expect(r.status).toBe(200);
    const rec = (await fx.store.get(fx.ids.processed))!;
    expect(r.body).toMatchObject({
      id: fx.ids.processed,
      name: "sensors-ok.csv",
      status: "processed",
      upload_time: rec.discoveredAt,
      size: rec.size,
      sha256: rec.sha256,
      warehouse_path: "/wh/ingest_date=2026-11-23/sensors-ok.csv",
      processing_ms: 12.5,
      aggregations: { row_count: 3, per_sensor: { a: 2, c: 1 }, value: { min: -1.5, max: 42 } },
      invalid_rows: { total: 0, items: [], next_offset: null },
      error: null,
      duplicate_of: null,
      ingested_at: rec.ingestedAt,
      updated_at: rec.updatedAt,
    });
    expect(r.body.profile).toEqual([
      {
        kind: "parquet",
        path: "/wh/ingest_date=2026-11-23/sensors-ok.csv.parquet",
        row_count: 3,
        columns: [
          { name: "sensor", type: "VARCHAR", null_count: 0, min: "a", max: "c" },
          { name: "value", type: "DOUBLE", null_count: 1, min: -1.5, max: 42 },
          { name: "ok", type: "BOOLEAN", null_count: 3, min: null, max: null },
        ],
      },
    ]);
  });

  it("embeds the first 100 invalid rows of a partial file", async () => {
    const r = await get(`/api/v1/files/${fx.ids.partial}`);
    expect(r.body.status).toBe("partial");
    expect(r.body.invalid_rows.total).toBe(PARTIAL_INVALID);
    expect(r.body.invalid_rows.items).toHaveLength(100);
    expect(r.body.invalid_rows.items[0]).toEqual({ row: 2, error: "bad value in row 2" });
    expect(r.body.invalid_rows.next_offset).toBe(100);
    expect(r.body.profile.map((p: { kind: string; table?: string }) => [p.kind, p.table])).toEqual([
      ["parquet", "users"],
      ["rejects", undefined],
    ]);
  });

  it("shows duplicates, failures, in-flight rows and archive members", async () => {
    const dup = (await get(`/api/v1/files/${fx.ids.duplicate}`)).body;
    expect(dup).toMatchObject({ status: "duplicate", duplicate_of: fx.ids.processed });
    expect(dup.warehouse_path).toBe("/wh/ingest_date=2026-11-23/sensors-ok.csv");
    const failed = (await get(`/api/v1/files/${fx.ids.failed}`)).body;
    expect(failed.status).toBe("failed");
    expect(failed.error).toEqual({
      code: "SLUICE_ERR_PARSE",
      message: "unexpected end of JSON at line 3 (fix it upstream)",
      error_path: "/errors/20261123T190043.123Z_broken.json",
    });
    const quarantined = (await get(`/api/v1/files/${fx.ids.quarantined}`)).body;
    expect(quarantined).toMatchObject({ status: "failed", error: { code: "SLUICE_ERR_VANISHED", error_path: null } });
    for (const id of [fx.ids.discovered, fx.ids.hashed, fx.ids.stored]) {
      expect((await get(`/api/v1/files/${id}`)).body.status).toBe("processing");
    }
    const member = (await get(`/api/v1/files/${fx.ids.member}`)).body;
    expect(member).toMatchObject({ member_path: "nested/member.csv", archive_ingest_id: expect.any(String) });
  });

  it("shows a waiting upload with nulls for what is not known yet", async () => {
    const w = fx.waiting[0]!;
    const r = await get(`/api/v1/files/${w.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      id: w.id,
      name: w.name,
      status: "waiting",
      upload_time: w.uploadTime,
      size: w.size,
      sha256: null,
      warehouse_path: null,
      processing_ms: null,
      aggregations: null,
      profile: null,
      invalid_rows: null,
      error: null,
      duplicate_of: null,
      archive_ingest_id: null,
      member_path: null,
      ingested_at: null,
      updated_at: w.uploadTime,
      requeued_from: null,
      requeued_to: null,
      generation: 0,
    });
  });

  it("prefers the store's row over a waiting entry with the same id", async () => {
    expect((await get(`/api/v1/files/${fx.ids.discovered}`)).body.status).toBe("processing");
  });

  it("answers 404 in the error shape for an unknown id", async () => {
    const r = await get("/api/v1/files/01a209e1-f995-7000-b7d2-88214bf0ce14");
    expectError(r, "SLUICE_ERR_NOT_FOUND", 404);
    expect(r.body.message).toContain("01a209e1-f995-7000-b7d2-88214bf0ce14");
  });
});

describe("GET /api/v1/files/:id/invalid-rows", () => {
  it("pages through every invalid row in row order", async () => {
    const seen: number[] = [];
    let offset: number | null = 0;
    let pages = 0;
    while (offset !== null) {
      const r = await get(`/api/v1/files/${fx.ids.partial}/invalid-rows?offset=${offset}&limit=100`);
      expect(r.status).toBe(200);
      expect(r.body.total).toBe(PARTIAL_INVALID);
      seen.push(...r.body.items.map((i: { row: number }) => i.row));
      offset = r.body.next_offset;
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: PARTIAL_INVALID }, (_, i) => i + 2));
  });

  it("defaults to offset 0 and 100 rows; past the end is an empty last page", async () => {
    const first = await get(`/api/v1/files/${fx.ids.partial}/invalid-rows`);
    expect(first.body.items).toHaveLength(100);
    expect(first.body.next_offset).toBe(100);
    const past = await get(`/api/v1/files/${fx.ids.partial}/invalid-rows?offset=1000`);
    expect(past.body).toEqual({ total: PARTIAL_INVALID, items: [], next_offset: null });
    const none = await get(`/api/v1/files/${fx.ids.plain}/invalid-rows`);
    expect(none.body).toEqual({ total: 0, items: [], next_offset: null });
    const waiting = await get(`/api/v1/files/${fx.waiting[0]!.id}/invalid-rows`);
    expect(waiting.body).toEqual({ total: 0, items: [], next_offset: null });
  });

  it("rejects bad paging and unknown ids in the error shape", async () => {
    expectError(await get(`/api/v1/files/${fx.ids.partial}/invalid-rows?limit=1001`), "SLUICE_ERR_BAD_REQUEST", 400);
    expectError(await get(`/api/v1/files/${fx.ids.partial}/invalid-rows?offset=-1`), "SLUICE_ERR_BAD_REQUEST", 400);
    expectError(await get("/api/v1/files/nope/invalid-rows"), "SLUICE_ERR_NOT_FOUND", 404);
  });
});
