import { type Command, Option } from "commander";
import type { CommandName } from "./option.js";
import { decl, namesOf, type OptionKey, optionsOf, shownDefault } from "./schema.js";

/**
 * `verify` runs against what `run` wrote and is often given the same command line: it takes run's other flags,
 * unlisted, and checks their values as run would, so one argument list (or one config file) serves both.
 */
export function runFlagsVerifyAccepts(): OptionKey[] {
  const own = optionsOf("verify");
  return optionsOf("run").filter((k) => !own.includes(k));
}

function declare(cmd: Command, key: OptionKey, hidden: boolean): void {
  const d = decl(key);
  const n = namesOf(key);
  if (!n.flag) return;
  const negated = n.flag.startsWith("--no-");
  const arg = d.kind.placeholder && !negated ? ` ${d.kind.placeholder}` : "";
  const where = n.env ? `env ${n.env}; ` : "";
  const option = new Option(`${n.flag}${arg}`, `${d.help} [${where}default ${shownDefault(key)}]`);
  // A list flag may be repeated (`--allowed-host a --allowed-host b`): each use is kept, not just the last.
  const repeatable = d.kind.list && !arg.endsWith("...>");
  if (repeatable) option.argParser((value: string, previous: unknown) => [...((previous as string[]) ?? []), value]);
  cmd.addOption(hidden ? option.hideHelp() : option);
  // With both --x and --no-x declared commander sets no implicit default, so the environment and file still apply.
  if (negated) cmd.addOption(new Option(`--${n.flag.slice(5)}`).hideHelp());
  for (const old of n.oldFlags) cmd.addOption(new Option(`${old}${arg}`).hideHelp());
}

/** Declares on `cmd` the flags of `command`, each with its help, environment name and default. */
export function declareFlags(cmd: Command, command: CommandName): Command {
  for (const key of optionsOf(command)) declare(cmd, key, false);
  if (command === "verify") for (const key of runFlagsVerifyAccepts()) declare(cmd, key, true);
  return cmd;
}
