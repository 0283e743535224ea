import { readdirSync, readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { useRunning } from "../support/cli.js";
import { put, useSandboxes } from "../support/fixtures.js";
import {
  partHead,
  type RawConn,
  rawConnect,
  startServe,
  uploadHead,
  uploadTemps,
  waitUntil,
  within,
} from "../support/raw-http.js";
import { listFiles, readManifest } from "../support/sandbox.js";

/**
 * Issue 18 V1 as the probe found it: `sluice serve` with 256 descriptors
 * (`prlimit --nofile=256:256`), 150 uploads that send their headers and the
 * start of a part, then nothing. Before, each held a socket and a temp file for
 * ever: 113 of them filled the table and `/healthz` got ECONNRESET. Now the
 * default bounds (64 uploads in all, 8 per address) refuse the rest at once
 * with 503, the admitted ones are closed by the body-idle timeout, and the
 * service keeps answering and ingesting meanwhile.
 */

const sandbox = useSandboxes();
const running = useRunning();

const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

it("150 stalled uploads under a 256-descriptor limit: /healthz answers, they close at the timeout, a dropped file is ingested", async () => {
  const s = sandbox();
  const { p, url, port } = await startServe(s, ["--body-idle-timeout", "4"], {
    wrap: ["prlimit", "--nofile=256:256", "--"],
  });
  running.push(p);
  const pid = p.child.pid as number;
  expect(readFileLimit(pid)).toBe(256);

  // 30 client addresses × 5: under the per-client bound, so the total bound (64) is what holds.
  const conns: RawConn[] = [];
  for (let i = 0; i < 150; i++) {
    const c = await rawConnect(port, { localAddress: `127.0.0.${2 + (i % 30)}` });
    c.socket.write(`${uploadHead(100_000, port)}${partHead(`stalled-${i}.csv`)}a,b\n1,2\n`);
    conns.push(c);
  }
  await waitUntil(() => uploadTemps(s.input).length >= 64, 10_000, "64 uploads in flight");
  await new Promise((r) => setTimeout(r, 500)); // any upload past the bound would have its temp file by now
  // What held: 64 uploads in flight (the total bound). Counted now, well inside the 4 s body-idle timeout: the
  // checks below may take longer than that on a loaded machine, and then the timeout has rightly closed them.
  expect(uploadTemps(s.input)).toHaveLength(64);

  // While they are held: the service answers, and a file dropped into staging is ingested, not failed.
  // A bounded wait: a server out of descriptors leaves the connection in the backlog, never answered.
  for (let i = 0; i < 5; i++) {
    expect((await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) })).status).toBe(200);
  }
  put(s.input, "dropped.csv", "x,y\n1,2\n3,4\n");
  await waitUntil(() => readManifest(s.manifests).some((l) => l.name === "dropped.csv"), 30_000, "dropped.csv");
  expect(p.named("file_failed")).toEqual([]);

  // The other 86 refused at once, well under 256 descriptors.
  await waitUntil(
    () => conns.filter((c) => c.received().startsWith("HTTP/1.1 503 ")).length === 86,
    10_000,
    "86 refusals",
  );
  expect(openFds(pid)).toBeLessThan(230);

  // The admitted uploads are closed by the body-idle timeout (408), their temp files removed.
  const closed = await Promise.all(conns.map((c) => within(c.closed, 15_000)));
  expect(closed.filter((t) => t === "open")).toEqual([]);
  const timedOut = conns
    .map((c, i) => ({ c, after: closed[i] as number }))
    .filter(({ c }) => c.received().startsWith("HTTP/1.1 408 "));
  expect(timedOut).toHaveLength(64);
  // At the timeout (4 s of silence after the last byte), not before it and not much after.
  for (const { after } of timedOut) {
    expect(after).toBeGreaterThanOrEqual(3_900);
    expect(after).toBeLessThan(12_000);
  }
  await waitUntil(() => uploadTemps(s.input).length === 0, 5_000, "every temp file to be removed");
  expect(listFiles(s.input)).toEqual([]);
  expect(readManifest(s.manifests).map((l) => l.name)).toEqual(["dropped.csv"]);
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}, 90_000);

function readFileLimit(pid: number): number {
  const limits = readFileSync(`/proc/${pid}/limits`, "utf8");
  return Number(/Max open files\s+(\d+)/.exec(limits)?.[1]);
}
