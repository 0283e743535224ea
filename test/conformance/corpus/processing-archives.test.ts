import { archivePipelineSuite } from "../../suites/archive-pipeline-suite.js";
import { CORPUS_ARCHIVES } from "../shared-corpus.js";

// Archives of the shared corpus through the real CLI: the same suite the main tier runs on its own fixtures
// (test/processing/archives.test.ts).
archivePipelineSuite(CORPUS_ARCHIVES);
