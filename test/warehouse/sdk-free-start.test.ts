import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { put, useSandboxes } from "../support/fixtures.js";
import { type S3TestServer, startS3rver } from "../support/s3-servers.js";
import { s3Target, targetArgs } from "../support/warehouse-targets.js";

/*
 * The warehouse seam keeps the AWS SDK out of a local run (~80 ms of start-up): only the wiring root imports the
 * S3 modules, dynamically. Checked on the real CLI with a module hook that records every module Node loads.
 */

const sandbox = useSandboxes();

/** Preloaded with --import: appends each loaded module's URL to $SDK_PROBE_LOG. */
const HOOK = `import { registerHooks } from "node:module";
import { appendFileSync } from "node:fs";
registerHooks({
  load(url, context, next) {
    appendFileSync(process.env.SDK_PROBE_LOG, url + "\\n");
    return next(url, context);
  },
});
`;

function loadedModules(log: string): string[] {
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

describe("SDK-free start-up", () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3rver();
    await server.createBucket("probe");
  }, 120_000);
  afterAll(() => server?.stop());

  it("a local-warehouse run never loads @aws-sdk; an S3 run does (the probe sees it)", async () => {
    const s = sandbox();
    const hook = join(s.root, "probe-hook.mjs");
    writeFileSync(hook, HOOK);
    put(s.input, "a.csv", "x,y\n1,2\n");

    const localLog = join(s.root, "local-modules.txt");
    const local = await runOnce([...s.args, "--stability-seconds", "0"], {
      env: { NODE_OPTIONS: `--import ${hook}`, SDK_PROBE_LOG: localLog },
    });
    expect(local.code, local.stderr).toBe(0);
    const localModules = loadedModules(localLog);
    expect(localModules.some((u) => u.includes("/dist/warehouse/local/"))).toBe(true);
    expect(localModules.filter((u) => u.includes("@aws-sdk") || u.includes("/dist/warehouse/s3/sink.js"))).toEqual([]);

    const s2 = sandbox();
    put(s2.input, "b.csv", "x,y\n3,4\n");
    const t = s3Target(server, "probe");
    const remoteLog = join(s.root, "s3-modules.txt");
    const remote = await runOnce([...targetArgs(t, s2), "--stability-seconds", "0"], {
      env: { ...t.env(), NODE_OPTIONS: `--import ${hook}`, SDK_PROBE_LOG: remoteLog },
    });
    expect(remote.code, remote.stderr).toBe(0);
    expect(loadedModules(remoteLog).some((u) => u.includes("@aws-sdk/client-s3"))).toBe(true);
  }, 120_000);
});
