import type { Reporter, TestModule } from "vitest/node";

/**
 * Under CI=true a skipped test fails the run: a suite that silently did not run proves nothing, and CI is where
 * every service is present. Outside CI skips are allowed and each skipped tier was already named by the setup.
 */
export default class CiNoSkipReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    if (process.env.CI !== "true") return;
    const skipped: string[] = [];
    for (const m of modules) {
      if (m.state() === "skipped") skipped.push(m.moduleId);
      for (const t of m.children.allTests()) if (t.result().state === "skipped") skipped.push(t.fullName);
    }
    if (skipped.length === 0) return;
    process.stderr.write(`\nCI=true: ${skipped.length} skipped test(s), which CI does not allow:\n`);
    for (const s of skipped.slice(0, 50)) process.stderr.write(`  ${s}\n`);
    process.exitCode = 1;
  }
}
