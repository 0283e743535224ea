import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { RUN_OPTIONS } from "../../src/config/options.js";

it("the README documents every run flag with its environment variable", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const spec of RUN_OPTIONS) {
    expect(readme, spec.flag).toContain(`\`${spec.flag}\``);
    expect(readme, spec.env).toContain(`\`${spec.env}\``);
  }
});

it("the README states each flag's real default", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const spec of RUN_OPTIONS) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${spec.flag}\``));
    const shown = Array.isArray(spec.default) || spec.default === "" ? "—" : `\`${String(spec.default)}\``;
    expect(row, spec.flag).toContain(`| ${shown} |`);
  }
});

it("the README documents every serve flag with its environment variable and default", async () => {
  const { SERVE_OPTIONS } = await import("../../src/config/serve-options.js");
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  for (const spec of SERVE_OPTIONS) {
    const row = readme.split("\n").find((l) => l.startsWith(`| \`${spec.flag}\``));
    expect(row, spec.flag).toContain(`\`${spec.env}\``);
    const shown = spec.default === "" ? "—" : `\`${String(spec.default)}\``;
    expect(row, spec.flag).toContain(`| ${shown} |`);
  }
});
