import { archiveReaderSuite } from "../../suites/archive-reader-suite.js";
import { CORPUS_ARCHIVES } from "../shared-corpus.js";

// The archive reader over the shared corpus's archives: the same suite the main tier runs on its own fixtures
// (test/processors/archive.test.ts), checked against the corpus's facts.
archiveReaderSuite(CORPUS_ARCHIVES);
