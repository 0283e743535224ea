import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, InjectOptions } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp } from "../../src/api/app.js";
import { defaultDashboardDir } from "../../src/api/dashboard.js";
import type { ApiDeps } from "../../src/api/deps.js";
import { API_STATUSES } from "../../src/api/file-view.js";
import { generateOpenApiDocument } from "../../src/api/openapi-document.js";
import { type ReprocessRouteDeps, reprocessRoutes } from "../../src/api/routes/reprocess.js";
import { requeueRoutes } from "../../src/api/routes/requeue.js";
import { uploadRoutes } from "../../src/api/routes/upload.js";
import type { UploadLimits } from "../../src/api/upload-limits.js";
import { wire } from "../../src/cli/wire.js";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { SluiceError } from "../../src/core/errors.js";
import { newIngestId } from "../../src/core/ids.js";
import { DirSyncer } from "../../src/durable/fsync.js";
import { ManifestWriter } from "../../src/manifest/manifest-writer.js";
import { reprocessFile } from "../../src/pipeline/reprocess/reprocess-file.js";
import { newOwner, type ReprocessDeps, reprocessManifestName } from "../../src/pipeline/reprocess/reprocess-finish.js";
import { requeueFile } from "../../src/requeue/requeue-file.js";
import { UploadRegistry } from "../../src/service/upload-registry.js";
import { SqliteStateStore } from "../../src/store/sqlite/sqlite-store.js";
import type { StateStore } from "../../src/store/state-store.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { makeIgnoreRule } from "../../src/watch/ignore-rules.js";
import { runOnce } from "../support/cli.js";
import { put, sleep } from "../support/fixtures.js";
import { BOUNDARY, multipartBody, partHead, rawConnect } from "../support/raw-http.js";
import { CSV, writeSchemas } from "../support/reprocess.js";
import { makeSandbox, readManifest, sha256 } from "../support/sandbox.js";
import { OpenApiChecker } from "./openapi-check.js";
import { type Fixture, openFixture, PARTIAL_INVALID } from "./read-fixture.js";

/**
 * Every route of the app `sluice serve` runs (the read routes over a real
 * SQLite state store, the upload route over a real staging directory, bearer
 * auth and the Host check on) is driven through its successes and its errors,
 * and every response is checked against the OpenAPI document the app serves:
 * its status must be listed for its path and method, its content type and body
 * must match the schema given there. At the end, every documented operation
 * and status must have been seen, but the few listed as unreachable here.
 */

const TOKEN = "openapi-test-token";
const HOST = "sluice.test";
const MAX_UPLOAD = 1000;

let fx: Fixture;
let root: string;
let app: FastifyInstance;
let checker: OpenApiChecker;
/** The reprocess route's runner: the real pipeline step, wired by the real wiring root over a state of its own. */
let runner: ReprocessRouteDeps;
let rp: ReprocessDeps;
/** The runner's state, which `sluice run --once` filled: ids of its stored files by name. */
let rpStore: StateStore;
const rpIds: Record<string, string> = {};
/** A reprocess runner over `store` (a failing one, for the 500 and 503). */
const runnerOver = (store: StateStore): ReprocessRouteDeps => ({
  reprocess: (id) => reprocessFile({ ...rp, ctx: { ...rp.ctx, store } }, id),
});
const closers: (() => Promise<unknown>)[] = [];

/** The app as `sluice serve` builds it: token, Host rule, the dashboard (hidden from the document), the upload route. */
function serveLike(
  opts: { store?: StateStore; input?: string; limits?: UploadLimits; runner?: ReprocessRouteDeps } = {},
): FastifyInstance {
  const registry = new UploadRegistry();
  const base = fx.deps(TOKEN);
  const deps: ApiDeps = {
    ...base,
    store: opts.store ?? fx.store,
    waiting: (id) => registry.get(id) ?? base.waiting(id),
    waitingList: () => [...registry.list(), ...base.waitingList()],
  };
  const input = opts.input ?? join(root, `staging-${closers.length}`);
  if (!opts.input) mkdirSync(input);
  const built = buildApp(deps, {
    dashboardDir: defaultDashboardDir(),
    hosts: { listenHost: HOST, loopback: false, allowed: [HOST] },
    plugins: [
      uploadRoutes({
        input,
        registry,
        dirs: new DirSyncer(),
        offer: () => undefined,
        maxUploadBytes: MAX_UPLOAD,
        ...(opts.limits ? { limits: opts.limits } : {}),
        isIgnored: makeIgnoreRule([]),
      }),
      reprocessRoutes(deps, opts.runner ?? runner),
      requeueRoutes({
        requeue: (id) =>
          requeueFile(
            {
              store: deps.store,
              input,
              dirs: new DirSyncer(),
              hash: async (p) => sha256(readFileSync(p)),
            },
            id,
          ),
      }),
    ],
  });
  closers.push(() => built.close());
  return built;
}

type Headers = Record<string, string | null>;

/** A request through app.inject() (as the right host, with the token unless told; null drops a header), checked. */
async function send(opts: Omit<InjectOptions, "headers"> & { url: string; headers?: Headers }, on = app) {
  const all: Headers = { host: HOST, authorization: `Bearer ${TOKEN}`, ...opts.headers };
  const headers = Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== null));
  const r = await on.inject({ ...opts, headers });
  const method = opts.method ?? "GET";
  checker.check({ method, url: opts.url, status: r.statusCode, contentType: r.headers["content-type"], body: r.body });
  return r;
}

const get = (url: string, headers: Headers = {}, on = app) => send({ url, headers }, on);

/** PUT /api/v1/files/{name}: the body is the file. */
function putFile(name: string, payload: string | Buffer, headers: Headers = {}, on = app) {
  return send(
    { method: "PUT", url: `/api/v1/files/${name}`, payload, headers: { "x-sluice-request": "1", ...headers } },
    on,
  );
}

function upload(payload: string | Buffer, headers: Headers = {}, on = app) {
  return send(
    {
      method: "POST",
      url: "/api/v1/files",
      payload,
      headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "x-sluice-request": "1", ...headers },
    },
    on,
  );
}

beforeAll(async () => {
  fx = await openFixture();
  root = mkdtempSync(join(tmpdir(), "sluice-openapi-"));
  // The runner's state and warehouse, filled by the real `sluice run --once` under schema A (`value` a number):
  // r.csv (4 rows), its duplicate, and frac.csv, whose only value is fractional. The schema file then says B
  // (`value` an integer): r.csv reprocesses to 3 valid rows (200), frac.csv to none (422), the duplicate is refused
  // (409).
  const s = makeSandbox({ base: root });
  const { a, b } = writeSchemas(s);
  const schema = join(s.root, "schema.json");
  copyFileSync(a, schema);
  put(s.input, "r.csv", CSV);
  put(s.input, "frac.csv", "sensor_id,value\ns9,0.5\n");
  const ran = await runOnce([...s.args, "--stability-seconds", "0", "--schema", schema], { timeoutMs: 90_000 });
  expect(ran.code, ran.stderr).toBe(0);
  put(s.input, "dup.csv", CSV);
  const dup = await runOnce([...s.args, "--stability-seconds", "0", "--schema", schema], { timeoutMs: 90_000 });
  expect(dup.code, dup.stderr).toBe(0);
  for (const l of readManifest(s.manifests)) rpIds[l.name as string] = l.ingest_id;
  expect(Object.keys(rpIds).sort()).toEqual(["dup.csv", "frac.csv", "r.csv"]);
  copyFileSync(b, schema);
  const { input, warehouse, manifests, errors, statePath } = s;
  const config = resolveRunConfig({ input, warehouse, manifests, errors, statePath, schema }, {}, {}, root);
  const wired = await wire(config, createLogger("error", 2), { prometheus: false });
  // From TypeScript sources the SQLite writer thread has no compiled .js to run: the runner commits on this thread
  // instead (the same batches and transactions, `writerThread: false`), over the same file.
  rpStore = new SqliteStateStore(statePath, { writerThread: false });
  rp = {
    ctx: { ...wired.ctx, store: rpStore },
    manifests: new ManifestWriter(manifests, wired.ctx.dirs, reprocessManifestName(wired.ctx)),
    owner: newOwner(),
  };
  closers.push(async () => {
    await rp.manifests.close();
    await rpStore.close();
    // The writer thread wire() started has no compiled .js to run either: its close may never answer.
    await Promise.race([wired.close(), sleep(2000)]);
  });
  runner = { reprocess: (id) => reprocessFile(rp, id) };
  app = serveLike();
  const served = await app.inject({
    url: "/api/v1/openapi.json",
    headers: { host: HOST, authorization: `Bearer ${TOKEN}` },
  });
  expect(served.statusCode).toBe(200);
  const doc = served.json();
  // What this app serves is what `npm run docs:api` generates (and docs/openapi.json holds: openapi-document.test.ts).
  expect(doc).toEqual(await generateOpenApiDocument());
  checker = new OpenApiChecker(doc);
  checker.check({
    method: "GET",
    url: "/api/v1/openapi.json",
    status: 200,
    contentType: served.headers["content-type"],
    body: served.body,
  });
});

afterAll(async () => {
  for (const close of closers) await close();
  await fx?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("successful answers match the document", () => {
  it("probes, metrics, stats", async () => {
    expect((await get("/healthz", { host: "10.1.2.3:8080" })).statusCode).toBe(200);
    expect((await get("/readyz")).statusCode).toBe(200);
    const saved = fx.readiness;
    try {
      fx.readiness = { state: true, warehouse: false, detail: "warehouse /wh is read-only" };
      expect((await get("/readyz")).statusCode).toBe(503);
    } finally {
      fx.readiness = saved;
    }
    expect((await get("/metrics")).statusCode).toBe(200);
    expect((await get("/api/v1/stats")).statusCode).toBe(200);
  });

  it("uploads, then every page, filter and file", async () => {
    const one = await upload(multipartBody([{ name: "one.csv", data: "a,b\n1,2\n" }]));
    expect(one.statusCode).toBe(202);
    const two = await upload(
      multipartBody([
        { name: "two.csv", data: "a\n1\n" },
        { name: "three.json", data: "[]" },
      ]),
    );
    expect(two.statusCode).toBe(202);
    expect((await putFile("four.csv", "a\n4\n", { "content-type": "text/csv" })).statusCode).toBe(202);

    const ids: string[] = [];
    let url: string | null = "/api/v1/files?limit=7";
    while (url) {
      const page = (await get(url)).json() as { items: { id: string }[]; next_cursor: string | null };
      ids.push(...page.items.map((f) => f.id));
      url = page.next_cursor ? `/api/v1/files?limit=7&cursor=${encodeURIComponent(page.next_cursor)}` : null;
    }
    expect(ids).toContain((one.json() as { id: string }).id);
    for (const status of API_STATUSES) expect((await get(`/api/v1/files?status=${status}`)).statusCode).toBe(200);
    expect((await get("/api/v1/files?q=UPLOAD&limit=500")).statusCode).toBe(200);

    for (const id of ids) {
      expect((await get(`/api/v1/files/${id}`)).statusCode).toBe(200);
      expect((await get(`/api/v1/files/${id}/invalid-rows?limit=3`)).statusCode).toBe(200);
    }
    for (const offset of [0, 100, PARTIAL_INVALID - 1, PARTIAL_INVALID, 10_000]) {
      const r = await get(`/api/v1/files/${fx.ids.partial}/invalid-rows?offset=${offset}&limit=100`);
      expect(r.statusCode).toBe(200);
    }
  });
});

describe("error answers match the document", () => {
  it("reprocess and history: a file's generations, unknown ids, a bad id, no token, a foreign Host", async () => {
    const h = await get(`/api/v1/files/${fx.ids.partial}/history`);
    expect(h.statusCode).toBe(200);
    expect(h.json()).toMatchObject({ id: fx.ids.partial, generation: 0, items: [{ generation: 0, kind: "ingested" }] });
    expect((await get("/api/v1/files/no-such-id/history")).statusCode).toBe(404);
    expect((await get(`/api/v1/files/${"x".repeat(201)}/history`)).statusCode).toBe(400);
    expect((await get(`/api/v1/files/${fx.ids.partial}/history`, { authorization: null })).statusCode).toBe(401);
    expect((await get(`/api/v1/files/${fx.ids.partial}/history`, { host: "evil.test" })).statusCode).toBe(421);
    const post = (id: string, headers: Headers = {}) =>
      send({ method: "POST", url: `/api/v1/files/${id}/reprocess`, headers: { "x-sluice-request": "1", ...headers } });
    // The runner's own state has no such file: the real step answers not found.
    expect((await post(fx.ids.partial)).statusCode).toBe(404);
    expect((await post("x".repeat(201))).statusCode).toBe(400);
    expect((await post(fx.ids.partial, { authorization: null })).statusCode).toBe(401);
    expect((await post(fx.ids.partial, { host: "evil.test" })).statusCode).toBe(421);
  });

  it("read routes: bad parameters, unknown ids, no token, a foreign Host", async () => {
    const bad = ["/api/v1/files?limit=0", "/api/v1/files?status=lost", "/api/v1/files?cursor=not-ours"];
    for (const url of bad) expect((await get(url)).statusCode).toBe(400);
    expect((await get(`/api/v1/files/${"x".repeat(201)}`)).statusCode).toBe(400);
    expect((await get("/api/v1/files/%E0%A4%A")).statusCode).toBe(400);
    expect((await get(`/api/v1/files/${fx.ids.plain}/invalid-rows?offset=-1`)).statusCode).toBe(400);
    expect((await get("/api/v1/files/no-such-id")).statusCode).toBe(404);
    expect((await get("/api/v1/files/no-such-id/invalid-rows")).statusCode).toBe(404);
    const reads = [
      "/api/v1/files",
      `/api/v1/files/${fx.ids.processed}`,
      `/api/v1/files/${fx.ids.partial}/invalid-rows`,
      "/api/v1/stats",
      "/api/v1/openapi.json",
    ];
    for (const url of reads) {
      expect((await get(url, { authorization: null })).statusCode).toBe(401);
      expect((await get(url, { authorization: "Bearer wrong" })).statusCode).toBe(401);
      expect((await get(url, { host: "evil.example" })).statusCode).toBe(421);
    }
  });

  it("upload: each way a request is refused", async () => {
    const file = multipartBody([{ name: "x.csv", data: "x\n" }]);
    expect((await upload(file, { authorization: null })).statusCode).toBe(401);
    expect((await upload(file, { host: "evil.example" })).statusCode).toBe(421);
    expect((await upload(file, { "x-sluice-request": null })).statusCode).toBe(403);
    expect((await upload(file, { origin: "https://evil.example" })).statusCode).toBe(403);
    expect((await upload(multipartBody([{ name: "big.bin", data: "x".repeat(MAX_UPLOAD + 1) }]))).statusCode).toBe(413);
    expect((await upload("<a/>", { "content-type": "text/xml" })).statusCode).toBe(415);
    expect((await upload("{}", { "content-type": "application/json" })).statusCode).toBe(400);
    const fieldOnly = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${BOUNDARY}--\r\n`;
    expect((await upload(fieldOnly)).statusCode).toBe(400);
    const wrongField = partHead("y.csv").replace('name="file"', 'name="upload"');
    expect((await upload(`${wrongField}y\r\n--${BOUNDARY}--\r\n`)).statusCode).toBe(400);
    expect((await upload(`${partHead("cut.csv")}no closing boundary`)).statusCode).toBe(400);
  });

  it("raw upload (PUT): each way a request is refused", async () => {
    expect((await putFile("x.csv", "x\n", { authorization: null })).statusCode).toBe(401);
    expect((await putFile("x.csv", "x\n", { host: "evil.example" })).statusCode).toBe(421);
    expect((await putFile("x.csv", "x\n", { "x-sluice-request": null })).statusCode).toBe(403);
    expect((await putFile("x.csv", "x\n", { origin: "https://evil.example" })).statusCode).toBe(403);
    expect((await putFile("big.bin", "x".repeat(MAX_UPLOAD + 1))).statusCode).toBe(413);
    expect((await putFile(".hidden", "x\n")).json().code).toBe("SLUICE_ERR_INVALID_PARAMETER_TYPE");
    expect((await putFile("x.csv", "x\n", { "x-sluice-sha256": "nope" })).json().code).toBe("SLUICE_ERR_BAD_REQUEST");
    const wrong = await putFile("x.csv", "x\n", { "x-sluice-sha256": "0".repeat(64) });
    expect([wrong.statusCode, wrong.json().code]).toEqual([400, "SLUICE_ERR_UPLOAD_DIGEST_MISMATCH"]);
  });

  it("a state store that fails: 503 when it says so, 500 when it breaks; an unwritable staging: 500", async () => {
    const failing = (err: () => Error) =>
      new Proxy(fx.store, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver);
          return typeof v === "function" ? () => Promise.reject(err()) : v;
        },
      });
    const down = serveLike({ store: failing(() => new SluiceError("SLUICE_ERR_STATE_STORE", "SQLITE_FULL")) });
    const notADir = join(root, "staging-is-a-file");
    writeFileSync(notADir, "");
    const broken = serveLike({ store: failing(() => new Error("bug")), input: notADir });
    const routes = ["/api/v1/files", `/api/v1/files/${fx.ids.partial}`, `/api/v1/files/${fx.ids.partial}/invalid-rows`];
    for (const url of [...routes, "/api/v1/stats"]) {
      expect((await get(url, {}, down)).statusCode).toBe(503);
      expect((await get(url, {}, broken)).statusCode).toBe(500);
    }
    expect((await upload(multipartBody([{ name: "z.csv", data: "z\n" }]), {}, broken)).statusCode).toBe(500);
    expect((await putFile("z.csv", "z\n", {}, broken)).statusCode).toBe(500);
  });

  it("over a real socket: a stalled body (408) and too many uploads from one client (503)", async () => {
    const sockets = serveLike({ limits: { bodyIdleTimeoutMs: 1_000, maxUploads: 64, maxUploadsPerClient: 1 } });
    const base = await sockets.listen({ host: "127.0.0.1", port: 0 });
    const { port } = new URL(base);
    const stalled = await rawConnect(Number(port));
    stalled.socket.write(
      `POST /api/v1/files HTTP/1.1\r\nHost: ${HOST}\r\nAuthorization: Bearer ${TOKEN}\r\nX-Sluice-Request: 1\r\n` +
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 100000\r\n\r\n` +
        `${partHead("stalled.csv")}a,b\n`,
    );
    await sleep(200); // the stalled upload is admitted and holds the client's one slot
    const refused = await fetch(`${base}/api/v1/files`, {
      method: "POST",
      body: new Uint8Array(multipartBody([{ name: "second.csv", data: "s\n" }])),
      headers: {
        host: HOST,
        authorization: `Bearer ${TOKEN}`,
        "x-sluice-request": "1",
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
      },
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toMatch(/^\d+$/);
    checker.check({
      method: "POST",
      url: "/api/v1/files",
      status: refused.status,
      contentType: refused.headers.get("content-type") ?? undefined,
      body: await refused.text(),
    });

    await stalled.closed;
    const raw = stalled.received();
    const [head = "", body = ""] = raw.split("\r\n\r\n");
    const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
    expect(status).toBe(408);
    const contentType = /^content-type: (.*)$/im.exec(head)?.[1];
    checker.check({ method: "POST", url: "/api/v1/files", status, contentType, body });

    // The same for PUT: it holds the slot (a POST is refused), then is closed by the body-idle timeout.
    const stalledPut = await rawConnect(Number(port));
    stalledPut.socket.write(
      `PUT /api/v1/files/stalled.csv HTTP/1.1\r\nHost: ${HOST}\r\nAuthorization: Bearer ${TOKEN}\r\n` +
        "X-Sluice-Request: 1\r\nContent-Length: 900\r\n\r\na,b\n", // under the app's 1000-byte limit
    );
    await sleep(200);
    const refusedPut = await fetch(`${base}/api/v1/files/second.csv`, {
      method: "PUT",
      body: "s\n",
      headers: { host: HOST, authorization: `Bearer ${TOKEN}`, "x-sluice-request": "1" },
    });
    expect(refusedPut.status, stalledPut.received()).toBe(503);
    checker.check({
      method: "PUT",
      url: "/api/v1/files/second.csv",
      status: refusedPut.status,
      contentType: refusedPut.headers.get("content-type") ?? undefined,
      body: await refusedPut.text(),
    });
    await stalledPut.closed;
    const [putHead = "", putBody = ""] = stalledPut.received().split("\r\n\r\n");
    const putStatus = Number(/^HTTP\/1\.1 (\d{3}) /.exec(putHead)?.[1]);
    expect(putStatus).toBe(408);
    const putType = /^content-type: (.*)$/im.exec(putHead)?.[1];
    checker.check({
      method: "PUT",
      url: "/api/v1/files/stalled.csv",
      status: putStatus,
      contentType: putType,
      body: putBody,
    });
  });
});

describe("requeue answers match the document", () => {
  const post = (id: string, headers: Headers = {}, on = app) =>
    // (An empty body, as the dashboard sends: a request without one looks unfinished to the lingering close.)
    send(
      {
        method: "POST",
        url: `/api/v1/files/${id}/requeue`,
        payload: "",
        headers: { "x-sluice-request": "1", ...headers },
      },
      on,
    );

  it("202 for a failed file (again while pending), 409 once linked or not failed, 404, 400, 401, 403, 421", async () => {
    // A failed file with its copy and reason in an error directory, as the pipeline leaves one.
    const errors = join(root, "requeue-errors");
    mkdirSync(errors, { recursive: true });
    const id = newIngestId();
    const copy = join(errors, "20261124T100000000Z_again.csv");
    writeFileSync(copy, "a,b\n1,2\n");
    writeFileSync(`${copy}.error.json`, "{}");
    const f = { ingestId: id, sourcePath: "/s/again.csv", name: "again.csv", device: 1, inode: 2, size: 8, mtimeMs: 1 };
    await fx.store.recordDiscovered({ ...f, sidecarPath: null });
    await fx.store.beginQuarantine(id, { code: "SLUICE_ERR_PARSE", message: "bad", attempts: 1 }, copy);
    await fx.store.finishFailed(id);
    const r = await post(id);
    expect([r.statusCode, r.json()]).toEqual([202, { id, status: "pending", name: "again.csv" }]);
    expect(existsSync(copy) || existsSync(`${copy}.error.json`)).toBe(false);
    expect((await post(id)).statusCode).toBe(202); // pending: the same answer, nothing moves twice
    // The pipeline's decide links the new attempt: from then on the failed file is requeued already.
    const next = { ...f, ingestId: newIngestId(), inode: 3, sidecarPath: null };
    await fx.store.decide(next, sha256("a,b\n1,2\n"), {
      partitionDir: "/wh/ingest_date=2026-11-24",
      baseName: "again.csv",
      collisionName: "again.x.csv",
      ingestedAt: "2026-11-24T10:00:00.000Z",
      manifestPath: "/m/manifest.jsonl",
    });
    const linked = await post(id);
    expect([linked.statusCode, linked.json().code]).toEqual([409, "SLUICE_ERR_NOT_REQUEUABLE"]);
    expect(linked.json().message).toContain(next.ingestId);
    const view = await get(`/api/v1/files/${id}`);
    expect(view.json()).toMatchObject({ requeued_to: next.ingestId, requeued_from: null });
    expect((await get(`/api/v1/files/${next.ingestId}`)).json().requeued_from).toBe(id);

    expect((await post(fx.ids.processed)).statusCode).toBe(409);
    expect((await post("no-such-id")).statusCode).toBe(404);
    expect((await post("x".repeat(201))).statusCode).toBe(400);
    expect((await post(id, { authorization: null })).statusCode).toBe(401);
    expect((await post(id, { "x-sluice-request": null })).statusCode).toBe(403);
    expect((await post(id, { host: "evil.example" })).statusCode).toBe(421);
    const failing = (err: () => Error) =>
      new Proxy(fx.store, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver);
          return typeof v === "function" ? () => Promise.reject(err()) : v;
        },
      });
    const down = serveLike({ store: failing(() => new SluiceError("SLUICE_ERR_STATE_STORE", "SQLITE_FULL")) });
    const broken = serveLike({ store: failing(() => new Error("bug")) });
    expect((await post(id, {}, down)).statusCode).toBe(503);
    expect((await post(id, {}, broken)).statusCode).toBe(500);
  });
});

describe("reprocess answers match the document", () => {
  const failing = (err: () => Error) =>
    new Proxy(rpStore, {
      get(target, key, receiver) {
        const v = Reflect.get(target, key, receiver);
        return typeof v === "function" ? () => Promise.reject(err()) : v;
      },
    });
  const post = (id: string, on: FastifyInstance) =>
    send(
      {
        method: "POST",
        url: `/api/v1/files/${id}/reprocess`,
        payload: "",
        headers: { "x-sluice-request": "1" },
      },
      on,
    );

  it("200 with the new generation, 409 for a duplicate, 422 when today's schema refuses the file", async () => {
    const on = serveLike({ store: rpStore });
    const id = rpIds["r.csv"] as string;
    const ok = await post(id, on);
    expect(ok.statusCode, ok.body).toBe(200);
    const view = ok.json();
    expect(view).toMatchObject({ id, generation: 1, status: "partial", invalid_rows: { total: 1 } });
    expect(view.profile.find((o: { kind: string }) => o.kind === "parquet")).toMatchObject({ row_count: 3 });
    expect(view.profile[0].path).toMatch(/r\.csv\.g1\.parquet$/);
    const history = await get(`/api/v1/files/${id}/history`, {}, on);
    expect(history.json()).toMatchObject({
      id,
      generation: 1,
      items: [
        { generation: 0, kind: "ingested", schema: "feed-a", invalid_count: 0 },
        { generation: 1, kind: "reprocessed", schema: "feed-b", invalid_count: 1 },
      ],
    });

    const duplicate = await post(rpIds["dup.csv"] as string, on);
    expect([duplicate.statusCode, duplicate.json().code]).toEqual([409, "SLUICE_ERR_NOT_REPROCESSABLE"]);
    expect(duplicate.json().message).toContain(id);

    const frac = rpIds["frac.csv"] as string;
    const refused = await post(frac, on);
    expect([refused.statusCode, refused.json().code]).toEqual([422, "SLUICE_ERR_NO_VALID_ROWS"]);
    // Nothing changed: still generation 0, processed under A.
    expect((await get(`/api/v1/files/${frac}`, {}, on)).json()).toMatchObject({ generation: 0, status: "processed" });
  });

  it("a state store that fails: 503 when it says so, 500 when it breaks (reprocess and history)", async () => {
    const id = rpIds["r.csv"] as string;
    for (const [err, status] of [
      [() => new SluiceError("SLUICE_ERR_STATE_STORE", "SQLITE_BUSY"), 503],
      [() => new Error("bug"), 500],
    ] as const) {
      const store = failing(err);
      const on = serveLike({ store, runner: runnerOver(store) });
      expect((await post(id, on)).statusCode).toBe(status);
      expect((await get(`/api/v1/files/${id}/history`, {}, on)).statusCode).toBe(status);
    }
  });
});

// Statuses the document rightly lists that this test cannot bring about without breaking the process itself.
const UNREACHABLE_HERE = [
  "GET /metrics 500", // the Prometheus registry failing to render
  "GET /api/v1/openapi.json 500", // swagger failing to render a document it built at start
];

describe("coverage", () => {
  it("exercised every documented operation, and every documented status but the unreachable ones", () => {
    const operations = new Set([...checker.seen].map((k) => k.split(" ").slice(0, 2).join(" ")));
    expect(checker.operations().filter((op) => !operations.has(op))).toEqual([]);
    const missed = checker.documented().filter((k) => !checker.seen.has(k));
    expect(missed.sort()).toEqual([...UNREACHABLE_HERE].sort());
  });
});
