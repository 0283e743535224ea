import type { TestProject } from "vitest/node";
import { ensureFixtures } from "../fixtures/generate.js";
import { probeServices } from "./probe-services.js";
import { formatTiers } from "./tiers.js";

/**
 * Runs once before the main suite's workers start: generates this project's fixtures, finds (or starts) the
 * services the suites need, and prints which tiers will run. Outside CI a missing service skips the suites that
 * need it, each named in one loud line; under CI=true a missing service stops the run here instead.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const started = Date.now();
  project.provide("fixtures", await ensureFixtures());
  const services = await probeServices();
  project.provide("services", services.probes);
  const missing = services.probes.filter((p) => p.missing);
  const banner = formatTiers(services.probes);
  process.stdout.write(
    `\n${banner}\n(fixtures and services ready in ${((Date.now() - started) / 1000).toFixed(1)} s)\n\n`,
  );
  if (missing.length > 0 && process.env.CI === "true") {
    services.stop();
    throw new Error(
      `CI=true: no suite may be skipped, and these services are missing:\n${missing.map((m) => `  ${m.name}: ${m.missing}`).join("\n")}`,
    );
  }
  return () => {
    services.stop();
    process.stdout.write(`\n${banner}\n`);
  };
}
