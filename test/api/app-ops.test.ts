import type { FastifyInstance, FastifyPluginAsync } from "fastify";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { ApiError } from "../../src/api/errors.js";
import { API_STATUSES, type FileView } from "../../src/api/file-view.js";
import { SluiceError } from "../../src/core/errors.js";
import { expectError, expectedOrder, type Fixture, getJson, openFixture } from "./read-fixture.js";

/**
 * The API around the file routes, through app.inject(): the error shape for
 * every kind of error, bearer auth, health, /metrics, the OpenAPI document,
 * and one real socket.
 */

const TOKEN = "s3cret-token";

// Stands in for the other route plugins (the upload route): body parsing and errors thrown by a plugin.
const extraRoutes: FastifyPluginAsync = async (app) => {
  const body = { type: "object", required: ["n"], properties: { n: { type: "integer" } } } as const;
  app.post("/echo", { schema: { body }, bodyLimit: 64 }, async (req) => req.body);
  app.get("/missing-file", async () => {
    throw new ApiError("SLUICE_ERR_MISSING_FILE", "no part named file");
  });
  app.get("/store-down", async () => {
    throw new SluiceError("SLUICE_ERR_STATE_STORE", "SQLITE_FULL at /secret/path/sluice.db");
  });
  app.get("/bug", async () => {
    throw new Error("secret internals");
  });
};

let fx: Fixture;
let app: FastifyInstance;
let authed: FastifyInstance;

beforeAll(async () => {
  fx = await openFixture();
  app = buildApp(fx.deps(null), { plugins: [extraRoutes] });
  authed = buildApp(fx.deps(TOKEN), { plugins: [extraRoutes] });
});

afterAll(async () => {
  await app?.close();
  await authed?.close();
  await fx?.close();
});

const get = (url: string, on = app, headers: Record<string, string> = {}) => getJson(on, url, headers);

describe("errors", () => {
  it("answers unknown routes and methods with 404 in the error shape", async () => {
    expectError(await get("/nope"), "SLUICE_ERR_NOT_FOUND", 404);
    expectError(await get("/api/v2/files"), "SLUICE_ERR_NOT_FOUND", 404);
    const del = await app.inject({
      method: "DELETE",
      url: `/api/v1/files/${fx.ids.plain}`,
      headers: { "x-sluice-request": "1" },
    });
    expectError({ status: del.statusCode, body: del.json() }, "SLUICE_ERR_NOT_FOUND", 404);
  });

  it("renders body, content-type and size errors of any route in the error shape", async () => {
    const post = async (payload: string, contentType: string) => {
      const r = await app.inject({
        method: "POST",
        url: "/api/v1/echo",
        payload,
        headers: { "content-type": contentType, "x-sluice-request": "1" },
      });
      return { status: r.statusCode, body: r.json() };
    };
    expect((await post('{"n":1}', "application/json")).body).toEqual({ n: 1 });
    expectError(await post("<n>1</n>", "application/xml"), "SLUICE_ERR_UNSUPPORTED_MEDIA_TYPE", 415);
    expectError(await post("{nope", "application/json"), "SLUICE_ERR_BAD_REQUEST", 400);
    expectError(await post('{"m":1}', "application/json"), "SLUICE_ERR_BAD_REQUEST", 400);
    expectError(
      await post(JSON.stringify({ n: 1, pad: "x".repeat(100) }), "application/json"),
      "SLUICE_ERR_PAYLOAD_TOO_LARGE",
      413,
    );
  });

  it("renders ApiError and catalog errors thrown by routes, and hides internals of 5xx", async () => {
    const missing = await get("/api/v1/missing-file");
    expectError(missing, "SLUICE_ERR_MISSING_FILE", 400);
    expect(missing.body.error).toBe("Missing file");
    expect(missing.body.message).toContain("no part named file");
    const down = await get("/api/v1/store-down");
    expectError(down, "SLUICE_ERR_STATE_STORE", 503);
    const bug = await get("/api/v1/bug");
    expectError(bug, "SLUICE_ERR_INTERNAL", 500);
    expect(JSON.stringify([down.body, bug.body])).not.toMatch(/secret/);
  });
  it("logs 5xx errors through the given logger, and no per-request lines", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l)) });
    const logged = buildApp(fx.deps(null), { logger, plugins: [extraRoutes] });
    await logged.inject("/api/v1/files?limit=1");
    await logged.inject("/api/v1/bug");
    await logged.close();
    expect(lines.map((l) => l.event)).toEqual(["api_error"]);
    expect(lines[0]).toMatchObject({ level: 50, route: "/api/v1/bug", err: { message: "secret internals" } });
  });
});

describe("auth", () => {
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

  it("requires the bearer token on every /api route when a token is set", async () => {
    for (const url of [
      "/api/v1/files",
      `/api/v1/files/${fx.ids.plain}`,
      "/api/v1/openapi.json",
      "/api/v1/missing-file",
    ]) {
      const none = await get(url, authed);
      expectError(none, "SLUICE_ERR_UNAUTHORIZED", 401);
      expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
      for (const headers of [
        bearer("wrong"),
        bearer(`${TOKEN}x`),
        { authorization: `Basic ${TOKEN}` },
        bearer(`${TOKEN} x`),
      ]) {
        expectError(await get(url, authed, headers), "SLUICE_ERR_UNAUTHORIZED", 401);
      }
    }
    expect((await get("/api/v1/files", authed, bearer(TOKEN))).status).toBe(200);
    expect((await get("/api/v1/files", authed, { authorization: `bearer  ${TOKEN}` })).status).toBe(200);
    expect((await get("/api/v1/missing-file", authed, bearer(TOKEN))).status).toBe(400);
    const post = await authed.inject({
      method: "POST",
      url: "/api/v1/echo",
      payload: { n: 2 },
      headers: { "x-sluice-request": "1" },
    });
    expect(post.statusCode).toBe(401);
  });

  it("does not reveal which /api paths exist without the token", async () => {
    expectError(await get("/api/v1/nope", authed), "SLUICE_ERR_UNAUTHORIZED", 401);
    expectError(await get("/api/v1/nope", authed, bearer(TOKEN)), "SLUICE_ERR_NOT_FOUND", 404);
  });

  it("keeps /healthz, /readyz and /metrics open", async () => {
    for (const url of ["/healthz", "/readyz", "/metrics"]) {
      expect((await authed.inject(url)).statusCode).toBe(200);
    }
  });

  it("is off without a token, and refuses an empty one", async () => {
    expect((await get("/api/v1/files?limit=1")).status).toBe(200);
    expect(() => buildApp(fx.deps(""))).toThrow(/non-empty/);
  });
});

describe("health", () => {
  it("/healthz is always ok; /readyz follows deps.ready()", async () => {
    expect(await get("/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await get("/readyz")).toMatchObject({
      status: 200,
      body: { status: "ready", state: true, warehouse: true },
    });
    const saved = fx.readiness;
    try {
      fx.readiness = { state: true, warehouse: false, detail: "warehouse /wh is read-only" };
      expect(await get("/readyz")).toMatchObject({
        status: 503,
        body: { status: "not_ready", state: true, warehouse: false, detail: "warehouse /wh is read-only" },
      });
      fx.readiness = { state: false, warehouse: true };
      expect(await get("/readyz")).toMatchObject({ status: 503, body: { status: "not_ready", state: false } });
    } finally {
      fx.readiness = saved;
    }
    const throwing = buildApp({ ...fx.deps(null), ready: async () => Promise.reject(new Error("db locked")) });
    const r = await throwing.inject("/readyz");
    expect(r.statusCode).toBe(503);
    expect(r.json()).toMatchObject({
      status: "not_ready",
      state: false,
      warehouse: false,
      detail: expect.stringContaining("db locked"),
    });
    await throwing.close();
  });
});

describe("GET /metrics", () => {
  it("exposes the registry, with HTTP requests labelled by route pattern", async () => {
    fx.metrics.record("ingested", 100, 0.01);
    await get(`/api/v1/files/${fx.ids.plain}`);
    await get("/no/such/path/12345");
    const r = await app.inject("/metrics");
    expect(r.statusCode).toBe(200);
    expect(r.headers["content-type"]).toBe(fx.metrics.registry.contentType);
    expect(r.body).toContain('sluice_files_total{outcome="ingested"} 1');
    expect(r.body).toMatch(
      /sluice_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/files\/:id",status_code="200"\} \d+/,
    );
    expect(r.body).toMatch(
      /sluice_http_request_duration_seconds_count\{method="GET",route="not_found",status_code="404"\}/,
    );
    expect(r.body).not.toContain(fx.ids.plain);
    expect(r.body).not.toContain("12345");
    expect(r.body).toContain("# TYPE sluice_stage_duration_seconds histogram");
  });
});

describe("GET /api/v1/openapi.json", () => {
  it("is generated from the routes this app has: a plugin's routes are in it, with the schemas they declare", async () => {
    const r = await app.inject("/api/v1/openapi.json");
    expect(r.statusCode).toBe(200);
    const doc = JSON.parse(r.body);
    expect(doc.openapi).toBe("3.1.0");
    // This app has the stand-in plugin instead of the upload route (openapi-document.test.ts has the real set).
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/api/v1/bug",
      "/api/v1/echo",
      "/api/v1/files",
      "/api/v1/files/{id}",
      "/api/v1/files/{id}/invalid-rows",
      "/api/v1/missing-file",
      "/api/v1/openapi.json",
      "/api/v1/stats",
      "/api/v1/store-down",
      "/healthz",
      "/metrics",
      "/readyz",
    ]);
    expect(doc.paths["/api/v1/echo"].post.requestBody.content["application/json"].schema).toMatchObject({
      required: ["n"],
    });
    expect(doc.components.schemas.FileView.properties.status.enum).toEqual([...API_STATUSES]);
  });
});

describe("over a real socket", () => {
  it("serves the API on 127.0.0.1", async () => {
    const server = buildApp(fx.deps(TOKEN));
    try {
      const address = await server.listen({ host: "127.0.0.1", port: 0 });
      const res = await fetch(`${address}/api/v1/files?limit=2`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("application/json");
      const body = (await res.json()) as { items: FileView[]; next_cursor: string | null };
      expect(body.items.map((f) => f.id)).toEqual((await expectedOrder(fx)).slice(0, 2));
      expect(body.next_cursor).toEqual(expect.any(String));
      expect((await fetch(`${address}/api/v1/files`)).status).toBe(401);
      expect(await (await fetch(`${address}/healthz`)).json()).toEqual({ status: "ok" });
    } finally {
      await server.close();
    }
  });
});
