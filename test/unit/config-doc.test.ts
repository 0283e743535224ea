import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { configurationDoc } from "../../src/config/config-doc.js";
import { namesOf, OPTION_KEYS, shownDefault } from "../../src/config/schema.js";

const committed = readFileSync(new URL("../../docs/configuration.md", import.meta.url), "utf8");

it("docs/configuration.md is what the schema generates (regenerate: npm run docs:config)", () => {
  expect(committed).toBe(configurationDoc());
});

it("documents every option on one row: its file key, flag, environment name, default and old names", () => {
  for (const key of OPTION_KEYS) {
    const n = namesOf(key);
    const row = committed.split("\n").find((l) => {
      const [file, flag, env] = l.split(" | ");
      return (
        file === `| ${n.file ? `\`${n.file}\`` : "—"}` &&
        env === (n.env ? `\`${n.env}\`` : "—") &&
        (n.flag ? new RegExp(`^\`${n.flag}( <[^>]+>)?\`$`).test(flag ?? "") : flag === "—")
      );
    });
    expect(row, key).toBeDefined();
    if (n.env) expect(row, key).toContain(`\`${n.env}\``);
    expect(row, key).toContain(`| ${shownDefault(key).replace(/\|/g, "\\|")} |`);
    for (const old of [...n.oldEnv, ...n.oldFlags]) expect(row, key).toContain(`\`${old}\``);
  }
});
