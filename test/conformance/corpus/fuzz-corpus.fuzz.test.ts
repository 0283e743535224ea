import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { makeRoot, removeRoot } from "../../fuzz/support.js";
import { badFilesFuzzSuite, hostileNamesFuzzSuite } from "../../suites/bad-names-fuzz-suite.js";
import { hostileArchivesFuzzSuite } from "../../suites/hostile-archives-fuzz-suite.js";
import { CORPUS, CORPUS_ARCHIVES, corpusFacts } from "../shared-corpus.js";

/**
 * The hostile files of the shared corpus (../shared/corpus: bad/,
 * archives/hostile/, names/; see its INDEX.md) through the same readers and
 * checks as the properties: time bound, typed errors only, nothing written
 * outside the output directory, and the facts the corpus states. The checks
 * are the main suite's (test/suites/bad-names-fuzz-suite.ts and
 * hostile-archives-fuzz-suite.ts), run here over the corpus.
 */

let root: string;
let n = 0;
beforeAll(() => {
  root = makeRoot("corpus");
});
afterAll(() => removeRoot(root));

function caseDir(): string {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir);
  return dir;
}

hostileArchivesFuzzSuite(CORPUS_ARCHIVES, caseDir);
badFilesFuzzSuite(join(CORPUS, "bad"), corpusFacts("bad/bad.expected.json"));
hostileNamesFuzzSuite(
  join(CORPUS, "names"),
  corpusFacts<{ rows: number; columns: string[]; name_utf8_hex: string }>("names/names.expected.json"),
);
