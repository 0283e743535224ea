import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { hostileArchivesFuzzSuite } from "../suites/hostile-archives-fuzz-suite.js";
import { FIXTURE_ARCHIVES } from "../support/fixture-archives.js";
import { makeRoot, removeRoot } from "./support.js";

/**
 * The generated hostile archives (test/fixtures/gen/archives.ts: traversal, links, damage, a gzip bomb, 20,000
 * members) through the same readers and checks as the archive properties; the conformance tier runs the same
 * cases over the shared corpus's hostile archives.
 */

let root: string;
let n = 0;
beforeAll(() => {
  root = makeRoot("hostile-archives");
});
afterAll(() => removeRoot(root));

/** A fresh directory per case, so its tree tells exactly what the case wrote. */
function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

hostileArchivesFuzzSuite(FIXTURE_ARCHIVES, caseDir);
