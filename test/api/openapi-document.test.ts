import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_STATUSES } from "../../src/api/file-view.js";
import { generateOpenApiDocument, openApiJson } from "../../src/api/openapi-document.js";
import { OpenApiChecker } from "./openapi-check.js";

/**
 * The OpenAPI document generated from the route schemas: the committed copy
 * (docs/openapi.json) is what the routes generate, and the document says what
 * a client needs (every route, the upload's multipart body and header, which
 * routes are open, named schemas that resolve). That real responses match it
 * is openapi-responses.test.ts.
 */

type Op = {
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { description: string }>;
  security?: unknown[];
  summary?: string;
  tags?: string[];
};
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Op>>;
  components: { schemas: Record<string, { properties?: Record<string, { enum?: unknown[] }> }> };
};

describe("docs/openapi.json", () => {
  it("is exactly what the routes generate (run `npm run docs:api` after changing a route)", async () => {
    const committed = readFileSync(new URL("../../docs/openapi.json", import.meta.url), "utf8");
    expect(committed).toBe(await openApiJson());
  });
});

describe("the generated document", () => {
  it("lists every route with a summary, a tag and a description for every response", async () => {
    const doc = (await generateOpenApiDocument()) as unknown as Doc;
    expect(doc.openapi).toBe("3.1.0");
    // No two templates may differ only in a parameter's name (OpenAPI 3.1: they are the same path).
    const shapes = Object.keys(doc.paths).map((p) => p.replace(/\{[^}]+\}/g, "{}"));
    expect(new Set(shapes).size).toBe(shapes.length);
    expect(Object.keys(doc.paths).sort()).toEqual([
      "/api/v1/files",
      "/api/v1/files/{id}",
      "/api/v1/files/{id}/history",
      "/api/v1/files/{id}/invalid-rows",
      "/api/v1/files/{id}/reprocess",
      "/api/v1/files/{id}/requeue",
      "/api/v1/openapi.json",
      "/api/v1/stats",
      "/healthz",
      "/metrics",
      "/readyz",
    ]);
    expect(Object.keys(doc.paths["/api/v1/files"]!).sort()).toEqual(["get", "post"]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        expect(op.summary, `${method} ${path}`).toEqual(expect.any(String));
        expect(op.tags, `${method} ${path}`).toHaveLength(1);
        for (const [status, r] of Object.entries(op.responses)) {
          expect(r.description, `${method} ${path} ${status}`).not.toBe("Default Response");
        }
      }
    }
  });

  it("documents the upload's multipart body, its header and all its refusals", async () => {
    const doc = (await generateOpenApiDocument()) as unknown as Doc;
    const upload = doc.paths["/api/v1/files"]!.post!;
    expect(Object.keys(upload.requestBody!.content)).toEqual(["multipart/form-data"]);
    expect(Object.keys(upload.responses).sort()).toEqual(
      ["202", "400", "401", "403", "408", "413", "415", "421", "500", "503"].sort(),
    );
    expect(upload.parameters).toEqual([
      expect.objectContaining({ name: "X-Sluice-Request", in: "header", required: true }),
    ]);
  });

  it("documents the raw upload (PUT): its octet-stream body, its name, its headers and all its refusals", async () => {
    const doc = (await generateOpenApiDocument()) as unknown as Doc;
    // One template for GET (an ingest id) and PUT (a name): OpenAPI forbids templates differing only in a name.
    const put = doc.paths["/api/v1/files/{id}"]!.put!;
    expect(Object.keys(doc.paths["/api/v1/files/{id}"]!).sort()).toEqual(["get", "put"]);
    expect(Object.keys(put.requestBody!.content)).toEqual(["application/octet-stream"]);
    expect(Object.keys(put.responses).sort()).toEqual(
      ["202", "400", "401", "403", "408", "413", "421", "500", "503"].sort(),
    );
    expect(put.parameters?.map((p) => [p.name, p.in, p.required])).toEqual([
      ["id", "path", true],
      ["X-Sluice-Request", "header", true],
      ["Content-MD5", "header", false],
      ["x-amz-checksum-sha256", "header", false],
      ["Digest", "header", false],
      ["X-Sluice-Sha256", "header", false],
    ]);
  });

  it("marks the probes and /metrics open, the /api routes guarded by the token", async () => {
    const doc = (await generateOpenApiDocument()) as unknown as Doc & { security: unknown };
    expect(doc.security).toEqual([{ bearerAuth: [] }]);
    for (const path of ["/healthz", "/readyz", "/metrics"]) expect(doc.paths[path]!.get!.security).toEqual([]);
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith("/api/")) continue;
      for (const op of Object.values(ops)) {
        expect(op.security).toBeUndefined();
        expect(Object.keys(op.responses)).toContain("401");
      }
    }
    expect(doc.paths["/api/v1/files/{id}"]!.get!.parameters).toEqual([
      expect.objectContaining({ name: "id", in: "path", required: true }),
    ]);
  });

  it("names the shared schemas, and every reference resolves", async () => {
    const doc = (await generateOpenApiDocument()) as unknown as Doc;
    const text = JSON.stringify(doc);
    const refs = [...text.matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]!);
    expect(new Set(refs)).toEqual(
      new Set(
        ["Error", "FileView", "FilePage", "InvalidRowsPage", "FileHistory"].map((n) => `#/components/schemas/${n}`),
      ),
    );
    for (const ref of refs) expect(doc.components.schemas[ref.split("/").pop()!]).toBeDefined();
    expect(doc.components.schemas.FileView?.properties?.status?.enum).toEqual([...API_STATUSES]);
  });
});

describe("the response checker", () => {
  it("refuses a body off its schema, an undocumented status and an undocumented content type", async () => {
    const checker = new OpenApiChecker((await generateOpenApiDocument()) as never);
    const json = "application/json; charset=utf-8";
    const healthz = { method: "GET", url: "/healthz", contentType: json };
    expect(() => checker.check({ ...healthz, status: 200, body: '{"status":"ok"}' })).not.toThrow();
    expect(() => checker.check({ ...healthz, status: 200, body: '{"status":"fine"}' })).toThrow(/allowed values/);
    expect(() => checker.check({ ...healthz, status: 200, body: "{}" })).toThrow(/required/);
    expect(() => checker.check({ ...healthz, status: 404, body: "{}" })).toThrow(/does not list/);
    expect(() => checker.check({ ...healthz, status: 200, contentType: "text/html", body: "<p>" })).toThrow(
      /content type/,
    );
    const error = '{"error":"Not found","code":"SLUICE_ERR_NOT_FOUND","message":"no","statusCode":404,"extra":1}';
    expect(() =>
      checker.check({ method: "GET", url: "/api/v1/files/x", status: 404, contentType: json, body: error }),
    ).toThrow(/additional/);
    expect(() =>
      checker.check({ method: "GET", url: "/api/v2/nope", status: 200, contentType: json, body: "{}" }),
    ).toThrow(/no documented operation/);
  });
});
