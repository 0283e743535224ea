import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "web/src/**/*.test.{ts,tsx}"],
    // Tests run the real CLI as child processes on a 2-core machine: generous bounds, limited parallelism.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
    // The AWS SDK's "Node 22 from 2027" notice, printed by every worker that loads it, is noise in test output.
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
