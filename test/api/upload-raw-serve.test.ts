import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { SLUICE_BIN, useRunning } from "../support/cli.js";
import { sleep, useSandboxes } from "../support/fixtures.js";
import { partHead, rawConnect, startServe, uploadHead, uploadTemps, waitUntil, within } from "../support/raw-http.js";
import { chunk, LAST_CHUNK, putChunkedHead, putHead } from "../support/raw-put.js";
import { listFiles, readManifest, type Sandbox, sha256 } from "../support/sandbox.js";

/**
 * PUT /api/v1/files/{name} against a real `sluice serve` over real sockets: a
 * body sent by curl (Content-Length, Expect: 100-continue) or chunked is
 * ingested under the id answered with the body's SHA-256; a body cut off, too
 * large, stalled or with the wrong digest leaves nothing in staging; PUT and
 * POST share the bound on uploads in flight; `sluice upload` uses PUT. The
 * inject-level cases (names, each digest header) are upload-raw.test.ts.
 */

const exec = promisify(execFile);
const sandbox = useSandboxes();
const running = useRunning();

async function serve(s: Sandbox, extra: string[] = [], env: Record<string, string> = {}) {
  const r = await startServe(s, extra, { env });
  running.push(r.p);
  return r;
}

function put(url: string, name: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(`${url}/api/v1/files/${encodeURIComponent(name)}`, {
    method: "PUT",
    body: typeof body === "string" ? body : new Uint8Array(body),
    headers: { "x-sluice-request": "1", ...headers },
  });
}

async function ingested(s: Sandbox, id: string) {
  await waitUntil(() => readManifest(s.manifests).some((l) => l.ingest_id === id), 30_000, `ingest of ${id}`);
  return readManifest(s.manifests).find((l) => l.ingest_id === id);
}

/** Nothing of a refused request reaches the pipeline: no file or temp in staging, a later sentinel is all there is. */
async function expectNothingIngestedBut(s: Sandbox, url: string): Promise<void> {
  expect(listFiles(s.input)).toEqual([]);
  const res = await put(url, "sentinel.txt", "sentinel\n");
  expect(res.status).toBe(202);
  await ingested(s, ((await res.json()) as { id: string }).id);
  expect(readManifest(s.manifests).map((l) => l.name)).toEqual(["sentinel.txt"]);
  expect(listFiles(s.input)).toEqual([]);
}

describe("PUT /api/v1/files/{name} on sluice serve", () => {
  it("curl -T (Content-Length, Expect: 100-continue, a digest): 202, ingested under its id with its SHA-256", async () => {
    const s = sandbox();
    const { url } = await serve(s);
    const data = randomBytes(3 << 20);
    const path = join(s.root, "curl body.bin");
    writeFileSync(path, data);
    const md5 = createHash("md5").update(data).digest("base64");
    const { stdout } = await exec("curl", [
      "-sS",
      "-T",
      path,
      "-H",
      "X-Sluice-Request: 1",
      "-H",
      `Content-MD5: ${md5}`,
      "-H",
      `X-Sluice-Sha256: ${sha256(data)}`,
      "-w",
      "\\n%{http_code}",
      `${url}/api/v1/files/curl%20body.bin`,
    ]);
    const [body, code] = stdout.split("\n");
    expect(code).toBe("202");
    const { id, name } = JSON.parse(body as string) as { id: string; name: string };
    expect(name).toBe("curl body.bin");
    expect(await ingested(s, id)).toMatchObject({ name: "curl body.bin", sha256: sha256(data), size: data.length });
    expect(uploadTemps(s.input)).toEqual([]);
  });

  it("a chunked body: 202 and ingested whole", async () => {
    const s = sandbox();
    const { port } = await serve(s);
    const c = await rawConnect(port);
    const pieces = [randomBytes(70_000), Buffer.from("middle"), randomBytes(1 << 20)];
    c.socket.write(putChunkedHead("chunked.bin", port));
    for (const p of pieces) {
      c.socket.write(chunk(p));
      await sleep(20);
    }
    c.socket.write(LAST_CHUNK);
    await waitUntil(() => c.received().includes("}"), 10_000, "the answer");
    expect(c.received()).toMatch(/^HTTP\/1\.1 202 /);
    const id = /"id":"([^"]+)"/.exec(c.received())?.[1] as string;
    expect(await ingested(s, id)).toMatchObject({ name: "chunked.bin", sha256: sha256(Buffer.concat(pieces)) });
    c.socket.destroy();
  });

  it("an empty body (Content-Length: 0, or a chunked body of no chunk) is an empty file, ingested", async () => {
    const s = sandbox();
    const { port } = await serve(s);
    for (const [name, request] of [
      ["empty.txt", putHead("empty.txt", 0, port)],
      ["empty2.txt", `${putChunkedHead("empty2.txt", port)}${LAST_CHUNK}`],
    ] as const) {
      const c = await rawConnect(port);
      c.socket.write(request);
      await waitUntil(() => c.received().includes("}"), 10_000, `the answer to ${name}`);
      expect(c.received()).toMatch(/^HTTP\/1\.1 202 /);
      const id = /"id":"([^"]+)"/.exec(c.received())?.[1] as string;
      expect(await ingested(s, id)).toMatchObject({ name, size: 0, sha256: sha256("") });
      c.socket.destroy();
    }
  });

  it("a client gone mid-body, with a Content-Length or chunked: nothing kept, no temp file left", async () => {
    const s = sandbox();
    const { url, port } = await serve(s);
    const sized = await rawConnect(port);
    sized.socket.write(`${putHead("cut.csv", 100_000, port)}a,b\n1,2\n`);
    const chunked = await rawConnect(port);
    chunked.socket.write(Buffer.concat([Buffer.from(putChunkedHead("cut2.csv", port)), chunk("a,b\n1,2\n")]));
    await waitUntil(() => uploadTemps(s.input).length === 2, 5_000, "both temp files");
    sized.socket.destroy();
    chunked.socket.destroy();
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp files to be removed");
    await expectNothingIngestedBut(s, url);
  });

  it("a Content-Length larger than the body, then silence: 408 at --body-idle-timeout, nothing kept", async () => {
    const s = sandbox();
    const { p, url, port } = await serve(s, ["--body-idle-timeout", "1"]);
    const c = await rawConnect(port);
    c.socket.write(`${putHead("short.csv", 1000, port)}complete rows, short body\n`);
    await waitUntil(() => uploadTemps(s.input).length === 1, 5_000, "the upload's temp file");
    const closedAfter = await within(c.closed, 10_000);
    expect(closedAfter).not.toBe("open");
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.received()).toContain('"code":"SLUICE_ERR_REQUEST_TIMEOUT"');
    expect(p.named("upload_timeout")[0]).toMatchObject({ reason: "body_idle" });
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp file to be removed");
    await expectNothingIngestedBut(s, url);
  });

  it("413 over --max-upload-bytes: declared (before any byte is read) or streamed past it, the client reads it", async () => {
    const s = sandbox();
    const { url, port } = await serve(s, ["--max-upload-bytes", "1000"]);
    // Declared: answered from the head alone.
    const declared = await rawConnect(port);
    declared.socket.write(putHead("big.bin", 5000, port));
    await waitUntil(() => declared.received().includes("}"), 5_000, "the 413");
    expect(declared.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.received()).toContain('"code":"SLUICE_ERR_PAYLOAD_TOO_LARGE"');
    declared.socket.destroy();
    // Chunked: no size up front, refused by the count while writing.
    const streamed = await rawConnect(port);
    streamed.socket.write(Buffer.concat([Buffer.from(putChunkedHead("big2.bin", port)), chunk(Buffer.alloc(800, 1))]));
    await sleep(100);
    streamed.socket.write(chunk(Buffer.alloc(800, 2)));
    await waitUntil(() => streamed.received().includes("}"), 5_000, "the 413");
    expect(streamed.received()).toMatch(/^HTTP\/1\.1 413 /);
    streamed.socket.destroy();
    // fetch sending 32 MiB reads its 413, never a reset under its writes (the linger drops the rest first).
    const res = await put(url, "huge.bin", Buffer.alloc(32 << 20, 7));
    expect([res.status, ((await res.json()) as { code: string }).code]).toEqual([413, "SLUICE_ERR_PAYLOAD_TOO_LARGE"]);
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp files to be removed");
    await expectNothingIngestedBut(s, url);
  });

  it("a body that does not have its header's digest: 400, nothing kept", async () => {
    const s = sandbox();
    const { url } = await serve(s);
    const data = randomBytes(2 << 20);
    const wrong = createHash("sha256").update("other").digest("base64");
    const res = await put(url, "bad.bin", data, { "x-amz-checksum-sha256": wrong });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { code: string }).code).toBe("SLUICE_ERR_UPLOAD_DIGEST_MISMATCH");
    await expectNothingIngestedBut(s, url);
  });

  it("PUT and POST share --max-uploads-per-client: two stalled PUTs hold it, a POST is refused 503", async () => {
    const s = sandbox();
    const { url, port } = await serve(s, ["--max-uploads-per-client", "2"]);
    const stalled = [];
    for (const name of ["s1.csv", "s2.csv"]) {
      const c = await rawConnect(port);
      c.socket.write(`${putHead(name, 100_000, port)}a,b\n`);
      stalled.push(c);
    }
    await waitUntil(() => uploadTemps(s.input).length === 2, 5_000, "two uploads in flight");
    const post = await rawConnect(port);
    post.socket.write(`${uploadHead(100_000, port)}${partHead("third.csv")}a,b\n`);
    expect(await within(post.closed, 5_000)).not.toBe("open");
    expect(post.received()).toMatch(/^HTTP\/1\.1 503 /);
    const third = await put(url, "third.csv", "x\n");
    expect(third.status).toBe(503);
    for (const c of stalled) c.socket.destroy();
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp files to be removed");
    await expectNothingIngestedBut(s, url);
  });

  it("asks for the token when one is set", async () => {
    const s = sandbox();
    const token = "s3cret-token-0123456789";
    const { url } = await serve(s, [], { SLUICE_API_TOKEN: token });
    expect((await put(url, "a.txt", "a")).status).toBe(401);
    expect((await put(url, "a.txt", "a", { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await put(url, "a.txt", "a", { authorization: `Bearer ${token}` })).status).toBe(202);
  });

  it("sluice upload sends PUT: the file is ingested with its SHA-256 and /metrics counts a PUT 202", async () => {
    const s = sandbox();
    const { url } = await serve(s);
    const data = randomBytes(5 << 20);
    const path = join(s.root, "via cli.bin");
    writeFileSync(path, data);
    const { stdout } = await exec(process.execPath, [SLUICE_BIN, "upload", path, "--server", url, "--wait", "--json"]);
    const [view] = JSON.parse(stdout.trim().split("\n").pop() as string) as { status: string; sha256: string }[];
    expect(view).toMatchObject({ status: "processed", sha256: sha256(data), name: "via cli.bin" });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(
      /sluice_http_request_duration_seconds_count\{method="PUT",route="\/api\/v1\/files\/:id",status_code="202"\} 1/,
    );
    expect(metrics).not.toMatch(/method="POST",route="\/api\/v1\/files"/);
  });
});
