import type { Kind } from "./kinds.js";

/** Every command that takes options. The client commands talk to a running `sluice serve`. */
export const COMMANDS = ["run", "serve", "verify", "requeue", "reprocess", "prune", "upload", "status", "ls"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Where a value may be written: a flag, the environment (or `.env`), the config file. */
export type Layer = "flag" | "env" | "file";

/** One option, declared once: everything else (flags, environment, file keys, docs) is derived from this. */
export interface OptionDecl<T> {
  readonly kind: Kind<T>;
  readonly default: T;
  /** Shown instead of the default when the real one is decided at start ("the host name"). */
  readonly defaultText?: string;
  readonly help: string;
  /** The commands that list it in `--help` and read it. */
  readonly commands: readonly CommandName[];
  /** Its section in docs/configuration.md and .env.example. */
  readonly group: string;
  /** The flag when it is not `--` + the key in kebab case (`--no-convert`, `--allowed-host`); null: no flag. */
  readonly flag?: string | null;
  /** Old names still read, each with a warning naming the new one. */
  readonly oldEnv?: readonly string[];
  readonly oldFlags?: readonly string[];
  /**
   * Other tools' standard names (AWS_REGION), often set machine-wide: read after the config file, so anything
   * written for sluice wins, and without a warning.
   */
  readonly fallbackEnv?: readonly string[];
  /**
   * Where it may be set; all three unless said. `["flag"]`: a choice for one invocation (`--json`). `["env"]`:
   * credentials, never a flag (it would show in process listings) nor the file (which is often committed).
   */
  readonly from?: readonly Layer[];
}

/** `statePath` → `state_path`, the key in the config file. */
export function fileKey(key: string): string {
  return key.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
}

/** `statePath` → `SLUICE_STATE_PATH`: the one scheme for every environment name. */
export function envName(key: string): string {
  return `SLUICE_${fileKey(key).toUpperCase()}`;
}

/** `statePath` → `--state-path` unless the declaration names its flag. */
export function flagName(key: string, decl: OptionDecl<unknown>): string | null {
  if (decl.flag !== undefined) return decl.flag;
  if (!settable(decl, "flag")) return null;
  return `--${fileKey(key).replace(/_/g, "-")}`;
}

/** The option's type as declared by its kind: `option()` only checks the default against it at compile time. */
export function option<T>(decl: OptionDecl<T>): OptionDecl<T> {
  return decl;
}

export function settable(decl: OptionDecl<unknown>, layer: Layer): boolean {
  return decl.from === undefined || decl.from.includes(layer);
}

/** The property commander stores a flag's value under: `--allowed-host` → `allowedHost`, `--no-convert` → `convert`. */
export function flagAttribute(flag: string): string {
  return flag.replace(/^--(no-)?/, "").replace(/-(.)/g, (_, c: string) => c.toUpperCase());
}
