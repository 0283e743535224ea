import { defineConfig } from "vitest/config";

// The container tier: `npm run test:container` builds the Dockerfile on a base it makes itself (debootstrap +
// docker import + Node from the npm registry), runs the image and drops a file into it. Needs root and Debian's
// docker.io and debootstrap; `.ci/run` runs it.
export default defineConfig({
  test: {
    include: ["test/container/**/*.test.ts"],
    globalSetup: ["test/setup/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 3_600_000,
    pool: "forks",
    maxWorkers: 1,
    reporters: ["default", "./test/setup/ci-no-skip-reporter.ts"],
  },
});
