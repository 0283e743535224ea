import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { expectError, type Fixture, getJson, openFixture } from "./read-fixture.js";

/**
 * A file pruned from the state (`sluice prune`, issue 21) through the API: 404 in the error shape, with a message
 * that names prune as a possible cause; files still in flight are untouched and still answer.
 */

let fx: Fixture;
let app: FastifyInstance;

beforeAll(async () => {
  fx = await openFixture();
  app = buildApp(fx.deps(null));
  // Everything finished so far is pruned: a cutoff just after now, on the real clock.
  const cutoff = new Date(Date.now() + 1).toISOString();
  while (new Date().toISOString() <= cutoff) await new Promise((r) => setImmediate(r));
  for (;;) {
    const t = await fx.store.pruneBatch(cutoff, 50);
    if (t.files.done + t.files.duplicate + t.files.failed === 0) break;
  }
});

afterAll(async () => {
  await app?.close();
  await fx?.close();
});

describe("GET /api/v1/files/:id of a pruned file", () => {
  it("answers 404 saying the file may have been pruned, for the file and its invalid rows", async () => {
    for (const id of [fx.ids.processed, fx.ids.partial, fx.ids.duplicate, fx.ids.failed]) {
      const r = await getJson(app, `/api/v1/files/${id}`);
      expectError(r, "SLUICE_ERR_NOT_FOUND", 404);
      expect((r.body as { message: string }).message).toMatch(/pruned \(sluice prune/);
      expectError(await getJson(app, `/api/v1/files/${id}/invalid-rows`), "SLUICE_ERR_NOT_FOUND", 404);
    }
  });

  it("still answers for files in flight, which prune never touches", async () => {
    for (const id of [fx.ids.hashed, fx.ids.stored]) {
      const r = await getJson(app, `/api/v1/files/${id}`);
      expect(r.status).toBe(200);
      expect((r.body as { id: string }).id).toBe(id);
    }
  });
});
