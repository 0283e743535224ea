import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runOnce, SluiceProcess } from "../support/cli.js";
import { readState, sleep, useSandboxes } from "../support/fixtures.js";
import { listFiles, readManifest, sha256 } from "../support/sandbox.js";

/**
 * A stop signal must stop sluice even when a file in flight never finishes
 * and ignores the abort (the archive-reader hang of SECURITY.md's BUG 15 was
 * one such). The stuck file is made with the test-only pause before the open,
 * held far longer than the test; the next start must then ingest it once.
 */
describe("shutdown with a file that never finishes", () => {
  const sandbox = useSandboxes();

  it("exits after the grace and the abort, logs shutdown_abandoned, and the next start ingests the file once", async () => {
    const s = sandbox();
    const data = Buffer.from("stuck in flight until the next start\n".repeat(100));
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "stuck.bin"), data);
    const p = new SluiceProcess(
      ["run", ...s.args, "--stability-seconds", "0.2", "--scan-interval", "1", "--shutdown-grace-seconds", "0.5"],
      { env: { SLUICE_PAUSE_AT: "before-open", SLUICE_PAUSE_MS: "600000" } },
    );
    const deadline = Date.now() + 30_000;
    while (!p.stderr.includes("SLUICE_PAUSE_AT=before-open reached")) {
      if (Date.now() > deadline) throw new Error(`never paused: ${p.stderr}`);
      await sleep(25);
    }
    const signalled = Date.now();
    p.child.kill("SIGTERM");
    const timer = setTimeout(() => p.child.kill("SIGKILL"), 20_000);
    const r = await p.exited;
    clearTimeout(timer);
    // 0.5 s of grace, then at least 1 s for the aborted work to unwind, then it goes on without it.
    expect(r.signal, "it stopped by itself, not by the test's SIGKILL").toBeNull();
    expect(r.code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(10_000);
    const abandoned = p.named("shutdown_abandoned");
    expect(abandoned).toHaveLength(1);
    expect(abandoned[0]?.in_flight).toBe(1);
    expect(p.named("sluice_stopped")).toHaveLength(1);
    expect(listFiles(s.input)).toEqual(["stuck.bin"]);
    expect(readManifest(s.manifests)).toEqual([]);

    const again = await runOnce([...s.args, "--stability-seconds", "0"]);
    expect(again.code).toBe(0);
    const lines = readManifest(s.manifests);
    expect(lines.map((l) => [l.name, l.sha256])).toEqual([["stuck.bin", sha256(data)]]);
    expect(listFiles(s.input)).toEqual([]);
    expect(readState(s.statePath).files.map((f) => [f.name, f.state])).toEqual([["stuck.bin", "done"]]);
  });
});

/**
 * `sluice serve` with a client that stalls mid-upload: the request never ends (headers and part of a body, then
 * nothing), so the HTTP server cannot close by itself. Before the fix the process logged `sluice_stopped` and then
 * stayed alive for as long as the socket did (for ever here).
 */
describe("shutdown of sluice serve with a stalled client", () => {
  const sandbox = useSandboxes();

  it("cuts the stalled connection after the upload grace and exits", async () => {
    const s = sandbox();
    const p = new SluiceProcess(["serve", ...s.args, "--listen", "127.0.0.1:0", "--shutdown-grace-seconds", "1"]);
    await p.waitForCount("http_listening", 1, 30_000);
    const url = new URL(String(p.named("http_listening")[0]?.address));
    const socket = connect(Number(url.port), url.hostname);
    await new Promise<void>((r) => socket.once("connect", () => r()));
    socket.on("error", () => {});
    socket.write(
      `POST /api/v1/files HTTP/1.1\r\nHost: ${url.host}\r\nX-Sluice-Request: 1\r\n` +
        "Content-Type: multipart/form-data; boundary=b\r\n" +
        'Content-Length: 100000\r\n\r\n--b\r\nContent-Disposition: form-data; name="file"; filename="slow.csv"\r\n\r\na,b\n',
    );
    await sleep(500);
    const signalled = Date.now();
    p.child.kill("SIGTERM");
    const timer = setTimeout(() => p.child.kill("SIGKILL"), 40_000);
    const r = await p.exited;
    clearTimeout(timer);
    socket.destroy();
    expect(r.signal, "it stopped by itself, not by the test's SIGKILL").toBeNull();
    expect(r.code).toBe(0);
    // 10 s for uploads in flight, then the connection is cut.
    expect(Date.now() - signalled).toBeLessThan(15_000);
    expect(p.named("sluice_stopped")).toHaveLength(1);
  });
});
