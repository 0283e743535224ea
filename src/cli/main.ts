import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { RUN_OPTIONS } from "../config/options.js";
import { runCommand } from "./commands/run.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function buildProgram(): Command {
  const program = new Command("sluice")
    .description("Exactly-once file ingestion from a staging directory into a date-partitioned warehouse")
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  const run = program
    .command("run")
    .description("watch the staging directory and ingest every complete file exactly once")
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  for (const spec of RUN_OPTIONS) {
    const def = Array.isArray(spec.default) ? spec.default.join(",") || "none" : String(spec.default);
    run.addOption(new Option(spec.flag, `${spec.help} [env ${spec.env}; default ${def}]`));
    // With both --x and --no-x declared commander sets no implicit default, so the environment and .env still apply.
    if (spec.flag.startsWith("--no-")) run.addOption(new Option(`--${spec.flag.slice(5)}`).hideHelp());
  }
  run.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runCommand(opts);
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0) {
        process.exitCode = 0;
        return;
      }
      process.stderr.write(`sluice: ${err.message.replace(/^error: /, "")} (see sluice --help)\n`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
