import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { BULK, expectError, type Fixture, getJson, openFixture } from "./read-fixture.js";

/** GET /api/v1/stats over a real, populated SQLite state store. */

let fx: Fixture;
let app: FastifyInstance;
let authed: FastifyInstance;

beforeAll(async () => {
  fx = await openFixture();
  app = buildApp(fx.deps(null));
  authed = buildApp(fx.deps("s3cret-token"));
});

afterAll(async () => {
  await app?.close();
  await authed?.close();
  await fx?.close();
});

describe("GET /api/v1/stats", () => {
  it("counts the store's files by what the dashboard shows, and this process's activity", async () => {
    const r = await getJson(app, "/api/v1/stats");
    expect(r.status).toBe(200);
    // Seeded: processed, partial, plain, member and the bulk files are done; one duplicate; one failed and one
    // being quarantined; discovered, hashed and stored are between steps.
    expect(r.body.counts).toEqual({
      ingested: 4 + BULK,
      duplicates: 1,
      failed: 2,
      processing: 3,
      waiting: fx.activity.pending + fx.activity.queueDepth,
    });
    expect(r.body.activity).toEqual({ queue_depth: 4, in_flight: 2, pending: 3, warehouse_waiting: 1 });
    expect(r.body.health).toEqual({ state: true, warehouse: true });
  });

  it("reports files and bytes finished per slot over 15 minutes, the current slot last", async () => {
    fx.metrics.record("ingested", 1000, 0.01);
    fx.metrics.record("ingested", 500, 0.01);
    fx.metrics.record("duplicate", 700, 0.01);
    fx.metrics.record("vanished", 0, 0.01);
    const r = await getJson(app, "/api/v1/stats");
    const { bucket_seconds, points } = r.body.throughput as {
      bucket_seconds: number;
      points: { t: number; files: number; bytes: number; seconds: number }[];
    };
    expect(bucket_seconds).toBe(5);
    expect(points).toHaveLength(180);
    const last = points.at(-1)!;
    // A finished file counts whatever its outcome; bytes are those ingested (a duplicate stores nothing new).
    expect(last.files).toBe(3);
    expect(last.bytes).toBe(1500);
    expect(last.seconds).toBeGreaterThan(0);
    expect(last.seconds).toBeLessThanOrEqual(5);
    for (let i = 1; i < points.length; i++) expect(points[i]!.t - points[i - 1]!.t).toBe(5000);
  });

  it("answers 503-free: a readiness check that throws is reported as unhealthy, not as an error", async () => {
    const throwing = buildApp({ ...fx.deps(null), ready: () => Promise.reject(new Error("db locked")) });
    const r = await getJson(throwing, "/api/v1/stats");
    await throwing.close();
    expect(r.status).toBe(200);
    expect(r.body.health).toMatchObject({ state: false, warehouse: false });
    expect(String(r.body.health.detail)).toMatch(/db locked/);
  });

  it("needs the token when one is set", async () => {
    expectError(await getJson(authed, "/api/v1/stats"), "SLUICE_ERR_UNAUTHORIZED", 401);
    const ok = await getJson(authed, "/api/v1/stats", { authorization: "Bearer s3cret-token" });
    expect(ok.status).toBe(200);
  });
});
