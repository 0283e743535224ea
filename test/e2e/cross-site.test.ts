import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshotPath } from "../support/browser.js";
import type { SluiceProcess } from "../support/cli.js";
import { sleep } from "../support/fixtures.js";
import { startServe } from "../support/raw-http.js";
import { listFiles, makeSandbox, type Sandbox } from "../support/sandbox.js";
import { missing } from "../support/services.js";

/**
 * Issue 18, V2, in a real Chromium: `sluice serve` with no token on loopback
 * (the default of `npm start`) and a hostile page on another site. The
 * browser's resolver maps `evil.test` and `rebind.test` to 127.0.0.1, so the
 * hostile page is a real cross-site origin (another name, another port) and a
 * DNS-rebinding page reaches sluice's very port under the attacker's name.
 * Nothing either sends may reach staging; the dashboard on sluice's own
 * origin still uploads.
 */

const NO_CHROMIUM = missing("chromium");

let browser: Browser;
let sandbox: Sandbox;
let sluice: SluiceProcess;
let port: number;
let evil: Server;
let evilPort: number;

/** The attacker's page: two uploads aimed at sluice, each outcome written into the page for the test to read. */
function hostilePage(target: string): string {
  return `<!doctype html><title>hostile</title><pre id="out"></pre><script>
const out = (k, v) => { document.getElementById("out").textContent += k + "=" + v + "\\n"; };
const form = (name) => { const f = new FormData(); f.append("file", new Blob(["a,b\\n1," + name + "\\n"]), name); return f; };
(async () => {
  // V2 as reported: a no-cors form post is a "simple" request, sent without asking the server first.
  await fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", body: form("evil-no-cors.csv") })
    .then(() => out("nocors", "sent"), (e) => out("nocors", "error " + e));
  // With the header sluice requires, the browser must ask first (a preflight), and sluice never grants one.
  await fetch(${JSON.stringify(target)}, { method: "POST", headers: { "X-Sluice-Request": "1" }, body: form("evil-cors.csv") })
    .then((r) => out("cors", "status " + r.status), (e) => out("cors", "blocked " + e.name));
  out("done", "yes");
})();
</script>`;
}

beforeAll(async () => {
  if (NO_CHROMIUM) return;
  sandbox = makeSandbox();
  ({ p: sluice, port } = await startServe(sandbox, ["--scan-interval", "1"]));
  evil = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(hostilePage(`http://127.0.0.1:${port}/api/v1/files`));
  });
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  evilPort = (evil.address() as AddressInfo).port;
  browser = await launchChromium(["--host-resolver-rules=MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1"]);
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => (evil ? evil.close(r) : r(undefined)));
  if (sluice?.child.exitCode === null) await sluice.stop();
  sandbox?.cleanup();
});

/** Names in the API's list, from a client that is not a browser (curl-like, on sluice's own address). */
async function listed(): Promise<string[]> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/files?limit=500`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { items: { name: string }[] }).items.map((f) => f.name).sort();
}

describe.skipIf(NO_CHROMIUM)("cross-site requests in a real browser, no token", () => {
  it("a page on another site cannot upload: neither the no-cors form post nor a fetch with the header", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`http://evil.test:${evilPort}/`);
    await page.waitForFunction(() => document.getElementById("out")?.textContent?.includes("done=yes"));
    const out = (await page.locator("#out").textContent()) ?? "";
    // The no-cors post leaves the browser (its answer is opaque to the page): the server must refuse it itself.
    expect(out).toContain("nocors=sent");
    expect(out).toContain("cors=blocked TypeError");
    await page.screenshot({ path: screenshotPath("cross-site-hostile") });
    await context.close();

    // Past the stability window and a rescan: anything that had reached staging would be listed by now.
    await sleep(2500);
    expect(await listed()).toEqual([]);
    expect(listFiles(sandbox.input)).toEqual([]);
    expect(listFiles(sandbox.warehouse)).toEqual([]);
    // The refusal was the server's, with the cross-site code: its metrics count 403s on the upload route.
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    expect(metrics).toMatch(/route="\/api\/v1\/files"[^\n]*status(_code)?="403"[^\n]* [1-9]/);
  });

  it("the dashboard on sluice's own origin still uploads a file, which is ingested", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    const csv = join(sandbox.root, "from-dashboard.csv");
    writeFileSync(csv, "sensor,value\ns1,1.5\ns2,2.5\n");
    await page.goto(`http://127.0.0.1:${port}/#/upload`);
    await page.setInputFiles("#file-picker", csv);
    const entry = page.getByTestId("upload-entry").filter({ hasText: "from-dashboard.csv" });
    await entry.locator(".badge-processed").waitFor({ timeout: 60_000 });
    expect(errors).toEqual([]);
    expect(await listed()).toEqual(["from-dashboard.csv"]);
    await context.close();
  });

  it("a DNS-rebinding page (the attacker's name, sluice's port) is refused with 421, its same-origin POST too", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const res = await page.goto(`http://rebind.test:${port}/`);
    expect(res?.status()).toBe(421);
    expect(await res?.json()).toMatchObject({ code: "SLUICE_ERR_HOST_NOT_ALLOWED" });
    // Same origin now, so the page can send any header: only the Host check stands in the way.
    const answer = await page.evaluate(async () => {
      const f = new FormData();
      f.append("file", new Blob(["a,b\n1,rebound\n"]), "rebound.csv");
      const r = await fetch("/api/v1/files", { method: "POST", headers: { "X-Sluice-Request": "1" }, body: f });
      const list = await fetch("/api/v1/files");
      return { post: r.status, list: list.status };
    });
    expect(answer).toEqual({ post: 421, list: 421 });
    await context.close();
    await sleep(1500);
    expect(await listed()).toEqual(["from-dashboard.csv"]);
  });
});
