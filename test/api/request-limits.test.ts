import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { useRunning } from "../support/cli.js";
import { sleep, useSandboxes } from "../support/fixtures.js";
import {
  BOUNDARY,
  multipartBody,
  partHead,
  rawConnect,
  startServe,
  uploadHead,
  uploadTemps,
  waitUntil,
  within,
} from "../support/raw-http.js";
import { listFiles, readManifest, type Sandbox } from "../support/sandbox.js";
import { useTinyDisks } from "../support/tiny-disk.js";

/**
 * Issue 18 (V1, W2, W3) against a real `sluice serve` over real sockets: every
 * phase of a request has a time bound, uploads in flight are bounded per
 * client and in all, a multipart request is all or nothing, numeric query
 * values are checked, and a 5xx is logged.
 */

const sandbox = useSandboxes();
const tinyDisk = useTinyDisks();
const running = useRunning();

async function serve(s: Sandbox, extra: string[] = []) {
  const r = await startServe(s, extra);
  running.push(r.p);
  return r;
}

/** An upload whose headers and first part's opening are sent, then nothing: the probe's V1 request. */
async function stalledUpload(port: number, localAddress?: string) {
  const c = await rawConnect(port, localAddress ? { localAddress } : {});
  c.socket.write(`${uploadHead(100_000, port)}${partHead("stalled.csv")}a,b\n1,2\n`);
  return c;
}

async function post(url: string, body: Buffer): Promise<Response> {
  return fetch(`${url}/api/v1/files`, {
    method: "POST",
    body: new Uint8Array(body),
    headers: { "content-type": `multipart/form-data; boundary=${BOUNDARY}`, "x-sluice-request": "1" },
  });
}

/**
 * Nothing of a refused request reaches the pipeline: staging holds no file and no temp, and a sentinel uploaded
 * after it is the only file ever ingested (the pipeline finished it, so anything offered before would be done too).
 */
async function expectNothingIngestedBut(s: Sandbox, url: string): Promise<void> {
  expect(listFiles(s.input)).toEqual([]);
  const res = await post(url, multipartBody([{ name: "sentinel.txt", data: "sentinel\n" }]));
  expect(res.status).toBe(202);
  const { id } = (await res.json()) as { id: string };
  await waitUntil(() => readManifest(s.manifests).some((l) => l.ingest_id === id), 30_000, "the sentinel");
  expect(readManifest(s.manifests).map((l) => l.name)).toEqual(["sentinel.txt"]);
  expect(listFiles(s.input)).toEqual([]);
}

describe("time limits", () => {
  it("a stalled upload is answered 408 and closed at --body-idle-timeout, its temp file removed", async () => {
    const s = sandbox();
    const { p, port } = await serve(s, ["--body-idle-timeout", "1"]);
    const c = await stalledUpload(port);
    await waitUntil(() => uploadTemps(s.input).length === 1, 5_000, "the upload's temp file");
    const closedAfter = await within(c.closed, 10_000);
    expect(closedAfter).not.toBe("open");
    expect(closedAfter).toBeGreaterThanOrEqual(900);
    expect(closedAfter).toBeLessThan(5_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(c.received()).toContain('"code":"SLUICE_ERR_REQUEST_TIMEOUT"');
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp file to be removed");
    expect(p.named("upload_timeout")[0]).toMatchObject({ reason: "body_idle" });
    c.socket.destroy();
  });

  it("a body dripped one byte at a time is cut at --upload-timeout, nothing of it kept", async () => {
    const s = sandbox();
    const { url, port } = await serve(s, [
      "--body-idle-timeout",
      "5",
      "--upload-timeout",
      "2",
      "--headers-timeout",
      "1",
    ]);
    const c = await rawConnect(port);
    c.socket.write(uploadHead(100_000, port) + partHead("dripped.csv"));
    const drip = setInterval(() => {
      if (!c.isClosed()) c.socket.write("x");
    }, 200);
    try {
      const closedAfter = await within(c.closed, 10_000);
      expect(closedAfter).not.toBe("open");
      expect(closedAfter).toBeGreaterThanOrEqual(1_900);
      expect(closedAfter).toBeLessThan(5_000);
      expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
      await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp file to be removed");
      await expectNothingIngestedBut(s, url);
    } finally {
      clearInterval(drip);
    }
  });

  it("headers that never finish are answered 408 and closed at --headers-timeout", async () => {
    const s = sandbox();
    const { port } = await serve(s, ["--headers-timeout", "1"]);
    const c = await rawConnect(port);
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `);
    // A connection that sends nothing at all holds a descriptor just the same.
    const silent = await rawConnect(port);
    const closedAfter = await within(c.closed, 10_000);
    expect(closedAfter).not.toBe("open");
    expect(closedAfter).toBeLessThan(4_000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(await within(silent.closed, 5_000)).not.toBe("open");
  });
});

describe("uploads in flight", () => {
  it("past --max-uploads-per-client or --max-uploads: 503 with Retry-After, before any body is read", async () => {
    const s = sandbox();
    const { url, port } = await serve(s, ["--max-uploads-per-client", "2", "--max-uploads", "3"]);
    const a1 = await stalledUpload(port);
    const a2 = await stalledUpload(port);
    await waitUntil(() => uploadTemps(s.input).length === 2, 5_000, "two uploads in flight");
    // A third from the same address: its own bound.
    const a3 = await stalledUpload(port);
    expect(await within(a3.closed, 5_000)).not.toBe("open");
    expect(a3.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(a3.received()).toMatch(/\r\nretry-after: 5\r\n/i);
    expect(a3.received()).toContain('"code":"SLUICE_ERR_TOO_MANY_UPLOADS"');
    // Another address takes the last slot of the total; its second is refused by the total.
    const b1 = await stalledUpload(port, "127.0.0.2");
    await waitUntil(() => uploadTemps(s.input).length === 3, 5_000, "three uploads in flight");
    const b2 = await stalledUpload(port, "127.0.0.2");
    expect(await within(b2.closed, 5_000)).not.toBe("open");
    expect(b2.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(b2.received()).toContain("--max-uploads");
    expect(uploadTemps(s.input)).toHaveLength(3);
    // The rest of the API still answers.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    // A client that goes away frees its slot and its temp file.
    a1.socket.destroy();
    await waitUntil(() => uploadTemps(s.input).length === 2, 5_000, "a1's temp file to be removed");
    const ok = await post(url, multipartBody([{ name: "after.txt", data: "after\n" }]));
    expect(ok.status).toBe(202);
    for (const c of [a2, b1]) c.socket.destroy();
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "every temp file to be removed");
  });
});

describe("a multipart request is all or nothing", () => {
  it("a good part then an oversized one: 413 and neither is ingested", async () => {
    const s = sandbox();
    const { url } = await serve(s, ["--max-upload-bytes", "1000"]);
    const res = await post(
      url,
      multipartBody([
        { name: "good.txt", data: "good\n" },
        { name: "big.bin", data: Buffer.alloc(5000, 1) },
      ]),
    );
    await expectNothingIngestedBut(s, url);
    expect(uploadTemps(s.input)).toEqual([]);
    expect(res.status).toBe(413);
  });

  it("refused parts, with a small body or 32 MiB still coming: the client reads the 400, never a reset", async () => {
    // Cutting the connection at the answer reset it under fetch's writes ("fetch failed", EPIPE): the linger reads
    // and drops the rest first.
    const s = sandbox();
    const { url } = await serve(s);
    const body = multipartBody([
      { name: "..", data: "refused name" },
      { name: "big.bin", data: Buffer.alloc(32 << 20, 97) },
    ]);
    const small = multipartBody([{ name: "..", data: "refused" }]);
    for (let i = 0; i < 200; i++) {
      const res = await post(url, i % 20 === 0 ? body : small);
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: "SLUICE_ERR_INVALID_PARAMETER_TYPE" });
    }
    await expectNothingIngestedBut(s, url);
  });

  it("101 files: 413 and none of the first 100 is ingested", async () => {
    const s = sandbox();
    const { url } = await serve(s);
    const parts = Array.from({ length: 101 }, (_, i) => ({ name: `f${i}.txt`, data: `file ${i}\n` }));
    const res = await post(url, multipartBody(parts));
    const body = (await res.json()) as { code: string };
    await expectNothingIngestedBut(s, url);
    expect(uploadTemps(s.input)).toEqual([]);
    expect(res.status).toBe(413);
    expect(body.code).toBe("SLUICE_ERR_PAYLOAD_TOO_LARGE");
  });

  it("a client gone after one whole part, inside the next: neither is ingested, no temp file left", async () => {
    const s = sandbox();
    const { url, port } = await serve(s);
    const first = multipartBody([{ name: "whole.txt", data: "a whole part\n" }], false);
    const c = await rawConnect(port);
    c.socket.write(
      Buffer.concat([Buffer.from(uploadHead(100_000, port)), first, Buffer.from(`${partHead("cut.txt")}half`)]),
    );
    await waitUntil(() => uploadTemps(s.input).length >= 1, 5_000, "the parts' temp files");
    await sleep(300);
    const held = uploadTemps(s.input).length;
    c.socket.destroy();
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp files to be removed");
    await expectNothingIngestedBut(s, url);
    expect(held).toBe(2); // the whole part was held back in its temp file, beside the cut one
  });

  it("a Content-Length larger than the body: answered 408 by the body-idle timeout, nothing ingested", async () => {
    const s = sandbox();
    const { url, port } = await serve(s, ["--body-idle-timeout", "1"]);
    const body = multipartBody([{ name: "short.txt", data: "complete part, short body\n" }]);
    const c = await rawConnect(port);
    c.socket.write(Buffer.concat([Buffer.from(uploadHead(body.length + 1000, port)), body]));
    const closedAfter = await within(c.closed, 10_000);
    expect(closedAfter).not.toBe("open");
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "the temp file to be removed");
    await expectNothingIngestedBut(s, url);
  });
});

describe("errors", () => {
  it("numeric query values that are not plain digits in range answer 400, not 500", async () => {
    const s = sandbox();
    const { url } = await serve(s);
    const up = await post(url, multipartBody([{ name: "rows.csv", data: "a,b\n1,2\n" }]));
    const { id } = (await up.json()) as { id: string };
    await waitUntil(() => readManifest(s.manifests).length === 1, 30_000, "the file to be ingested");
    for (const q of [
      "files?limit=1e400",
      "files?limit=-1",
      "files?limit=Infinity",
      `files/${id}/invalid-rows?offset=1e20`,
      `files/${id}/invalid-rows?offset=100000000000000000000`,
      `files/${id}/invalid-rows?offset=Infinity`,
      `files/${id}/invalid-rows?offset=-1`,
      `files/${id}/invalid-rows?limit=1e400`,
      `files/${id}/invalid-rows?offset=0x10`,
    ]) {
      const res = await fetch(`${url}/api/v1/${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { code: string }).code, q).toBe("SLUICE_ERR_BAD_REQUEST");
    }
    expect((await fetch(`${url}/api/v1/files/${id}/invalid-rows?offset=0&limit=10`)).status).toBe(200);
  });

  it("a 5xx writes its detail to the log as api_error (a disk-full staging directory)", async () => {
    const staging = tinyDisk("1m");
    const s = sandbox({ input: staging });
    const { p, url } = await serve(s);
    const res = await post(url, multipartBody([{ name: "big.bin", data: Buffer.alloc(4 << 20, 7) }]));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { code: string; message: string };
    expect(body.code).toBe("SLUICE_ERR_INTERNAL");
    expect(body.message).not.toContain(staging);
    await p.waitForCount("api_error", 1, 5_000);
    const line = p.named("api_error")[0] as { err?: { code?: string; message?: string }; route?: string };
    expect(line.route).toBe("/api/v1/files");
    expect(line.err?.code).toBe("ENOSPC");
    await waitUntil(() => uploadTemps(staging).length === 0, 5_000, "the temp file to be removed");
    expect(existsSync(staging)).toBe(true);
  });
});
