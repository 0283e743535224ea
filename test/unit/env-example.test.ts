import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { expect, it } from "vitest";
import { envDefault, envExample } from "../../src/config/env-example.js";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { namesOf, OPTION_KEYS } from "../../src/config/schema.js";

const committed = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

it(".env.example is the generated text (regenerate: npm run docs:config)", () => {
  expect(committed).toBe(envExample());
});

it("lists every option read from the environment, under its SLUICE_ name, with its default", () => {
  const lines = committed.split("\n");
  const withEnv = OPTION_KEYS.filter((k) => namesOf(k).env);
  expect(withEnv.length).toBeGreaterThan(45);
  for (const key of withEnv) {
    const env = namesOf(key).env as string;
    expect(env).toMatch(/^SLUICE_[A-Z0-9_]+$/);
    expect(lines, env).toContain(`# ${env}=${envDefault(key)}`);
  }
});

it("uncommented, it is a .env sluice reads to exactly the defaults", () => {
  const uncommented = committed
    .split("\n")
    .filter((l) => /^# [A-Z][A-Z0-9_]*=/.test(l))
    .map((l) => l.slice(2))
    .join("\n");
  const parsed = parseEnv(uncommented) as Record<string, string>;
  expect(parsed.SLUICE_INPUT).toBe("./data/staging");
  expect(parsed.SLUICE_LISTEN).toBe("127.0.0.1:8080");
  expect(parsed.SLUICE_DUCKDB_MEMORY_LIMIT).toBe("512MB");
  const fromDotEnv = resolveRunConfig({}, {}, parsed, "/srv");
  const fromDefaults = resolveRunConfig({}, {}, {}, "/srv");
  expect(fromDotEnv).toEqual(fromDefaults);
});
