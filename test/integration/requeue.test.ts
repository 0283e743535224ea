import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { argsFor } from "../support/fixtures.js";
import { READINGS_CSV, type RequeueRow, rowsNamed, rowsOf, writeSchema } from "../support/requeue-fixtures.js";
import { listFiles, readManifest, type Sandbox, sha256, warehouseFiles } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";

/**
 * `sluice requeue` through the real CLI on both stores: a file quarantined for a schema it did not fit, the schema
 * fixed, the file requeued and ingested once, linked both ways; --failed/--code selection; a requeue while
 * `sluice run` is running; refusals.
 */

const sandboxes = storeSandboxes();
const running = useRunning();
afterEach(() => sandboxes.cleanup());

function schemaArgs(s: Sandbox): string[] {
  return ["--schema", join(s.root, "schema.json")];
}

/** A sandbox whose schema makes READINGS_CSV fail, with that CSV already quarantined by a `run --once`. */
async function quarantined(store: (typeof STORES)[number], name = "readings.csv"): Promise<[Sandbox, RequeueRow]> {
  const s = await sandboxes.make(store);
  writeSchema(join(s.root, "schema.json"), false);
  mkdirSync(s.input, { recursive: true });
  writeFileSync(join(s.input, name), READINGS_CSV);
  const r = await runOnce(argsFor(s, ...schemaArgs(s)));
  expect(r.code, r.stderr).toBe(0);
  const [row] = rowsNamed(s, name);
  expect(row).toMatchObject({ state: "failed", error_code: "SLUICE_ERR_NO_VALID_ROWS" });
  return [s, row as RequeueRow];
}

function requeue(s: Sandbox, ...args: string[]) {
  return runSluice(["requeue", ...s.args, ...args]);
}

describe.each(STORES)("sluice requeue (%s state)", (store) => {
  it("hands a quarantined file back once its schema is fixed: ingested once, linked both ways, error copy gone", async () => {
    const [s, failed] = await quarantined(store);
    const errorCopy = failed.error_path as string;
    expect(existsSync(errorCopy) && existsSync(`${errorCopy}.error.json`)).toBe(true);
    writeSchema(join(s.root, "schema.json"), true);

    const r = await requeue(s, failed.ingest_id);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`${failed.ingest_id} → readings.csv: requeued (back in staging, pending ingestion)\n`);
    expect(existsSync(errorCopy)).toBe(false);
    expect(existsSync(`${errorCopy}.error.json`)).toBe(false);
    expect(listFiles(s.input)).toEqual(["readings.csv"]);
    expect(listFiles(s.errors)).toEqual([]);

    const run = await runOnce(argsFor(s, ...schemaArgs(s)));
    expect(run.code, run.stderr).toBe(0);
    const [old, fresh, ...more] = rowsNamed(s, "readings.csv");
    expect(more).toEqual([]);
    expect(fresh).toMatchObject({ state: "done", requeued_from: failed.ingest_id, sha256: sha256(READINGS_CSV) });
    expect(old).toMatchObject({ ingest_id: failed.ingest_id, state: "failed", requeued_to: fresh?.ingest_id });
    expect(JSON.parse(fresh?.processing ?? "{}").status).toBe("processed");
    expect(readManifest(s.manifests).filter((l) => l.name === "readings.csv")).toHaveLength(1);
    expect(warehouseFiles(s.warehouse).filter((f) => f.endsWith("/readings.csv"))).toHaveLength(1);
    expect(listFiles(s.input)).toEqual([]);

    // Twice: the second says it was done, and changes nothing.
    const again = await requeue(s, failed.ingest_id, "--json");
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      files: [{ id: failed.ingest_id, result: "already", name: "readings.csv", newId: fresh?.ingest_id }],
      requeued: 1,
      refused: 0,
    });
    expect(rowsNamed(s, "readings.csv")).toHaveLength(2);
  });

  it("requeues while `sluice run` is running: the running service ingests it, no restart, schema re-read", async () => {
    const s = await sandboxes.make(store);
    const schema = join(s.root, "schema.json");
    writeSchema(schema, false);
    const svc = new SluiceProcess(["run", ...argsFor(s, "--schema", schema, "--scan-interval", "1")]);
    running.push(svc);
    await svc.waitForCount("sluice_ready", 1, 60_000);
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "readings-live.csv"), READINGS_CSV);
    await svc.waitForCount("file_failed", 1, 60_000);
    const [failed] = rowsNamed(s, "readings-live.csv");
    writeSchema(schema, true);

    const r = await requeue(s, failed?.ingest_id as string);
    expect(r.code, r.stderr).toBe(0);
    await svc.waitFor(
      (evs) => evs.some((e) => e.event === "file_ingested" && e.path === join(s.input, "readings-live.csv")),
      60_000,
    );
    await waitUntil(() => rowsNamed(s, "readings-live.csv").every((x) => x.state === "done" || x.state === "failed"));
    const [old, fresh] = rowsNamed(s, "readings-live.csv");
    expect(fresh).toMatchObject({ state: "done", requeued_from: old?.ingest_id });
    expect(old?.requeued_to).toBe(fresh?.ingest_id);
    expect(listFiles(s.errors)).toEqual([]);
    expect((await svc.stop()).code).toBe(0);
  });
});

describe("sluice requeue with two nodes on one PostgreSQL state", () => {
  it("either node ingests the requeued file once; the requeue itself claims nothing and recovers nothing", async () => {
    const s = await sandboxes.make("postgres");
    const schema = join(s.root, "schema.json");
    writeSchema(schema, false);
    const node = (id: string) =>
      new SluiceProcess([
        "run",
        ...argsFor(s, "--schema", schema, "--scan-interval", "1").map((a) => (a === "test-node" ? id : a)),
      ]);
    const [a, b] = [node("node-a"), node("node-b")];
    running.push(a, b);
    await Promise.all([a.waitForCount("sluice_ready", 1, 60_000), b.waitForCount("sluice_ready", 1, 60_000)]);
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "readings-two.csv"), READINGS_CSV);
    await waitUntil(() => rowsNamed(s, "readings-two.csv")[0]?.state === "failed");
    const [failed] = rowsNamed(s, "readings-two.csv");
    writeSchema(schema, true);
    // The command runs under a third node id: it joins nothing and adopts nothing.
    const r = await runSluice([
      "requeue",
      ...s.args.map((x) => (x === "test-node" ? "operator" : x)),
      failed?.ingest_id as string,
    ]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    await waitUntil(() => rowsNamed(s, "readings-two.csv").some((x) => x.state === "done"));
    await new Promise((res) => setTimeout(res, 2_500)); // two more rescans of each node: nothing else is taken
    const rows = rowsNamed(s, "readings-two.csv");
    expect(rows.map((x) => x.state)).toEqual(["failed", "done"]);
    expect(rows[1]?.requeued_from).toBe(failed?.ingest_id);
    expect(rows[0]?.requeued_to).toBe(rows[1]?.ingest_id);
    expect(readManifest(s.manifests).filter((l) => l.name === "readings-two.csv")).toHaveLength(1);
    expect(listFiles(s.input)).toEqual([]);
    expect(listFiles(s.errors)).toEqual([]);
    expect((await a.stop()).code).toBe(0);
    expect((await b.stop()).code).toBe(0);
  });
});

describe("sluice requeue: selection and refusals", () => {
  it("--failed --code selects by error code, --since by failure time; refusals exit 1 and move nothing", async () => {
    const [s, schemaFailure] = await quarantined("sqlite");
    // A second failure of another kind: not an archive at all.
    writeFileSync(join(s.input, "broken.tar.gz"), "not a gzip stream");
    expect((await runOnce(argsFor(s, ...schemaArgs(s)))).code).toBe(0);
    const [corrupt] = rowsNamed(s, "broken.tar.gz");
    expect(corrupt?.error_code).toBe("SLUICE_ERR_ARCHIVE_CORRUPT");

    const none = await requeue(s, "--failed", "--since", "2999-01-01T00:00:00Z");
    expect([none.code, none.stdout]).toEqual([0, "nothing to requeue\n"]);
    const picked = await requeue(s, "--failed", "--code", "SLUICE_ERR_NO_VALID_ROWS", "--since", "1h", "--json");
    expect(picked.code, picked.stderr).toBe(0);
    expect(JSON.parse(picked.stdout).files).toEqual([
      { id: schemaFailure.ingest_id, result: "pending", name: "readings.csv" },
    ]);
    expect(listFiles(s.input)).toEqual(["readings.csv"]);
    expect(existsSync(corrupt?.error_path as string)).toBe(true);

    // Name taken: another file sits at broken.tar.gz in staging; nothing moves, the row stays requeuable.
    writeFileSync(join(s.input, "broken.tar.gz"), "someone else's file");
    const taken = await requeue(s, corrupt?.ingest_id as string);
    expect(taken.code).toBe(1);
    expect(taken.stdout).toMatch(/not requeued: name-taken/);
    expect(existsSync(corrupt?.error_path as string)).toBe(true);
    expect(existsSync(`${corrupt?.error_path}.error.json`)).toBe(true);
    renameSync(join(s.input, "broken.tar.gz"), join(s.root, "moved-away"));
    const retry = await requeue(s, corrupt?.ingest_id as string);
    expect(retry.code, retry.stdout).toBe(0);

    const unknown = await requeue(s, "01a24d58-0000-7000-8000-000000000000", schemaFailure.ingest_id);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout.split("\n")[0]).toMatch(/not requeued: unknown/);
    const usage = await requeue(s);
    expect([usage.code, usage.stderr]).toEqual([2, "sluice: give the ids to requeue, or --failed (not both)\n"]);
    expect(readdirSync(s.errors)).toEqual([]);
  });
});

describe("sluice requeue: an archive member that failed alone", () => {
  it("is handed back under its base name at the top of staging, ingested as a file of its own, linked", async () => {
    const s = await sandboxes.make("sqlite");
    writeSchema(join(s.root, "schema.json"), false);
    const pack = join(s.root, "pack");
    mkdirSync(join(pack, "inner"), { recursive: true });
    writeFileSync(join(pack, "inner", "readings-m.csv"), READINGS_CSV);
    writeFileSync(join(pack, "notes.txt"), "kept\n");
    mkdirSync(s.input, { recursive: true });
    execFileSync("tar", ["czf", join(s.input, "bundle.tar.gz"), "-C", pack, "inner/readings-m.csv", "notes.txt"]);
    expect((await runOnce(argsFor(s, ...schemaArgs(s)))).code).toBe(0);
    const [member] = rowsOf(s).filter((r) => r.state === "failed");
    expect(member).toMatchObject({ error_code: "SLUICE_ERR_NO_VALID_ROWS" });
    writeSchema(join(s.root, "schema.json"), true);
    const r = await requeue(s, member?.ingest_id as string);
    expect([r.code, r.stdout]).toEqual([
      0,
      `${member?.ingest_id} → readings-m.csv: requeued (back in staging, pending ingestion)\n`,
    ]);
    expect(listFiles(s.input)).toEqual(["readings-m.csv"]);
    expect((await runOnce(argsFor(s, ...schemaArgs(s)))).code).toBe(0);
    const [fresh] = rowsNamed(s, "readings-m.csv");
    expect(fresh).toMatchObject({ state: "done", requeued_from: member?.ingest_id, sha256: sha256(READINGS_CSV) });
    expect(listFiles(s.errors)).toEqual([]);
  });
});

describe("sluice requeue in sidecar mode", () => {
  it("hands the .ok back after the file, so the file is ready again", async () => {
    const s = await sandboxes.make("sqlite");
    writeSchema(join(s.root, "schema.json"), false);
    mkdirSync(s.input, { recursive: true });
    writeFileSync(join(s.input, "readings-s.csv"), READINGS_CSV);
    writeFileSync(join(s.input, "readings-s.csv.ok"), "");
    const sidecar = () => argsFor(s, ...schemaArgs(s), "--mode", "sidecar");
    expect((await runOnce(sidecar())).code).toBe(0);
    const [failed] = rowsNamed(s, "readings-s.csv");
    expect(failed?.state).toBe("failed");
    expect(existsSync(`${failed?.error_path}.ok`)).toBe(true);
    writeSchema(join(s.root, "schema.json"), true);
    expect((await requeue(s, failed?.ingest_id as string)).code).toBe(0);
    expect(listFiles(s.input)).toEqual(["readings-s.csv", "readings-s.csv.ok"]);
    expect(listFiles(s.errors)).toEqual([]);
    expect((await runOnce(sidecar())).code).toBe(0);
    expect(rowsNamed(s, "readings-s.csv")[1]).toMatchObject({ state: "done", requeued_from: failed?.ingest_id });
    expect(listFiles(s.input)).toEqual([]);
  });
});

async function waitUntil(cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
