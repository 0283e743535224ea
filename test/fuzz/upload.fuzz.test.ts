import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stagingNameFor, UnacceptableNameError } from "../../src/service/receive-upload.js";
import type { UploadRegistry } from "../../src/service/upload-registry.js";
import type { Candidate } from "../../src/watch/candidate.js";
import { makeIgnoreRule } from "../../src/watch/ignore-rules.js";
import { type UploadApp, uploadApp } from "../support/upload-app.js";
import { hostileString, makeRoot, params, removeRoot, tree, withinTime } from "./support.js";

/**
 * The upload path of the HTTP API: the staging name derived from a client's
 * filename (src/service/receive-upload.ts stagingNameFor), POST /api/v1/files
 * with arbitrary multipart bodies (src/api/routes/upload.ts, through
 * app.inject), and the bearer-token check (src/api/auth.ts).
 */

const isIgnored = makeIgnoreRule([]);
const MAX_UPLOAD = 2000;
const TOKEN = "s3cret-Token_1";

/** A client filename: hostile pieces, arbitrary Unicode, or long runs around the 255-byte limit. */
const clientName = fc.oneof(
  { weight: 4, arbitrary: hostileString({ maxPieces: 8 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: "binary" }) },
  { weight: 1, arbitrary: fc.integer({ min: 250, max: 260 }).map((k) => `${"é".repeat(Math.floor(k / 2))}.csv`) },
);

describe("stagingNameFor", () => {
  it("gives a plain file name directly inside staging, or refuses with a reason", () => {
    const staging = "/srv/staging";
    fc.assert(
      fc.property(clientName, (raw) => {
        let name: string;
        try {
          name = stagingNameFor(raw, isIgnored);
        } catch (err) {
          expect(err).toBeInstanceOf(UnacceptableNameError);
          expect((err as Error).message.length).toBeGreaterThan(0);
          return;
        }
        // Only the last segment, without controls, trimmed: never a path, never a name the watcher skips.
        const last = raw.split(/[\\/]/).pop() ?? "";
        expect(name).toBe(last.replace(/[\u0000-\u001f\u007f]/g, "").trim());
        expect(name).not.toMatch(/[\\/\u0000-\u001f\u007f]/);
        expect(["", ".", ".."]).not.toContain(name);
        expect(Buffer.byteLength(name)).toBeLessThanOrEqual(255);
        expect(isIgnored(name)).toBe(false);
        expect(name.toLowerCase().endsWith(".ok")).toBe(false);
        expect(dirname(resolve(staging, name))).toBe(staging);
      }),
      params("stagingNameFor", 0x0b0001, 3000),
    );
  });
});

let root: string;
let up: UploadApp;
let staging: string;
let app: FastifyInstance;
let offered: Candidate[];
let registry: UploadRegistry;

beforeAll(async () => {
  root = makeRoot("upload");
  up = await uploadApp(root, { apiToken: TOKEN, maxUploadBytes: MAX_UPLOAD, isIgnored });
  ({ app, staging, offered, registry } = up);
});

afterAll(async () => {
  await up?.close();
  removeRoot(root);
});

interface Part {
  field: string;
  /** undefined: a plain form field (no filename). */
  filename: string | undefined;
  /** How the filename is written: quoted, RFC 5987 `filename*`, or unquoted. */
  style: "quoted" | "star" | "bare";
  type: string | undefined;
  data: Buffer;
}

const part: fc.Arbitrary<Part> = fc.record({
  field: fc.oneof(
    { weight: 5, arbitrary: fc.constant("file") },
    { weight: 1, arbitrary: fc.constantFrom("upload", "", "File", "file\r\nx") },
  ),
  filename: fc.oneof({ weight: 6, arbitrary: clientName }, { weight: 1, arbitrary: fc.constant(undefined) }),
  style: fc.constantFrom("quoted", "quoted", "star", "bare"),
  type: fc.constantFrom(undefined, "application/octet-stream", "text/csv", "multipart/mixed; boundary=zz"),
  data: fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
    fc
      .constantFrom("--XyZ", "\r\n--XyZ--\r\n", '--XyZ\r\nContent-Disposition: form-data; name="file"')
      .map((s) => Buffer.from(s)),
    fc.integer({ min: MAX_UPLOAD - 2, max: MAX_UPLOAD + 2 }).map((k) => Buffer.alloc(k, 0x61)),
  ),
});

function disposition(p: Part): string {
  let d = `form-data; name="${p.field}"`;
  if (p.filename === undefined) return d;
  if (p.style === "star") d += `; filename*=UTF-8''${encodeURIComponent(p.filename)}`;
  else if (p.style === "bare") d += `; filename=${p.filename}`;
  else d += `; filename="${p.filename.replaceAll('"', '\\"')}"`;
  return d;
}

function body(parts: Part[], boundary: string): Buffer {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Disposition: ${disposition(p)}\r\n`;
    if (p.type) head += `Content-Type: ${p.type}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`, "utf8"), p.data, Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/**
 * Garbles one byte of the body, cuts it short (BUG 13, fixed: a body ending
 * inside a file part used to hang the request), or leaves it alone.
 */
const damage = fc.oneof(
  { weight: 3, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("flip" as const), fc.nat()) },
  { weight: 1, arbitrary: fc.tuple(fc.constant("cut" as const), fc.nat()) },
);
const CLOSING = "\r\n--XyZ--\r\n".length;

const CODES = /^SLUICE_ERR_[A-Z_]+$/;

describe("POST /api/v1/files with arbitrary multipart bodies", () => {
  it("answers 202 with the files it staged, or a 4xx in the error shape; never a 5xx; nothing outside staging, no temp file left", async () => {
    const contentType = fc.constantFrom(
      "multipart/form-data; boundary=XyZ",
      "multipart/form-data; boundary=XyZ",
      "multipart/form-data; boundary=XyZ",
      "multipart/form-data",
      "multipart/form-data; boundary=other",
      "application/json",
      "text/plain",
    );
    await fc.assert(
      fc.asyncProperty(fc.array(part, { maxLength: 4 }), contentType, damage, async (parts, ctype, dmg) => {
        let payload = body(parts, "XyZ");
        if (dmg !== null && payload.length > CLOSING) {
          payload = Buffer.from(payload);
          const i = dmg[1] % (payload.length - CLOSING);
          if (dmg[0] === "flip") payload[i] = (payload[i] as number) ^ 0x5a;
          else payload = payload.subarray(0, i);
        }
        // A clean staging directory for each case, whatever the last one left.
        for (const f of readdirSync(staging)) rmSync(join(staging, f), { force: true });
        for (const c of offered.splice(0)) registry.settled(c.identity);
        const res = await withinTime("upload", 3_000, () =>
          app.inject({
            method: "POST",
            url: "/api/v1/files",
            payload,
            headers: { "content-type": ctype, authorization: `Bearer ${TOKEN}`, "x-sluice-request": "1" },
          }),
        );
        const status = res.statusCode;
        expect([202, 400, 413, 415], res.body).toContain(status);
        const staged = readdirSync(staging).sort();
        // Whatever the answer, what is in staging was handed to the pipeline, under its id, and no temp file stays.
        expect(staged.filter((f) => f.startsWith(".upload-"))).toEqual([]);
        expect(offered.map((c) => c.name).sort()).toEqual(staged);
        for (const c of offered) {
          expect(c.path).toBe(join(staging, c.name));
          expect(registry.idFor(c.identity)).toBeDefined();
        }
        if (status === 202) {
          const json = res.json() as { files: { id: string; name: string; status: string }[] };
          expect(json.files.map((f) => f.name).sort()).toEqual(staged);
          // Each staged file holds exactly the bytes of a file part that was sent (unless some data held the
          // boundary, which ends a part wherever it is: then the framing is the client's, not ours, to get right).
          const sent = parts.filter((p) => p.field === "file" && p.filename !== undefined).map((p) => p.data);
          const framed = parts.every((p) => !p.data.includes("--XyZ"));
          for (const f of framed && dmg === null ? staged : []) {
            const got = readFileSync(join(staging, f));
            expect(
              sent.some((d) => d.equals(got)),
              `${f} holds bytes no part sent`,
            ).toBe(true);
          }
        } else {
          const json = res.json() as { error: string; code: string; message: string; statusCode: number };
          expect(json.code).toMatch(CODES);
          expect(json.statusCode).toBe(status);
          expect(json.error.length).toBeGreaterThan(0);
          expect(json.message.length).toBeGreaterThan(0);
        }
        // Nothing was written next to staging.
        expect(
          tree(root).filter((e) => !e.startsWith("staging/") && e !== "staging/" && !e.startsWith("state.db")),
        ).toEqual([]);
      }),
      params("upload route multipart", 0x0b0002, 500),
    );
  });
});

describe("POST /api/v1/files with a body that ends inside a file", () => {
  // BUG 13: a request whose multipart body ends inside a file part (a well-formed HTTP request, e.g. Content-Length
  // bytes sent, whose multipart body lacks its closing delimiter: `--XyZ\r\nContent-Disposition: form-data;
  // name="file"; filename="a.csv"\r\n\r\naaaa…` cut anywhere after the part headers) is never answered: the part
  // stream never ends, receiveUpload's pipeline() waits forever, the hidden `staging/.upload-<id>.tmp` stays with
  // its descriptor open — also after the client closes the socket, and after app.close(); nothing removes such
  // files later (the watcher ignores hidden names). Seen over a real socket too. Each request leaks a descriptor, a
  // temp file and a pending handler: a client can exhaust descriptors. Expected: a 400 (malformed multipart
  // body), the temp file removed.
  // Fixed: the upload route ends a part's stream with an error once the request has no more bytes (upload.ts).
  it("BUG 13 (fixed): answers 400 within a second and leaves no temp file", async () => {
    const full = body(
      [{ field: "file", filename: "a.csv", style: "quoted", type: undefined, data: Buffer.alloc(100, 0x61) }],
      "XyZ",
    );
    const res = await Promise.race([
      app.inject({
        method: "POST",
        url: "/api/v1/files",
        payload: full.subarray(0, full.length - 20),
        headers: {
          "content-type": "multipart/form-data; boundary=XyZ",
          authorization: `Bearer ${TOKEN}`,
          "x-sluice-request": "1",
        },
      }),
      new Promise<null>((r) => setTimeout(() => r(null), 1000)),
    ]);
    expect(res?.statusCode).toBe(400);
    expect(readdirSync(staging).filter((f) => f.startsWith(".upload-"))).toEqual([]);
  });
});

describe("bearer token", () => {
  it("lets through exactly `Bearer <token>` (scheme in any case, spaces around), nothing else", async () => {
    const near = fc.oneof(
      fc.constant(TOKEN),
      fc.constantFrom(
        `${TOKEN} `,
        ` ${TOKEN}`,
        `${TOKEN}x`,
        TOKEN.slice(0, -1),
        TOKEN.toUpperCase(),
        `${TOKEN}\t`,
        `"${TOKEN}"`,
        "",
      ),
      fc.string({ maxLength: 20 }).filter((s) => /^[\x21-\x7e]*$/.test(s)),
    );
    const scheme = fc.constantFrom("Bearer", "bearer", "BEARER", "Basic", "Token", "", "Bearer:");
    await fc.assert(
      fc.asyncProperty(scheme, near, fc.constantFrom(" ", "  ", "\t"), fc.boolean(), async (sch, tok, sep, present) => {
        const header = `${sch}${sep}${tok}`;
        const res = await app.inject({
          method: "GET",
          url: "/api/v1/stats",
          headers: present ? { authorization: header } : {},
        });
        const parts = header.trim().split(/\s+/);
        const good = present && parts.length === 2 && parts[0]?.toLowerCase() === "bearer" && parts[1] === TOKEN;
        expect(res.statusCode === 401, `${JSON.stringify(header)} → ${res.statusCode}`).toBe(!good);
        if (!good) {
          expect(res.headers["www-authenticate"]).toMatch(/^Bearer realm="sluice"/);
          expect(res.json()).toMatchObject({ code: "SLUICE_ERR_UNAUTHORIZED", statusCode: 401 });
        }
      }),
      params("bearer token", 0x0b0003, 300),
    );
  });
});
