import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..", "..");

/**
 * `.npmrc` sets ignore-scripts (npm runs node-gyp for better-sqlite3 from a lockfile although it ships
 * prebuilds). That is only safe while no dependency needs its install script: these tests fail the day one does.
 */
it("no package in the lockfile has an install script", () => {
  const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
    packages: Record<string, { hasInstallScript?: boolean }>;
  };
  const withScripts = Object.entries(lock.packages)
    .filter(([, p]) => p.hasInstallScript)
    .map(([name]) => name);
  expect(withScripts).toEqual([]);
});

it("every installed native addon ships a prebuilt binary for this platform (nothing waits on node-gyp)", () => {
  const missing: string[] = [];
  const visit = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const pkg = join(dir, e.name);
      if (e.name.startsWith("@")) {
        visit(pkg);
        continue;
      }
      if (!existsSync(join(pkg, "binding.gyp"))) continue;
      const platform = `${process.platform}-${process.arch}`;
      const prebuilt = [join(pkg, "prebuilds", `${platform}.node`), join(pkg, "prebuilds", platform)];
      if (!prebuilt.some((p) => existsSync(p)) && !existsSync(join(pkg, "build", "Release"))) missing.push(e.name);
    }
  };
  visit(join(REPO, "node_modules"));
  expect(missing).toEqual([]);
});

it("the native modules load on this Node.js", async () => {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(":memory:");
  expect(db.prepare("SELECT 41 + 1 AS n").get()).toEqual({ n: 42 });
  db.close();
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const duck = await DuckDBInstance.create(":memory:");
  const conn = await duck.connect();
  expect((await conn.runAndReadAll("SELECT 42 AS n")).getRowObjectsJS()).toEqual([{ n: 42 }]);
  conn.closeSync();
  duck.closeSync();
});
