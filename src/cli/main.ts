import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { declareFlags } from "../config/cli-flags.js";
import { runCommand } from "./commands/run.js";

// `serve` (Fastify, ~90 ms to load), `verify` and the client commands are imported when chosen, so `sluice run`
// starts without them.
const serveCommand = async (opts: Record<string, unknown>) => (await import("./commands/serve.js")).serveCommand(opts);
const verifyCommand = async (opts: Record<string, unknown>) =>
  (await import("./commands/verify.js")).verifyCommand(opts);
const clientCommands = () => import("./commands/client-commands.js");

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };

/** The whole command line; each command's flags come from the option schema (config/schema.ts). */
export function buildProgram(): Command {
  const program = new Command("sluice")
    .description("Exactly-once file ingestion from a staging directory into a date-partitioned warehouse")
    .version(pkg.version)
    .exitOverride()
    .configureOutput({ writeErr: () => undefined });
  const sub = (name: string, description: string) =>
    program
      .command(name)
      .description(description)
      .exitOverride()
      .configureOutput({ writeErr: () => undefined });

  const run = declareFlags(
    sub("run", "watch the staging directory and ingest every complete file exactly once"),
    "run",
  );
  run.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await runCommand(opts);
  });

  const serve = declareFlags(
    sub("serve", "`run` plus the HTTP API: uploads, file status, /metrics, /healthz, /readyz"),
    "serve",
  );
  serve.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await serveCommand(opts);
  });

  const verify = declareFlags(
    sub(
      "verify",
      "reconcile state, manifests and warehouse: every stored file with its SHA-256 and one manifest line, nothing orphaned",
    ),
    "verify",
  );
  verify.action(async (opts: Record<string, unknown>) => {
    process.exitCode = await verifyCommand(opts);
  });

  // Day-two commands (issue 21): each in its own module, loaded when chosen.
  declareFlags(
    sub("requeue", "put quarantined files back through the pipeline, each linked to its failed attempt").argument(
      "[id...]",
    ),
    "requeue",
  ).action(async (ids: string[], opts: Record<string, unknown>) => {
    process.exitCode = await (await import("./commands/requeue.js")).requeueCommand(ids, opts);
  });
  declareFlags(
    sub("reprocess", "re-derive outputs from the stored raw bytes with today's processors and schema").argument(
      "[id...]",
    ),
    "reprocess",
  ).action(async (ids: string[], opts: Record<string, unknown>) => {
    process.exitCode = await (await import("./commands/reprocess.js")).reprocessCommand(ids, opts);
  });
  declareFlags(
    sub("prune", "drop the detail of old files from the state, keeping what duplicate detection needs"),
    "prune",
  ).action(async (opts: Record<string, unknown>) => {
    process.exitCode = await (await import("./commands/prune.js")).pruneCommand(opts);
  });

  declareFlags(sub("upload", "send files to a sluice server").argument("<file...>"), "upload").action(
    async (files: string[], opts: Record<string, unknown>) => {
      process.exitCode = await (await clientCommands()).uploadCommand(files, opts);
    },
  );
  declareFlags(sub("status", "show one file").argument("<id>"), "status").action(
    async (id: string, opts: Record<string, unknown>) => {
      process.exitCode = await (await clientCommands()).statusCommand(id, opts);
    },
  );
  declareFlags(sub("ls", "list files, newest first"), "ls").action(async (opts: Record<string, unknown>) => {
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
