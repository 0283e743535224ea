import { chmodSync, writeFileSync } from "node:fs";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runOnce, runSluice, SluiceProcess, useRunning } from "../support/cli.js";
import { put } from "../support/fixtures.js";
import { CSV, ingestLines, readFileState, reprocess, reprocessedLines, writeSchemas } from "../support/reprocess.js";
import { type S3TestServer, startS3rver } from "../support/s3-servers.js";
import { readManifest, type Sandbox } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";
import { localTarget, s3Target, targetArgs, type WarehouseTarget } from "../support/warehouse-targets.js";

/**
 * `sluice reprocess` through the real CLI (issue 21): on the embedded SQLite state and a real PostgreSQL server,
 * on a local warehouse and an S3 one (s3rver). A CSV ingested under schema A is reprocessed under schema B from
 * its stored raw bytes: new outputs, profile and aggregations, one `reprocessed` manifest line, both generations
 * in its history, the old outputs gone; tampered raw bytes are refused with nothing changed; and it runs beside a
 * live `sluice run` on the same state.
 */

const boxes = storeSandboxes();
afterEach(() => boxes.cleanup());
const running = useRunning();
let server: S3TestServer;
beforeAll(async () => {
  server = await startS3rver();
  await server.createBucket("reprocess");
}, 120_000);
afterAll(() => server?.stop());

const targets = (): WarehouseTarget[] => [localTarget, s3Target(server, "reprocess")];
const argsOf = (t: WarehouseTarget, s: Sandbox) => [...targetArgs(t, s), "--stability-seconds", "0"];
/** Stored paths relative to the warehouse root, outputs only (the raw `r.csv` excluded). */
async function outputsIn(t: WarehouseTarget, s: Sandbox): Promise<string[]> {
  return [...(await t.stored(s)).keys()]
    .filter((k) => !k.endsWith("/r.csv"))
    .map((k) => k.replace(/^.*\//, ""))
    .sort();
}

async function ingest(t: WarehouseTarget, s: Sandbox, schema: string): Promise<string> {
  put(s.input, "r.csv", CSV);
  const r = await runOnce([...argsOf(t, s), "--schema", schema], { env: t.env() });
  expect(r.code, r.stderr).toBe(0);
  const [line] = readManifest(s.manifests);
  if (!line) throw new Error("no manifest line");
  return line.ingest_id;
}

for (const store of STORES) {
  describe(`reprocess on ${store}`, () => {
    for (const which of [0, 1]) {
      it(`re-derives a CSV's outputs under another schema (${which === 0 ? "local" : "s3rver"} warehouse)`, async () => {
        const t = targets()[which] as WarehouseTarget;
        const s = await boxes.make(store);
        const { a, b } = writeSchemas(s);
        const id = await ingest(t, s, a);
        expect(await outputsIn(t, s)).toEqual(["r.csv.parquet"]);
        const before = await readFileState(s, id);
        expect(before.rec).toMatchObject({ generation: 0, processing: { schema: "feed-a", status: "processed" } });

        const r = await reprocess([id, ...argsOf(t, s), "--schema", b], { env: t.env() });
        expect(r.code, r.stderr).toBe(0);
        expect(r.report?.results).toEqual([expect.objectContaining({ ingestId: id, ok: true, generation: 1 })]);
        const after = await readFileState(s, id);
        expect(after.rec.generation).toBe(1);
        expect(after.rec.processing).toMatchObject({ schema: "feed-b", status: "partial", invalidCount: 1 });
        const parquet = after.rec.processing?.outputs.find((o) => o.kind === "parquet");
        expect(parquet?.path).toMatch(/r\.csv\.g1\.parquet$/);
        expect(parquet?.profile?.rowCount).toBe(3);
        expect(after.rec.processing?.aggregations).toMatchObject({ row_count: 3 });
        expect(after.history.map((h) => [h.generation, h.kind, h.processing?.schema])).toEqual([
          [0, "ingested", "feed-a"],
          [1, "reprocessed", "feed-b"],
        ]);
        expect(after.intents).toEqual([]);
        // The old set is gone, the new one is there whole.
        expect(await outputsIn(t, s)).toEqual(["r.csv.g1.parquet", "r.csv.g1.rejects.jsonl"]);
        expect(ingestLines(s, id)).toHaveLength(1);
        const lines = reprocessedLines(s, id);
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatchObject({
          generation: 1,
          processing: { status: "partial", invalid_count: 1, outputs: [{ row_count: 3 }, { kind: "rejects" }] },
        });
        // Back to A: generation 2, and only its outputs remain.
        const again = await reprocess([id, ...argsOf(t, s), "--schema", a], { env: t.env() });
        expect(again.code, again.stderr).toBe(0);
        expect(await outputsIn(t, s)).toEqual(["r.csv.g2.parquet"]);
        expect(reprocessedLines(s, id).map((l) => l.generation)).toEqual([1, 2]);
        expect((await readFileState(s, id)).history.map((h) => h.generation)).toEqual([0, 1, 2]);
        const v = await runSluice(["verify", ...targetArgs(t, s), "--json"], { env: t.env() });
        expect(JSON.parse(v.stdout).problems).toEqual([]);
      });
    }

    it("refuses tampered or missing raw bytes, changing nothing (local and s3rver)", async () => {
      for (const t of targets()) {
        const s = await boxes.make(store);
        const { a, b } = writeSchemas(s);
        const id = await ingest(t, s, a);
        const { rec } = await readFileState(s, id);
        const raw = rec.warehousePath as string;
        const tampered = CSV.replace("s3,4", "s3,5");
        if (t === localTarget) {
          chmodSync(raw, 0o644);
          writeFileSync(raw, tampered);
        } else {
          const key = raw.replace("s3://reprocess/", "");
          await server.client().send(
            new PutObjectCommand({
              Bucket: "reprocess",
              Key: key,
              Body: tampered,
              Metadata: { sha256: rec.sha256 as string },
            }),
          );
        }
        const r = await reprocess([id, ...argsOf(t, s), "--schema", b], { env: t.env() });
        expect(r.code).toBe(1);
        expect(r.report?.results[0]).toMatchObject({ ok: false, code: "SLUICE_ERR_RAW_INTEGRITY" });
        const after = await readFileState(s, id);
        expect(after.rec.generation).toBe(0);
        expect(after.rec.processing).toEqual(rec.processing);
        expect(after.history).toEqual([]);
        expect(after.intents).toEqual([]);
        expect(await outputsIn(t, s)).toEqual(["r.csv.parquet"]);
        expect(reprocessedLines(s, id)).toEqual([]);
        // Unknown ids, and files nothing re-derives, are refused by code too.
        const other = await reprocess(["01000000-0000-7000-8000-000000000000", ...argsOf(t, s)], { env: t.env() });
        expect(other.report?.results[0]).toMatchObject({ ok: false, code: "SLUICE_ERR_NOT_FOUND" });
      }
    });

    it("runs beside a live `sluice run` on the same state; two at once never both switch; a poller never sees a mix", async () => {
      const t = localTarget;
      const s = await boxes.make(store);
      const { a, b } = writeSchemas(s);
      const id = await ingest(t, s, a);
      const live = new SluiceProcess(["run", ...argsOf(t, s), "--schema", a], { env: t.env() });
      running.push(live);
      await live.waitFor((e) => e.some((x) => x.event === "sluice_ready"), 60_000);
      // A reader following state: whenever two reads agree on the generation, every output they name exists.
      let stopPolling = false;
      const seen = new Set<number>();
      const mixes: string[] = [];
      const poll = (async () => {
        const { existsSync } = await import("node:fs");
        while (!stopPolling) {
          const one = await readFileState(s, id);
          const present = (one.rec.processing?.outputs ?? []).every((o) => existsSync(o.path));
          const paths = (one.rec.processing?.outputs ?? []).map((o) => o.path);
          const gens = new Set(paths.map((p) => /\.g(\d+)\./.exec(p)?.[1] ?? "0"));
          const two = await readFileState(s, id);
          if (gens.size !== 1) mixes.push(`outputs of several generations named at once: ${paths.join(", ")}`);
          if (two.rec.generation === one.rec.generation && !present)
            mixes.push(`generation ${one.rec.generation} named but missing`);
          seen.add(one.rec.generation ?? 0);
          // The store's reads answer synchronously: give the event loop (the children's output) its turn.
          await new Promise((r) => setTimeout(r, 10));
        }
      })();
      const both = await Promise.all([
        reprocess([id, ...argsOf(t, s), "--schema", b]),
        reprocess([id, ...argsOf(t, s), "--schema", b]),
      ]);
      put(s.input, "later.csv", "sensor_id,value\nx,1\n");
      await live.waitFor((e) => e.some((x) => x.event === "file_ingested" && x.name === "later.csv"), 60_000);
      stopPolling = true;
      await poll;
      const ok = both.filter((r) => r.code === 0);
      const refused = both.filter((r) => r.code !== 0);
      for (const r of refused) {
        const why = `exit ${r.code}, stderr: ${r.stderr.slice(-2000)} stdout: ${r.stdout.slice(-500)}`;
        expect(r.report?.results[0], why).toMatchObject({ code: "SLUICE_ERR_REPROCESS_BUSY" });
      }
      const final = await readFileState(s, id);
      // Each success is its own generation: never two switches from one.
      expect(final.rec.generation).toBe(ok.length);
      expect(reprocessedLines(s, id).map((l) => l.generation)).toEqual(ok.map((_, k) => k + 1));
      expect(final.intents).toEqual([]);
      expect(mixes).toEqual([]);
      expect(seen.has(0) || seen.has(1)).toBe(true);
      await live.stop();
      expect(readManifest(s.manifests).filter((l) => l.name === "later.csv")).toHaveLength(1);
    });
  });
}
