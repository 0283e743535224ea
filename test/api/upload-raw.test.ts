import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UploadRegistry } from "../../src/service/upload-registry.js";
import type { Candidate } from "../../src/watch/candidate.js";
import { type UploadApp, uploadApp } from "../support/upload-app.js";

/**
 * PUT /api/v1/files/{name} through app.inject(): the body is the file. What
 * lands in staging (a real directory), what is handed to the pipeline, the
 * integrity headers, and every refusal in the API's error shape, mirroring
 * upload-route.test.ts for POST. Sockets (cut-off bodies, timeouts, limits in
 * flight, ingestion) are upload-raw-serve.test.ts.
 */

let root: string;
let up: UploadApp;
let staging: string;
let app: FastifyInstance;
let offered: Candidate[];
let registry: UploadRegistry;

const MAX = 1000;
const b64 = (alg: string, data: string | Buffer) => createHash(alg).update(data).digest("base64");
const hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

function put(name: string, payload: string | Buffer | Readable, headers: Record<string, string> = {}) {
  return app.inject({
    method: "PUT",
    url: `/api/v1/files/${name}`,
    payload,
    headers: { "x-sluice-request": "1", ...headers },
  });
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "sluice-upload-raw-"));
  up = await uploadApp(root, { maxUploadBytes: MAX });
  ({ app, staging, offered, registry } = up);
});

afterEach(async () => {
  await up.close();
  rmSync(root, { recursive: true, force: true });
});

describe("PUT /api/v1/files/{name}", () => {
  it("puts the body in staging under its name, hands it to the pipeline and answers 202 as POST does", async () => {
    const res = await put("a.csv", "x,y\n1,2\n", { "content-type": "text/csv" });
    expect(res.statusCode).toBe(202);
    const body = res.json() as { id: string; name: string; status: string; files: unknown[] };
    expect(body).toMatchObject({ name: "a.csv", status: "waiting", files: [{ id: body.id, name: "a.csv" }] });
    expect(readdirSync(staging)).toEqual(["a.csv"]);
    expect(readFileSync(join(staging, "a.csv"), "utf8")).toBe("x,y\n1,2\n");
    expect(offered.map((c) => c.name)).toEqual(["a.csv"]);
    expect(registry.idFor((offered[0] as Candidate).identity)).toBe(body.id);
    const waiting = await app.inject({ method: "GET", url: `/api/v1/files/${body.id}` });
    expect(waiting.json()).toMatchObject({ status: "waiting", name: "a.csv" });
  });

  it("never parses the body, whatever its Content-Type says (JSON, none, chunked)", async () => {
    // A JSON body is the file's bytes, not an object Fastify parsed and re-serialized.
    const json = '{ "a" : 1 ,"b":[1,2] }';
    expect((await put("j.json", json, { "content-type": "application/json" })).statusCode).toBe(202);
    expect(readFileSync(join(staging, "j.json"), "utf8")).toBe(json);
    // No Content-Type, no Content-Length: a stream (inject sends it chunked).
    const res = await put("s.bin", Readable.from([Buffer.from("ab"), Buffer.from("cd")]));
    expect(res.statusCode).toBe(202);
    expect(readFileSync(join(staging, "s.bin"), "utf8")).toBe("abcd");
    // An empty file is a file.
    expect((await put("empty.txt", "")).statusCode).toBe(202);
    expect(readFileSync(join(staging, "empty.txt"), "utf8")).toBe("");
  });

  it("gives a second upload of a name still waiting a distinct name, never overwriting", async () => {
    await put("r.txt", "one");
    const second = (await put("r.txt", "two")).json() as { id: string; name: string };
    expect(second.name).toBe(`r.${second.id.slice(-8)}.txt`);
    expect(readFileSync(join(staging, "r.txt"), "utf8")).toBe("one");
    expect(readFileSync(join(staging, second.name), "utf8")).toBe("two");
  });

  it("makes a hostile name safe, or refuses it with POST's 400 Invalid Parameter Type", async () => {
    const safe = await put("..%2F..%2Fetc%2Fevil.txt", "evil");
    expect([safe.statusCode, safe.json().name]).toEqual([202, "evil.txt"]);
    const back = await put("a%5C..%5Cwin.txt", "w");
    expect([back.statusCode, back.json().name]).toEqual([202, "win.txt"]);
    for (const name of [
      ".hidden",
      "partial.part",
      "x.ok",
      "X.OK",
      "sub%2F%2E%2E",
      "a%00b%2F..",
      "%20",
      "x".repeat(256),
      "%C3%A9".repeat(128),
      "a.tmp",
    ]) {
      const res = await put(name, "x");
      expect(res.statusCode, name).toBe(400);
      expect(res.json(), name).toMatchObject({
        error: "Invalid Parameter Type",
        code: "SLUICE_ERR_INVALID_PARAMETER_TYPE",
      });
    }
    // 255 bytes (127 two-byte characters and one more) is a name POST takes: so does PUT, percent-encoded (763 chars).
    const longest = `${"é".repeat(127)}x`;
    const long = await put(encodeURIComponent(longest), "l");
    expect([long.statusCode, long.json().name]).toEqual([202, longest]);
    expect(readdirSync(staging).sort()).toEqual(["evil.txt", longest, "win.txt"].sort());
  });

  it("answers 413 above --max-upload-bytes, declared or streamed, and leaves nothing in staging", async () => {
    const declared = await put("big.bin", "z".repeat(MAX + 1));
    expect(declared.statusCode).toBe(413);
    expect(declared.json()).toMatchObject({ code: "SLUICE_ERR_PAYLOAD_TOO_LARGE", statusCode: 413 });
    // Chunked: no Content-Length to refuse up front; the count while writing stops it.
    const streamed = await put("big.bin", Readable.from([Buffer.alloc(600, 1), Buffer.alloc(600, 2)]));
    expect(streamed.statusCode).toBe(413);
    expect(streamed.json()).toMatchObject({ code: "SLUICE_ERR_PAYLOAD_TOO_LARGE" });
    expect(readdirSync(staging)).toEqual([]);
    expect(offered).toEqual([]);
    // Exactly the limit is accepted.
    expect((await put("max.bin", Buffer.alloc(MAX, 3))).statusCode).toBe(202);
  });

  it("checks each integrity header it is given: the right digest is accepted", async () => {
    const data = "id,v\n1,2\n";
    const cases: Record<string, string>[] = [
      { "content-md5": b64("md5", data) },
      { "x-amz-checksum-sha256": b64("sha256", data) },
      { digest: `sha-256=${b64("sha256", data)}` },
      { digest: `SHA-256=${b64("sha256", data)}, md5=${b64("md5", data)}, unixsum=30637` },
      { "x-sluice-sha256": hex(data).toUpperCase() },
      { "content-md5": b64("md5", data), "x-sluice-sha256": hex(data), "x-amz-checksum-sha256": b64("sha256", data) },
    ];
    for (const [i, headers] of cases.entries()) {
      const res = await put(`ok${i}.csv`, data, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(202);
    }
    expect(readdirSync(staging)).toHaveLength(cases.length);
  });

  it("a body whose digest is not the header's: 400 SLUICE_ERR_UPLOAD_DIGEST_MISMATCH, nothing kept", async () => {
    const data = "id,v\n1,2\n";
    const other = "id,v\n1,3\n";
    const cases: [Record<string, string>, string][] = [
      [{ "content-md5": b64("md5", other) }, "Content-MD5"],
      [{ "x-amz-checksum-sha256": b64("sha256", other) }, "x-amz-checksum-sha256"],
      [{ digest: `sha-256=${b64("sha256", other)}` }, "Digest sha-256"],
      [{ digest: `md5=${b64("md5", other)}` }, "Digest md5"],
      [{ "x-sluice-sha256": hex(other) }, "X-Sluice-Sha256"],
      // One right and one wrong is wrong.
      [{ "content-md5": b64("md5", data), "x-sluice-sha256": hex(other) }, "X-Sluice-Sha256"],
    ];
    for (const [headers, named] of cases) {
      const res = await put("bad.csv", data, headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
      expect(res.json()).toMatchObject({ code: "SLUICE_ERR_UPLOAD_DIGEST_MISMATCH", error: "Upload digest mismatch" });
      expect(res.json().message).toContain(named);
    }
    expect(readdirSync(staging)).toEqual([]);
    expect(offered).toEqual([]);
  });

  it("a malformed integrity header: 400 Bad request before the body is written", async () => {
    const malformed: Record<string, string>[] = [
      { "content-md5": "not base64!" },
      { "content-md5": b64("sha256", "x") }, // the right encoding of the wrong length
      { "x-amz-checksum-sha256": `${b64("sha256", "x")}AA` },
      { digest: "sha-256=abc" },
      { "x-sluice-sha256": "abc" },
      { "x-sluice-sha256": "g".repeat(64) },
    ];
    for (const headers of malformed) {
      const res = await put("m.csv", "x", headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(400);
      expect(res.json().code).toBe("SLUICE_ERR_BAD_REQUEST");
    }
    expect(readdirSync(staging)).toEqual([]);
  });

  it("is guarded as POST: 403 without X-Sluice-Request or from another site, 401 without the token", async () => {
    const noHeader = await app.inject({ method: "PUT", url: "/api/v1/files/a.csv", payload: "x" });
    expect([noHeader.statusCode, noHeader.json().code]).toEqual([403, "SLUICE_ERR_REQUEST_HEADER_MISSING"]);
    const cross = await put("a.csv", "x", { origin: "https://evil.example" });
    expect([cross.statusCode, cross.json().code]).toEqual([403, "SLUICE_ERR_CROSS_SITE"]);
    await up.close();
    up = await uploadApp(root, { maxUploadBytes: MAX, apiToken: "raw-upload-token-123" });
    ({ app, staging } = up);
    expect((await put("a.csv", "x")).statusCode).toBe(401);
    expect((await put("a.csv", "x", { authorization: "Bearer wrong" })).statusCode).toBe(401);
    expect((await put("a.csv", "x", { authorization: "Bearer raw-upload-token-123" })).statusCode).toBe(202);
    expect(readdirSync(staging)).toEqual(["a.csv"]);
  });
});
