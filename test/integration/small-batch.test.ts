import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce } from "../support/cli.js";
import { checkExactlyOnce, type Inputs } from "../support/invariants.js";
import { makeSandbox, readManifest, type Sandbox, sha256 } from "../support/sandbox.js";

/**
 * The forward path (src/pipeline/forward/driver.ts) takes many small files through each step together; a file that
 * leaves the common case goes on alone from the step it reached. These runs make each such departure happen
 * inside a batch.
 */

const sandboxes: Sandbox[] = [];
afterEach(() => {
  for (const s of sandboxes.splice(0)) s.cleanup();
});

function sandbox(): Sandbox {
  const s = makeSandbox();
  sandboxes.push(s);
  mkdirSync(s.input, { recursive: true });
  return s;
}

const FLAGS = ["--stability-seconds", "0", "--log-level", "debug"];

describe("small-file batches", () => {
  it("ingests 300 files with copies inside and across batches: each content once, every copy a duplicate", async () => {
    const s = sandbox();
    const inputs: Inputs = new Map();
    const contents = Array.from({ length: 200 }, (_, i) => randomBytes(100 + i));
    for (let i = 0; i < 300; i++) {
      // Copies of the same content sit next to each other (same batch) and far apart (another batch).
      const data = contents[i < 200 ? i : i % 2 === 0 ? i - 200 : 199 - (i - 200)] as Buffer;
      const name = `d${String(i).padStart(3, "0")}.bin`;
      writeFileSync(join(s.input, name), data);
      inputs.set(name, sha256(data));
    }
    const r = await runOnce([...s.args, ...FLAGS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === "batch_started").length).toBeGreaterThan(1);
    expect(r.events.filter((e) => e.event === "file_ingested")).toHaveLength(200);
    expect(r.events.filter((e) => e.event === "file_duplicate")).toHaveLength(100);
    expect(checkExactlyOnce(s, inputs).problems).toEqual([]);
  });

  it("never overwrites a foreign file at a reserved name: that file takes the hash-tagged name", async () => {
    const s = sandbox();
    const inputs: Inputs = new Map();
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`small file ${i} ${randomBytes(8).toString("hex")}\n`);
      writeFileSync(join(s.input, `f${i}.txt`), data);
      inputs.set(`f${i}.txt`, sha256(data));
    }
    // Something not recorded by sluice already sits where f7.txt would land today.
    const day = `ingest_date=${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(join(s.warehouse, day), { recursive: true });
    writeFileSync(join(s.warehouse, day, "f7.txt"), "foreign\n");

    const r = await runOnce([...s.args, ...FLAGS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.some((e) => e.event === "batch_started" && (e.files as number) > 1)).toBe(true);
    expect(readFileSync(join(s.warehouse, day, "f7.txt"), "utf8")).toBe("foreign\n");
    const f7 = readManifest(s.manifests).find((l) => l.name === "f7.txt");
    const sha = inputs.get("f7.txt") as string;
    expect(f7?.warehouse_path).toBe(join(s.warehouse, day, `f7.${sha.slice(0, 12)}.txt`));
    expect(sha256(readFileSync(f7?.warehouse_path as string))).toBe(sha);
    expect(readManifest(s.manifests)).toHaveLength(20);
  });

  it("a directory the batch cannot make (a foreign file holds its name): its files fail alone, the rest land", async () => {
    const s = sandbox();
    const inputs: Inputs = new Map();
    mkdirSync(join(s.input, "sub"));
    for (let i = 0; i < 20; i++) {
      const data = Buffer.from(`file ${i} ${randomBytes(8).toString("hex")}\n`);
      const name = i < 5 ? `sub/x${i}.txt` : `f${i}.txt`;
      writeFileSync(join(s.input, name), data);
      if (i >= 5) inputs.set(name, sha256(data));
    }
    // Something not recorded by sluice holds the name the directory of sub/x*.txt needs today.
    const day = `ingest_date=${new Date().toISOString().slice(0, 10)}`;
    mkdirSync(join(s.warehouse, day), { recursive: true });
    writeFileSync(join(s.warehouse, day, "sub"), "foreign\n");

    const r = await runOnce([...s.args, "--recursive", ...FLAGS], { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.some((e) => e.event === "batch_started" && (e.files as number) > 5)).toBe(true);
    expect(readFileSync(join(s.warehouse, day, "sub"), "utf8")).toBe("foreign\n");
    const failed = r.events.filter((e) => e.event === "file_failed");
    expect(failed.map((e) => e.name).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `sub/x${i}.txt`));
    for (const e of failed) expect(e.code).toBe("SLUICE_ERR_NAME_COLLISION");
    expect(r.events.filter((e) => e.event === "file_ingested")).toHaveLength(15);
    // The foreign file and the emptied staging directory are all the checker finds besides the 15 files.
    const foreign = `unknown content ${sha256(Buffer.from("foreign\n")).slice(0, 12)} in warehouse`;
    expect(checkExactlyOnce(s, inputs).problems.sort()).toEqual(["left in staging: sub", foreign].sort());
  });
});
