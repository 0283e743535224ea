import { defineConfig } from "vitest/config";

// The conformance tier: `npm run test:conformance`. sluice over data written by others (../shared/corpus and
// ../shared/conformance: public dumps, csv-spectrum, JSONTestSuite, vega-datasets), each checked against the
// source's own expectation. The main suite (`npm test`) never reads outside this repository.
export default defineConfig({
  test: {
    include: ["test/conformance/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default", "./test/setup/ci-no-skip-reporter.ts"],
  },
});
