import { readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { expect, it } from "vitest";
import { envExample } from "../../src/config/env-example.js";
import { RUN_OPTIONS } from "../../src/config/options.js";
import { SERVE_OPTIONS } from "../../src/config/serve-options.js";

const committed = readFileSync(new URL("../../.env.example", import.meta.url), "utf8");

it(".env.example is the generated text (regenerate: npm run build && npm run env-example)", () => {
  expect(committed).toBe(envExample());
});

it("lists every run and serve variable with its real default", () => {
  for (const o of [...RUN_OPTIONS, ...SERVE_OPTIONS]) {
    const def = Array.isArray(o.default) ? o.default.join(",") : String(o.default);
    expect(committed.split("\n"), o.env).toContain(`# ${o.env}=${def}`);
  }
});

it("uncommented, it is a .env sluice can read: every line parses to the name and default shown", () => {
  const uncommented = committed
    .split("\n")
    .filter((l) => /^# [A-Z][A-Z0-9_]*=/.test(l))
    .map((l) => l.slice(2))
    .join("\n");
  const parsed = parseEnv(uncommented);
  expect(parsed.SLUICE_INPUT).toBe("./data/staging");
  expect(parsed.SLUICE_LISTEN).toBe("127.0.0.1:8080");
  expect(Object.keys(parsed).length).toBeGreaterThan(RUN_OPTIONS.length + SERVE_OPTIONS.length);
});
