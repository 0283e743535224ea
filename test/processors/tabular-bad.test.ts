import { join } from "node:path";
import { type BadFileFacts, badTabularSuite } from "../suites/bad-tabular-suite.js";
import { FIXTURES, fixtureFacts } from "../support/fixture-files.js";

/**
 * convertTabular on this project's malformed CSV and JSON files (test/fixtures/gen/bad.ts): each ends converted,
 * partial with its bad rows reported, noted as no table, or refused with a located error, as the generator's facts
 * say. The conformance tier runs the same suite on the shared corpus' bad/.
 */
badTabularSuite(join(FIXTURES, "bad"), fixtureFacts<Record<string, BadFileFacts>>("bad/bad.expected.json"));
