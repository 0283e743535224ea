import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UploadRegistry } from "../../src/service/upload-registry.js";
import type { Candidate } from "../../src/watch/candidate.js";
import { type UploadApp, uploadApp } from "../support/upload-app.js";

/**
 * POST /api/v1/files through app.inject(): what lands in staging (a real
 * directory), what is handed to the pipeline, and every refusal in the
 * API's error shape.
 */

let root: string;
let up: UploadApp;
let staging: string;
let app: FastifyInstance;
let offered: Candidate[];
let registry: UploadRegistry;

function multipart(parts: { field?: string; name?: string; data: string }[], boundary = "XyZ"): string {
  return `${parts
    .map(
      (p) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${p.field ?? "file"}"${p.name === undefined ? "" : `; filename="${p.name}"`}\r\n` +
        `${p.name === undefined ? "" : "Content-Type: application/octet-stream\r\n"}\r\n${p.data}\r\n`,
    )
    .join("")}--${boundary}--\r\n`;
}

function post(body: string, headers: Record<string, string> = {}) {
  return app.inject({
    method: "POST",
    url: "/api/v1/files",
    payload: body,
    headers: { "content-type": "multipart/form-data; boundary=XyZ", "x-sluice-request": "1", ...headers },
  });
}

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "sluice-upload-"));
  up = await uploadApp(root, { maxUploadBytes: 1000 });
  ({ app, staging, offered, registry } = up);
});

afterEach(async () => {
  await up.close();
  rmSync(root, { recursive: true, force: true });
});

describe("POST /api/v1/files", () => {
  it("puts each file in staging under a safe name, hands it to the pipeline and answers 202 with its id", async () => {
    const res = await post(
      multipart([
        { name: "a.csv", data: "x,y\n1,2\n" },
        { name: "../../etc/evil.txt", data: "evil" },
      ]),
    );
    expect(res.statusCode).toBe(202);
    const body = res.json() as { files: { id: string; name: string; status: string }[] };
    expect(body.files.map((f) => f.name)).toEqual(["a.csv", "evil.txt"]);
    expect(body.files.every((f) => f.status === "waiting")).toBe(true);
    expect(readdirSync(staging).sort()).toEqual(["a.csv", "evil.txt"]);
    expect(readFileSync(join(staging, "evil.txt"), "utf8")).toBe("evil");
    expect(offered.map((c) => c.name)).toEqual(["a.csv", "evil.txt"]);
    // The pipeline will ingest each under the id the client got.
    for (const [i, c] of offered.entries()) expect(registry.idFor(c.identity)).toBe(body.files[i]?.id);
    const waiting = await app.inject({ method: "GET", url: `/api/v1/files/${body.files[0]?.id}` });
    expect(waiting.json()).toMatchObject({ status: "waiting", name: "a.csv" });
  });

  it("gives a second upload of a name still waiting in staging a distinct name, never overwriting", async () => {
    const first = (await post(multipart([{ name: "r.txt", data: "one" }]))).json() as { id: string };
    const second = (await post(multipart([{ name: "r.txt", data: "two" }]))).json() as { id: string; name: string };
    expect(second.name).toBe(`r.${second.id.slice(-8)}.txt`);
    expect(readFileSync(join(staging, "r.txt"), "utf8")).toBe("one");
    expect(readFileSync(join(staging, second.name), "utf8")).toBe("two");
    expect(first.id).not.toBe(second.id);
  });

  it("answers 400 Missing file when no file part is sent", async () => {
    const res = await post(multipart([{ field: "note", data: "just a field" }]));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: "Missing file", code: "SLUICE_ERR_MISSING_FILE", statusCode: 400 });
  });

  it("answers 400 Invalid Parameter Type for a body that is not multipart, a wrong field, or a name never ingested", async () => {
    const json = await app.inject({
      method: "POST",
      url: "/api/v1/files",
      payload: { file: "x" },
      headers: { "x-sluice-request": "1" },
    });
    expect(json.statusCode).toBe(400);
    expect(json.json()).toMatchObject({ error: "Invalid Parameter Type", code: "SLUICE_ERR_INVALID_PARAMETER_TYPE" });
    for (const part of [
      { field: "upload", name: "a.txt", data: "x" },
      { name: ".hidden", data: "x" },
      { name: "partial.part", data: "x" },
      { name: "x.ok", data: "x" },
      { name: "..", data: "x" },
      { name: "a\u0000b/..", data: "x" },
    ]) {
      const res = await post(multipart([part]));
      expect(res.statusCode, JSON.stringify(part)).toBe(400);
      expect(res.json().error).toBe("Invalid Parameter Type");
    }
    expect(readdirSync(staging)).toEqual([]);
  });

  it("answers 413 above --max-upload-bytes and leaves nothing in staging", async () => {
    const res = await post(multipart([{ name: "big.bin", data: "z".repeat(5000) }]));
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({ code: "SLUICE_ERR_PAYLOAD_TOO_LARGE", statusCode: 413 });
    expect(readdirSync(staging)).toEqual([]);
    expect(offered).toEqual([]);
  });

  it("answers 400 for a malformed multipart body", async () => {
    // No boundary in the content type: the body cannot be split into parts at all. (A body cut short over a real
    // socket waits for more bytes until Node's request timeout, like any slow upload.)
    const res = await post(multipart([{ name: "t.txt", data: "x" }]), { "content-type": "multipart/form-data" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "SLUICE_ERR_BAD_REQUEST" });
    expect(readdirSync(staging)).toEqual([]);
  });
});
