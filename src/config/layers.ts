import { existsSync, readFileSync } from "node:fs";
import { resolve as resolvePath } from "node:path";
import { parseEnv } from "node:util";
import { parse as parseToml } from "smol-toml";
import { SluiceError } from "../core/errors.js";
import { envName, fileKey, flagAttribute } from "./option.js";
import { decl, FILE_KEYS, namesOf, OPTION_KEYS, type OptionKey, type Options } from "./schema.js";

/**
 * Reads every option from its layers, first found wins: flag > environment > `.env` > config file > default. An
 * option's old environment names are read right after its new one (with a warning); other tools' standard names
 * (AWS_REGION) right after the file, so whatever is written for sluice beats what is set machine-wide.
 */

type Env = Record<string, string | undefined>;

export interface ConfigFile {
  path: string;
  values: Record<string, unknown>;
}

export interface Layers {
  /** Flag values by option key, as commander gives them (strings, booleans, arrays) or typed (in-process callers). */
  flags: Record<string, unknown>;
  env: Env;
  dotEnv: Record<string, string>;
  file: ConfigFile | null;
}

export interface Resolved<K extends OptionKey> {
  values: Pick<Options, K>;
  /** Where each value came from: `--concurrency`, `SLUICE_CONCURRENCY`, `.env S3_ENDPOINT`, `sluice.toml: concurrency`, `default`. */
  from: Record<K, string>;
  /** One line each: an old name in use. */
  warnings: string[];
}

/** Reads `.env` in the working directory without touching process.env. */
export function readDotEnv(cwd: string): Record<string, string> {
  const path = resolvePath(cwd, ".env");
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, "utf8")) as Record<string, string>;
}

/** A configuration warning (an old name in use): one line on stderr, before the log starts. */
export function warnLine(line: string): void {
  process.stderr.write(`sluice: warning: ${line}\n`);
}

function configError(message: string): SluiceError {
  return new SluiceError("SLUICE_ERR_CONFIG", message);
}

/** The nearest known key, for "did you mean": a typo is an error, and the error should fix it. */
function nearest(key: string): string | null {
  let best: string | null = null;
  let bestCost = 3;
  for (const k of FILE_KEYS.keys()) {
    const d = editDistance(key, k);
    if (d < bestCost) [best, bestCost] = [k, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(
        (prev[j] ?? 0) + 1,
        (cur[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Parses a TOML config file; a key sluice does not know is an error naming it (a typo must not be ignored). */
export function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw configError(`config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let values: Record<string, unknown>;
  try {
    values = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw configError(`${path}: ${(err as Error).message.replace(/\n[\s\S]*$/, "")} (${tomlPlace(err)})`);
  }
  for (const key of Object.keys(values)) {
    if (FILE_KEYS.has(key)) continue;
    const option = OPTION_KEYS.find((k) => fileKey(k) === key);
    if (option) {
      // A secret (the file is often committed) or a choice of one invocation (--json).
      const names = namesOf(option);
      throw configError(
        `${path}: "${key}" is not read from a file: use ${[names.env, names.flag].filter(Boolean).join(" or ")}`,
      );
    }
    const hint = nearest(key);
    throw configError(`${path}: unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ""}`);
  }
  return { path, values };
}

function tomlPlace(err: unknown): string {
  const e = err as { line?: number; column?: number };
  return e.line ? `line ${e.line}, column ${e.column}` : "unparsable";
}

/** The layers for one invocation: `.env` as given, and the config file named by --config, SLUICE_CONFIG or `.env`. */
export function gatherLayers(
  flags: Record<string, unknown>,
  env: Env,
  dotEnv: Record<string, string>,
  cwd: string,
): Layers {
  const name = envName("config");
  const given = flags.config ?? env[name] ?? dotEnv[name];
  const path = typeof given === "string" && given !== "" ? resolvePath(cwd, given) : null;
  return { flags, env, dotEnv, file: path ? readConfigFile(path) : null };
}

/**
 * A value as it may be echoed in an error: the password of anything shaped like a URL with credentials
 * (`scheme://user:secret@host`) is masked, since stderr is often collected with the logs.
 */
function shown(v: unknown): string {
  const s = JSON.stringify(typeof v === "string" ? v.replace(/^([^:/?#\s]*:?\/*[^:@/\s]*:)[^@\s]*@/, "$1***@") : v);
  return s ?? String(v);
}

type Found = { value: unknown; from: string; typed: boolean };

/** Where `key`'s value comes from, in precedence order, and any old names seen on the way. */
function find(key: OptionKey, layers: Layers, warnings: string[]): Found | null {
  const names = namesOf(key);
  // In-process callers name an option by its key; commander by its flag (`--allowed-host` → allowedHost).
  const flagValue = names.flag ? (layers.flags[key] ?? layers.flags[flagAttribute(names.flag)]) : undefined;
  if (flagValue !== undefined && names.flag) {
    return { value: flagValue, from: names.flag, typed: typeof flagValue !== "string" };
  }
  for (const old of names.oldFlags) {
    const v = layers.flags[flagAttribute(old)];
    if (v !== undefined) {
      warnings.push(`${old} is the old name of ${names.flag}`);
      return { value: v, from: old, typed: typeof v !== "string" };
    }
  }
  if (names.env) {
    for (const [source, prefix] of [
      [layers.env, ""],
      [layers.dotEnv, ".env "],
    ] as const) {
      const hit = [names.env, ...names.oldEnv].find((n) => source[n] !== undefined);
      for (const old of names.oldEnv) {
        if (source[old] === undefined) continue;
        warnings.push(
          hit === old
            ? `${prefix}${old} is an old name: use ${names.env}`
            : `${prefix}${old} is ignored: ${hit} is set`,
        );
      }
      if (hit) return { value: source[hit], from: `${prefix}${hit}`, typed: false };
    }
  }
  const file = layers.file;
  if (file && names.file && Object.hasOwn(file.values, names.file)) {
    return { value: file.values[names.file], from: `${file.path}: ${names.file}`, typed: true };
  }
  for (const name of names.fallbackEnv) {
    if (layers.env[name]) return { value: layers.env[name], from: name, typed: false };
    if (layers.dotEnv[name]) return { value: layers.dotEnv[name], from: `.env ${name}`, typed: false };
  }
  return null;
}

/** Reads and checks `keys`; the first bad value throws, naming where it came from and what was expected. */
export function resolveOptions<K extends OptionKey>(keys: readonly K[], layers: Layers): Resolved<K> {
  const values = {} as Pick<Options, K>;
  const from = {} as Record<K, string>;
  const warnings: string[] = [];
  for (const key of keys) {
    const d = decl(key);
    const found = find(key, layers, warnings);
    if (!found) {
      (values as Record<string, unknown>)[key] = d.default;
      from[key] = "default";
      continue;
    }
    const { value, typed } = found;
    let read: unknown;
    if (d.kind.list && Array.isArray(value)) read = value.flatMap((v) => d.kind.fromText(String(v)) as string[]);
    else read = typed ? d.kind.fromFile(value) : d.kind.fromText(String(value));
    if (read === undefined) throw configError(`${found.from}: expected ${d.kind.expected} (got ${shown(value)})`);
    const checked = d.kind.schema.safeParse(read);
    if (!checked.success) {
      const message = checked.error.issues[0]?.message ?? "invalid value";
      throw configError(`${found.from}: ${message} (got ${shown(value)})`);
    }
    (values as Record<string, unknown>)[key] = checked.data;
    from[key] = found.from;
  }
  return { values, from, warnings };
}
