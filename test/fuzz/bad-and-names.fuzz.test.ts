import { join } from "node:path";
import { badFilesFuzzSuite, hostileNamesFuzzSuite } from "../suites/bad-names-fuzz-suite.js";
import { FIXTURES, fixtureFacts } from "../support/fixture-files.js";

/**
 * This project's hostile files (test/fixtures/gen/bad.ts and names.ts) through the readers and checks of the fuzz
 * properties: malformed CSV, JSON and SQL dumps, and valid files under hostile names, converted and uploaded.
 * The conformance tier runs the same suites on the shared corpus' bad/ and names/.
 */
badFilesFuzzSuite(join(FIXTURES, "bad"), fixtureFacts("bad/bad.expected.json"));
hostileNamesFuzzSuite(join(FIXTURES, "names"), fixtureFacts("names/names.expected.json"));
