import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSluice, SluiceProcess } from "../support/cli.js";
import { sleep } from "../support/fixtures.js";
import { startServe } from "../support/raw-http.js";
import { listFiles, makeSandbox, type Sandbox } from "../support/sandbox.js";

/**
 * `sluice serve` without a token (the default of `npm start`), over a real
 * socket: what a page on another site, or a DNS-rebinding page, can send is
 * refused before it reaches staging; curl and the probes still get through.
 * Issue 18, V2 and W1; the browser's side is test/e2e/cross-site.test.ts.
 */

const exec = promisify(execFile);

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

let s: Sandbox;
let sluice: SluiceProcess;
let port: number;

beforeAll(async () => {
  s = makeSandbox();
  ({ p: sluice, port } = await startServe(s, [
    "--scan-interval",
    "1",
    "--allowed-host",
    "sluice.internal",
    "--allowed-host",
    "proxy-a.example,proxy-b.example",
  ]));
});

afterAll(async () => {
  if (sluice?.child.exitCode === null) await sluice.stop();
  s?.cleanup();
});

/** One request with exactly these headers (fetch would not let a test set Host). */
function send(method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path, headers, setHost: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: Record<string, unknown> = {};
        try {
          parsed = JSON.parse(text) as Record<string, unknown>;
        } catch {
          parsed = { text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** A multipart upload of one file, as a form post would send it, plus the given headers. */
function upload(name: string, headers: Record<string, string>): Promise<Answer> {
  const boundary = "sluice-test-boundary";
  const body = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      `Content-Type: text/csv\r\n\r\na,b\n1,${name}\n\r\n--${boundary}--\r\n`,
  );
  return send(
    "POST",
    "/api/v1/files",
    {
      host: `127.0.0.1:${port}`,
      "content-type": `multipart/form-data; boundary=${boundary}`,
      "content-length": String(body.length),
      ...headers,
    },
    body,
  );
}

const own = () => `127.0.0.1:${port}`;

describe("cross-site state changes without a token", () => {
  it("refuses a POST whose Origin is another site (403 SLUICE_ERR_CROSS_SITE), even with X-Sluice-Request", async () => {
    for (const origin of [
      "http://evil.example",
      `http://evil.example:${port}`,
      `http://127.0.0.1:${port + 1}`,
      "null",
    ]) {
      const r = await upload("from-evil.csv", { origin, "x-sluice-request": "1" });
      expect(r.status, origin).toBe(403);
      expect(r.body).toMatchObject({ code: "SLUICE_ERR_CROSS_SITE", statusCode: 403 });
    }
  });

  it("refuses a POST sent with Sec-Fetch-Site cross-site or same-site (403)", async () => {
    for (const site of ["cross-site", "same-site"]) {
      const r = await upload("fetch-site.csv", { "sec-fetch-site": site, "x-sluice-request": "1" });
      expect(r.status, site).toBe(403);
      expect(r.body).toMatchObject({ code: "SLUICE_ERR_CROSS_SITE" });
    }
  });

  it("refuses a POST without X-Sluice-Request (403 SLUICE_ERR_REQUEST_HEADER_MISSING), whatever else it carries", async () => {
    const extras: Record<string, string>[] = [{}, { origin: `http://${own()}` }, { "sec-fetch-site": "same-origin" }];
    for (const extra of extras) {
      const r = await upload("no-header.csv", extra);
      expect(r.status, JSON.stringify(extra)).toBe(403);
      expect(r.body).toMatchObject({ code: "SLUICE_ERR_REQUEST_HEADER_MISSING", statusCode: 403 });
      expect(String(r.body.message)).toContain("X-Sluice-Request: 1");
    }
  });

  it("accepts the page's own POST (same Origin, same-origin fetch) and curl's with the header", async () => {
    const same = await upload("same-origin.csv", {
      origin: `http://${own()}`,
      "sec-fetch-site": "same-origin",
      "x-sluice-request": "1",
    });
    expect(same.status).toBe(202);
    const csv = join(s.root, "by-curl.csv");
    writeFileSync(csv, "a,b\n1,curl\n");
    const { stdout } = await exec("curl", [
      "-sS",
      "-H",
      "X-Sluice-Request: 1",
      "-F",
      `file=@${csv}`,
      `http://${own()}/api/v1/files`,
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ name: "by-curl.csv", status: "waiting" });
  });

  it("grants no CORS preflight, so a browser never sends the header cross-origin", async () => {
    const r = await new Promise<{ status: number; allow: unknown }>((resolve, reject) => {
      const req = request(
        {
          host: "127.0.0.1",
          port,
          method: "OPTIONS",
          path: "/api/v1/files",
          headers: {
            host: own(),
            origin: "http://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "x-sluice-request",
          },
        },
        (res) => {
          res.resume();
          resolve({ status: res.statusCode ?? 0, allow: res.headers["access-control-allow-origin"] });
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(r).toEqual({ status: 404, allow: undefined });
  });

  it("let nothing refused reach staging or the API's list", async () => {
    // Everything refused above was refused before its body was read; give the accepted ones time to finish.
    const names = async () => {
      const r = await send("GET", "/api/v1/files?limit=500", { host: own() });
      return ((r.body.items ?? []) as { name: string; status: string }[]).map((f) => f.name).sort();
    };
    for (let i = 0; i < 100 && (await names()).length < 2; i++) await sleep(100);
    expect(await names()).toEqual(["by-curl.csv", "same-origin.csv"]);
    expect(listFiles(s.input).filter((f) => /evil|fetch-site|no-header/.test(f))).toEqual([]);
    expect(listFiles(s.warehouse).filter((f) => /evil|fetch-site|no-header/.test(f))).toEqual([]);
  });
});

describe("Host (DNS rebinding)", () => {
  it("refuses a Host that does not name this server with 421, on the API, the dashboard and uploads", async () => {
    for (const host of [`evil.example:${port}`, "evil.example", `127.0.0.1:${port + 1}`, `localhost:${port + 1}`]) {
      for (const path of ["/api/v1/files", "/api/v1/stats", "/", "/no-such-page"]) {
        const r = await send("GET", path, { host });
        expect(r.status, `${host} ${path}`).toBe(421);
        expect(r.body).toMatchObject({ code: "SLUICE_ERR_HOST_NOT_ALLOWED", statusCode: 421 });
      }
      const up = await upload("rebound.csv", { host, "x-sluice-request": "1" });
      expect(up.status, host).toBe(421);
    }
    expect(listFiles(s.input).filter((f) => f.includes("rebound"))).toEqual([]);
  });

  it("accepts the listen address, loopback names on loopback, and --allowed-host names (any port)", async () => {
    for (const host of [
      own(),
      `localhost:${port}`,
      `LOCALHOST:${port}`,
      `[::1]:${port}`,
      "sluice.internal",
      "sluice.internal:443",
      "proxy-a.example:8443",
      "proxy-b.example",
    ]) {
      expect((await send("GET", "/api/v1/stats", { host })).status, host).toBe(200);
    }
  });

  it("answers /healthz, /readyz and /metrics whatever the Host (probes use the pod's address)", async () => {
    for (const host of ["evil.example", "10.1.2.3:8080", `localhost:${port + 1}`]) {
      for (const path of ["/healthz", "/readyz", "/metrics"]) {
        const r = await send("GET", path, { host });
        expect(r.status, `${host} ${path}`).toBe(200);
      }
    }
  });
});

describe("serve start: listen address and token", () => {
  const start = (args: string[], env: Record<string, string> = {}) => {
    const t = makeSandbox();
    return runSluice(["serve", ...t.args, ...args], { env, timeoutMs: 20_000 }).finally(() => t.cleanup());
  };

  it("refuses a token shorter than 16 characters or with whitespace, naming the rule", async () => {
    for (const token of [" ", "short", "fifteen-chars-x", "sixteen chars ok", "sixteen-chars-ok\n"]) {
      const r = await start(["--listen", "127.0.0.1:0"], { SLUICE_API_TOKEN: token });
      expect(r.code, JSON.stringify(token)).toBe(2);
      expect(r.stderr).toMatch(/SLUICE_API_TOKEN: a token needs 16 characters or more and no whitespace/);
      expect(r.events.filter((e) => e.event === "sluice_started")).toEqual([]);
    }
  });

  it("refuses a --listen name that does not resolve, however it is spelled (127.… is text, not an address)", async () => {
    const r = await start(["--listen", "127.public.invalid:0"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"127\.public\.invalid" does not resolve/);
    expect(r.events.filter((e) => e.event === "sluice_started")).toEqual([]);
  });

  it("refuses a non-loopback address without a token, and starts on localhost (resolved to loopback) without one", async () => {
    const open = await start(["--listen", "0.0.0.0:0"]);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/resolves to 0\.0\.0\.0, reachable from other hosts: set SLUICE_API_TOKEN/);

    const t = makeSandbox();
    const p = new SluiceProcess(["serve", ...t.args, "--listen", "localhost:0"]);
    try {
      await p.waitForCount("http_listening", 1);
      const url = new URL(String(p.named("http_listening")[0]?.address));
      expect((await fetch(`http://localhost:${url.port}/api/v1/stats`)).status).toBe(200);
    } finally {
      await p.stop();
      t.cleanup();
    }
  });
});
