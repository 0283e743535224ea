import type { ValueOf } from "./kinds.js";
import { type CommandName, envName, fileKey, flagName, type OptionDecl, settable } from "./option.js";
import { DAY_TWO_OPTIONS } from "./schema-day-two.js";
import { RUN_OPTIONS } from "./schema-run.js";
import { COMMAND_OPTIONS, S3_OPTIONS, SERVE_OPTIONS } from "./schema-serve.js";

/**
 * The one declaration of sluice's configuration. From it come the TypeScript type of the options
 * ({@link Options}), each command's flags (cli-flags.ts), the environment names, the config file's keys, the
 * checks and their messages (layers.ts), `.env.example` and docs/configuration.md.
 */
export const OPTIONS = {
  ...RUN_OPTIONS,
  ...S3_OPTIONS,
  ...SERVE_OPTIONS,
  ...COMMAND_OPTIONS,
  ...DAY_TWO_OPTIONS,
} as const;

export type OptionKey = keyof typeof OPTIONS;
/** Every option's value once read and checked: sizes in bytes, durations in milliseconds. */
export type Options = { -readonly [K in OptionKey]: ValueOf<(typeof OPTIONS)[K]["kind"]> };

export const OPTION_KEYS = Object.keys(OPTIONS) as OptionKey[];

export function decl(key: OptionKey): OptionDecl<unknown> {
  return OPTIONS[key] as OptionDecl<unknown>;
}

/** The options a command lists in `--help` and reads, in declaration order. */
export function optionsOf(command: CommandName): OptionKey[] {
  return OPTION_KEYS.filter((k) => decl(k).commands.includes(command));
}

/** Everything an option is called: its flag, environment name, file key, old names. */
export function namesOf(key: OptionKey) {
  const d = decl(key);
  return {
    flag: flagName(key, d),
    env: settable(d, "env") ? envName(key) : null,
    file: settable(d, "file") ? fileKey(key) : null,
    oldEnv: d.oldEnv ?? [],
    oldFlags: d.oldFlags ?? [],
    fallbackEnv: d.fallbackEnv ?? [],
  };
}

/** The config file's keys, for the check that refuses any other. */
export const FILE_KEYS: ReadonlyMap<string, OptionKey> = new Map(
  OPTION_KEYS.flatMap((k) => {
    const f = namesOf(k).file;
    return f ? [[f, k] as const] : [];
  }),
);

/** How the docs and `--help` show an option's default. */
export function shownDefault(key: OptionKey): string {
  const d = decl(key);
  if (d.defaultText) return d.defaultText;
  const v = d.default;
  if (Array.isArray(v) && v.length === 0) return "none";
  if (v === "") return "none";
  return d.kind.show(v);
}

/** The options by docs section, sections in the order they are first declared. */
export function optionsByGroup(): Map<string, OptionKey[]> {
  const out = new Map<string, OptionKey[]>();
  for (const key of OPTION_KEYS) {
    const g = decl(key).group;
    out.set(g, [...(out.get(g) ?? []), key]);
  }
  return out;
}
