import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fsyncTrees } from "../../src/durable/fsync.js";

/**
 * fsyncTrees, which makes what a processor wrote durable before the pipeline
 * records it. An fsync itself cannot be observed short of a power cut, so this
 * checks that every entry of a tree, however deep, is opened for it (a
 * dangling link anywhere fails the call), and that a file and a directory
 * are both taken.
 */

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "sluice-fsync-"));
  mkdirSync(join(root, "tables", "nested", "deeper"), { recursive: true });
  writeFileSync(join(root, "table.parquet"), "p");
  writeFileSync(join(root, "tables", "a.parquet"), "a");
  writeFileSync(join(root, "tables", "nested", "deeper", "b.parquet"), "b");
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe("fsyncTrees", () => {
  it("syncs files and whole directory trees", async () => {
    await expect(fsyncTrees([join(root, "table.parquet"), join(root, "tables")])).resolves.toBeUndefined();
    await expect(fsyncTrees([])).resolves.toBeUndefined();
  });

  it("reaches every entry, however deep: one it cannot open fails the call", async () => {
    const dangling = join(root, "tables", "nested", "deeper", "gone.parquet");
    symlinkSync(join(root, "nowhere"), dangling);
    await expect(fsyncTrees([join(root, "tables")])).rejects.toMatchObject({ code: "ENOENT", path: dangling });
    // Not reached when it is not under the paths given.
    await expect(fsyncTrees([join(root, "table.parquet")])).resolves.toBeUndefined();
  });

  it("fails for a path that does not exist", async () => {
    await expect(fsyncTrees([join(root, "missing.parquet")])).rejects.toMatchObject({ code: "ENOENT" });
  });
});
