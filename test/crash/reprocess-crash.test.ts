import { existsSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce, runSluice } from "../support/cli.js";
import { put } from "../support/fixtures.js";
import { CSV, readFileState, reprocess, reprocessedLines, writeSchemas } from "../support/reprocess.js";
import { readManifest, type Sandbox, warehouseFiles } from "../support/sandbox.js";
import { STORES, storeSandboxes } from "../support/stores.js";

/**
 * SIGKILL at each durable step of a reprocess (issue 21), on the embedded SQLite state and a real PostgreSQL
 * server: after the new outputs are placed, after the switch commit, after the old outputs are removed, after the
 * manifest line. Right after the kill a reader following state finds one whole output set (old or new, never a
 * mix); after a restart (`sluice run --once`, or the next `sluice reprocess`, which both recover) there is exactly
 * one current output set, one `reprocessed` line per generation, no intent left, and nothing lost.
 */

const boxes = storeSandboxes();
afterEach(() => boxes.cleanup());

const POINTS = [
  { point: "reprocess-after-outputs", switched: false },
  { point: "reprocess-after-switch", switched: true },
  { point: "reprocess-after-old-removed", switched: true },
  { point: "reprocess-after-manifest", switched: true },
] as const;

const args = (s: Sandbox) => [...s.args, "--stability-seconds", "0"];
const outputs = (s: Sandbox) => warehouseFiles(s.warehouse).filter((f) => !f.endsWith("/r.csv"));

/** What a reader following state sees: every output it names exists, all of one generation. */
async function expectOneWholeSet(s: Sandbox, id: string): Promise<number> {
  const { rec } = await readFileState(s, id);
  const paths = (rec.processing?.outputs ?? []).map((o) => o.path);
  expect(paths.length).toBeGreaterThan(0);
  for (const p of paths) expect(existsSync(p), p).toBe(true);
  const gen = rec.generation ?? 0;
  for (const p of paths) expect(p.includes(".g"), p).toBe(gen > 0);
  if (gen > 0) for (const p of paths) expect(p, p).toContain(`.g${gen}.`);
  return gen;
}

for (const store of STORES) {
  describe(`reprocess crash safety on ${store}`, () => {
    POINTS.forEach(({ point, switched }, k) => {
      it(`SIGKILL at ${point}: one current set, one line per generation, nothing lost`, async () => {
        const s = await boxes.make(store);
        const { a, b } = writeSchemas(s);
        put(s.input, "r.csv", CSV);
        expect((await runOnce([...args(s), "--schema", a])).code).toBe(0);
        const id = readManifest(s.manifests)[0]?.ingest_id as string;

        const killed = await reprocess([id, ...args(s), "--schema", b], { env: { SLUICE_CRASH_AT: point } });
        expect(killed.signal).toBe("SIGKILL");
        expect(await expectOneWholeSet(s, id)).toBe(switched ? 1 : 0);

        // Restart: alternately a run (its recovery) and the next reprocess's own recovery.
        if (k % 2 === 0) {
          expect((await runOnce([...args(s), "--schema", a])).code).toBe(0);
        } else {
          const r = await reprocess(["--since", "1d", ...args(s), "--schema", b]);
          expect(r.code, r.stderr).toBe(0);
        }
        const after = await readFileState(s, id);
        expect(after.intents).toEqual([]);
        const gen = await expectOneWholeSet(s, id);
        const expectedGen = (switched ? 1 : 0) + (k % 2 === 0 ? 0 : 1);
        expect(gen).toBe(expectedGen);
        // Exactly the current set is in the warehouse: nothing of another generation, half-written or old.
        expect(outputs(s).length).toBe((after.rec.processing?.outputs ?? []).length);
        expect(outputs(s).every((o) => (gen === 0 ? o.endsWith("r.csv.parquet") : o.includes(`.g${gen}.`)))).toBe(true);
        expect(reprocessedLines(s, id).map((l) => l.generation)).toEqual(Array.from({ length: gen }, (_, g) => g + 1));
        expect(after.history.map((h) => h.generation)).toEqual(
          gen === 0 ? [] : Array.from({ length: gen + 1 }, (_, g) => g),
        );
        // Nothing lost: the raw file and its one ingest line stay; one more reprocess works; verify is clean.
        const again = await reprocess([id, ...args(s), "--schema", a]);
        expect(again.code, again.stderr).toBe(0);
        expect(await expectOneWholeSet(s, id)).toBe(gen + 1);
        expect(readManifest(s.manifests).filter((l) => (l.status as string) !== "reprocessed")).toHaveLength(1);
        const v = await runSluice(["verify", ...s.args, "--json"]);
        expect(JSON.parse(v.stdout).problems).toEqual([]);
      });
    });
  });
}
