import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { argsFor } from "../support/fixtures.js";
import { READINGS_CSV, rowsNamed, writeSchema } from "../support/requeue-fixtures.js";
import { storeSandboxes } from "../support/stores.js";

/**
 * `--schema FILE` is the file as it reads now, in a running service: a schema that became invalid fails the file
 * being processed (SLUICE_ERR_SCHEMA_INVALID), not the service; fixed, it applies to the next file and to the
 * requeued one, without a restart.
 */

const sandboxes = storeSandboxes();
const running = useRunning();
afterEach(() => sandboxes.cleanup());

describe("a schema file edited while sluice runs", () => {
  it("an invalid edit fails the file, not the service; the fix applies at once, and the failed file is requeued", async () => {
    const s = await sandboxes.make("sqlite");
    const schema = join(s.root, "schema.json");
    writeSchema(schema, true);
    const svc = new SluiceProcess(["run", ...argsFor(s, "--schema", schema, "--scan-interval", "1")]);
    running.push(svc);
    await svc.waitForCount("sluice_ready", 1, 60_000);
    mkdirSync(s.input, { recursive: true });

    writeFileSync(schema, '{"feeds": [{"name": "readings", "match": ["*.csv"], "columns": "oops"}]}\n');
    writeFileSync(join(s.input, "readings-a.csv"), READINGS_CSV);
    await svc.waitForCount("file_failed", 1, 60_000);
    const [a] = rowsNamed(s, "readings-a.csv");
    expect(a).toMatchObject({ state: "failed", error_code: "SLUICE_ERR_SCHEMA_INVALID" });
    expect(svc.named("file_failed")[0]?.reason).toMatch(
      /schema file .* is not a valid feed schema: feeds\[0\]\.columns/,
    );

    writeSchema(schema, true);
    writeFileSync(join(s.input, "readings-b.csv"), `${READINGS_CSV}4,low\n`);
    await svc.waitForCount("file_ingested", 1, 60_000);
    expect(rowsNamed(s, "readings-b.csv")[0]?.state).toBe("done");

    const r = await runSluice(["requeue", "--failed", "--code", "SLUICE_ERR_SCHEMA_INVALID", ...s.args]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await svc.waitForCount("file_ingested", 2, 60_000);
    const [old] = rowsNamed(s, "readings-a.csv");
    await expect.poll(() => rowsNamed(s, "readings-a.csv")[1]?.state, { timeout: 30_000 }).toBe("done");
    expect(rowsNamed(s, "readings-a.csv")[1]?.requeued_from).toBe(old?.ingest_id);
    expect(old?.ingest_id).toBe(a?.ingest_id);
    expect((await svc.stop()).code).toBe(0);
  });
});
