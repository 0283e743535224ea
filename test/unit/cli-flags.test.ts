import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { runFlagsVerifyAccepts } from "../../src/config/cli-flags.js";
import { gatherLayers, resolveOptions } from "../../src/config/layers.js";
import { COMMANDS, flagAttribute } from "../../src/config/option.js";
import { resolveRunConfig } from "../../src/config/resolve.js";
import { namesOf, optionsOf } from "../../src/config/schema.js";
import { resolveServeConfig } from "../../src/config/serve-options.js";
import { SLUICE_BIN } from "../support/cli.js";

/** Each command's flags come from the schema, and its `--help` lists its own and no others. */

const program = buildProgram();
const command = (name: string) => program.commands.find((c) => c.name() === name) as Command;
const listed = (c: Command) =>
  c.options.filter((o) => !(o as unknown as { hidden: boolean }).hidden).map((o) => o.long as string);
const ownFlags = (name: (typeof COMMANDS)[number]) =>
  optionsOf(name)
    .map((k) => namesOf(k).flag)
    .filter((f): f is string => f !== null);

describe("flags per command", () => {
  it.each(COMMANDS)("%s lists exactly the options the schema gives it", (name) => {
    expect(listed(command(name)).sort()).toEqual(ownFlags(name).sort());
  });

  it("verify lists none of run's processing options, but accepts them unlisted", () => {
    const verify = listed(command("verify"));
    for (const f of ["--concurrency", "--input", "--errors", "--stability-seconds", "--duckdb-memory-limit"]) {
      expect(verify).not.toContain(f);
    }
    expect(verify).toEqual(expect.arrayContaining(["--warehouse", "--state-path", "--stuck-minutes", "--config"]));
    const accepted = command("verify").options.map((o) => o.long);
    // Every one that has a flag (a credential such as SLUICE_NOTIFY_SECRET is read from the environment only).
    const runFlags = runFlagsVerifyAccepts().flatMap((k) => namesOf(k).flag ?? []);
    expect(runFlags.length).toBeGreaterThan(20);
    for (const f of runFlags) expect(accepted).toContain(f);
  });

  it("`sluice verify --help` prints only verify's flags (the real executable)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [SLUICE_BIN, "verify", "--help"]);
    const flags = [...stdout.matchAll(/^ {2}(--[a-z0-9-]+)/gm)].map((m) => m[1]);
    expect(flags.sort()).toEqual(ownFlags("verify").sort());
    expect(stdout.replace(/\s+/g, " ")).toContain("[env SLUICE_STUCK_MINUTES; default 10min]");
  });

  it("every flag's value reaches its option: commander's property is the one the resolver reads", () => {
    for (const name of COMMANDS) {
      for (const o of command(name).options) {
        if (!o.long) continue;
        expect(flagAttribute(o.long), o.long).toBe(o.attributeName());
      }
    }
    const serve = command("serve");
    serve.parseOptions(["--allowed-host", "a.example", "--allowed-host", "b.example,c.example", "--no-convert"]);
    expect(resolveServeConfig(serve.opts(), {}, {}, "/tmp").allowedHosts).toEqual([
      "a.example",
      "b.example",
      "c.example",
    ]);
    expect(resolveRunConfig(serve.opts(), {}, {}, "/tmp").convert).toBe(false);
  });

  it("the client commands' old --token still sets the API token, with a warning", () => {
    const flags = program.commands.find((c) => c.name() === "ls") as Command;
    flags.parseOptions(["--token", "0123456789abcdef"]);
    const opts = flags.opts();
    const r = resolveOptions(["apiToken"], gatherLayers(opts, {}, {}, "/tmp"));
    expect(r.values.apiToken).toBe("0123456789abcdef");
    expect(r.from.apiToken).toBe("--token");
    expect(r.warnings).toEqual(["--token is the old name of --api-token"]);
    const both = resolveOptions(["apiToken"], gatherLayers({ apiToken: "new-token-0123456" }, {}, {}, "/tmp"));
    expect(both.values.apiToken).toBe("new-token-0123456");
  });
});
