import { readFileSync } from "node:fs";
import { Command, CommanderError, Option } from "commander";
import { RUN_OPTIONS } from "../config/options.js";
import { SERVE_OPTIONS } from "../config/serve-options.js";
import { runCommand } from "./commands/run.js";

// `serve` (Fastify, ~90 ms to load), `verify` and the client commands are imported when chosen, so `sluice run`
// starts without them.
const serveCommand = async (opts: Record<string, unknown>) => (await import("./commands/serve.js")).serveCommand(opts);
const verifyCommand = async (opts: Record<string, unknown>) =>
  (await import("./commands/verify.js")).verifyCommand(opts);
const clientCommands = () => import("./commands/client-commands.js");

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

function buildProgram(): Command {
  const program = new Command("sluice")
    .description("Exactly-once file ingestion from a staging directory into a date-partitioned warehouse")
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  const addRunOptions = (cmd: Command) => {
    for (const spec of RUN_OPTIONS) {
      const def = Array.isArray(spec.default) ? spec.default.join(",") || "none" : String(spec.default);
      cmd.addOption(new Option(spec.flag, `${spec.help} [env ${spec.env}; default ${def}]`));
      // With both --x and --no-x declared commander sets no implicit default, so the environment and .env still apply.
      if (spec.flag.startsWith("--no-")) cmd.addOption(new Option(`--${spec.flag.slice(5)}`).hideHelp());
    }
  };
  const sub = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });

  const run = sub("run", "watch the staging directory and ingest every complete file exactly once");
  addRunOptions(run);
  run.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runCommand(opts);
  });

  const serve = sub("serve", "`run` plus the HTTP API: uploads, file status, /metrics, /healthz, /readyz");
  addRunOptions(serve);
  for (const spec of SERVE_OPTIONS) {
    const option = new Option(spec.flag, `${spec.help} [env ${spec.env}; default ${String(spec.default) || "none"}]`);
    // A list flag may be repeated (`--allowed-host a --allowed-host b`): each use is kept, not just the last.
    if (spec.kind === "list")
      option.argParser((value: string, previous: unknown) => [...((previous as string[]) ?? []), value]);
    serve.addOption(option);
  }
  serve.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await serveCommand(opts);
  });

  const verify = sub(
    "verify",
    "reconcile state, manifests and warehouse: every stored file with its SHA-256 and one manifest line, nothing orphaned",
  );
  addRunOptions(verify);
  verify
    .option("--json", "the report as one JSON document")
    .option("--repair", "rewrite missing manifest lines from state and remove temp files; say what was done")
    .option("--stuck-minutes <n>", "an unfinished file older than this is drift (default 10)")
    .action(async (opts: Record<string, unknown>) => {
      process.exitCode = await verifyCommand(opts);
    });

  const client = (cmd: Command) =>
    cmd
      .option("--server <url>", "sluice server [env SLUICE_SERVER; default http://127.0.0.1:8080]")
      .option("--token <token>", "API token [env SLUICE_API_TOKEN]")
      .option("--json", "machine-readable output");
  client(sub("upload", "send files to a sluice server").argument("<file...>"))
    .option("--wait", "wait until each file is processed; exit 1 if one failed")
    .action(async (files: string[], opts: Record<string, unknown>) => {
      process.exitCode = await (await clientCommands()).uploadCommand(files, opts);
    });
  client(sub("status", "show one file").argument("<id>")).action(async (id: string, opts: Record<string, unknown>) => {
    process.exitCode = await (await clientCommands()).statusCommand(id, opts);
  });
  client(sub("ls", "list files, newest first"))
    .option("--status <status>", "waiting, processing, processed, partial, failed or duplicate")
    .option("--q <text>", "part of the name")
    .option("--limit <n>", "how many (1-500)", "50")
    .action(async (opts: Record<string, unknown>) => {
      process.exitCode = await (await clientCommands()).lsCommand(opts);
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
