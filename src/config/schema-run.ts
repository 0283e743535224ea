import { z } from "zod";
import { notifyUrlProblem } from "../notify/targets.js";
import { bool, choice, duration, list, num, size, text } from "./kinds.js";
import { type CommandName, option } from "./option.js";

/**
 * The options of `sluice run` (which `sluice serve` also takes). `verify` reads the ones naming where things are;
 * see schema.ts for how the declarations become flags, environment names and file keys.
 */

/** `requeue` and `reprocess` put files through the pipeline again: they take everything `run` takes. */
const RUN: readonly CommandName[] = ["run", "serve", "requeue", "reprocess"];
/** Where files, manifests and state are: what `verify` needs to find them too. */
const STORED: readonly CommandName[] = ["run", "serve", "verify", "requeue", "reprocess", "prune"];
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** `--notify` URLs: http(s):// webhooks and nats://HOST:PORT/SUBJECT JetStream subjects. */
const notifyUrls = {
  ...list("<url...>"),
  type: "list of URLs",
  schema: z.array(
    z.string().superRefine((u, ctx) => {
      const problem = notifyUrlProblem(u);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ),
};

const dir = (placeholder = "<dir>") => text({ type: "path", placeholder, schema: z.string().min(1, "a path") });

export const RUN_OPTIONS = {
  input: option({
    kind: dir(),
    default: "./data/staging",
    help: "staging directory to watch",
    commands: RUN,
    group: "Paths",
  }),
  warehouse: option({
    kind: text({ type: "path or s3:// URL", placeholder: "<dir-or-url>", schema: z.string().min(1, "a path") }),
    default: "./data/warehouse",
    help: "warehouse root: a directory, or s3://BUCKET/PREFIX; files land in ingest_date=YYYY-MM-DD/",
    commands: STORED,
    group: "Paths",
  }),
  manifests: option({
    kind: dir(),
    default: "./data/manifests",
    help: "manifest root; one JSONL line per file under YYYY/MM/DD/HH/manifest.jsonl",
    commands: STORED,
    group: "Paths",
  }),
  errors: option({
    kind: dir(),
    default: "./data/errors",
    help: "where failed files go, each with a .error.json beside it",
    commands: RUN,
    group: "Paths",
  }),
  statePath: option({
    kind: dir("<file>"),
    default: "./data/state/sluice.db",
    help: "SQLite state database (created if missing)",
    commands: STORED,
    group: "State and cluster",
  }),
  state: option({
    kind: text({
      type: "postgres:// URL",
      placeholder: "<url>",
      schema: z.string().refine((s) => s === "" || /^postgres(ql)?:\/\//.test(s), "a postgres:// or postgresql:// URL"),
    }),
    default: "",
    help: "PostgreSQL state shared by several nodes, postgres://USER@HOST:PORT/DB (replaces --state-path)",
    commands: STORED,
    group: "State and cluster",
  }),
  nodeId: option({
    kind: text({
      placeholder: "<id>",
      schema: z.string().regex(/^$|^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "letters, digits, . _ - (at most 63)"),
    }),
    default: "",
    defaultText: "the host name",
    help: "this node's name in a shared state; unique per running process",
    commands: STORED,
    group: "State and cluster",
  }),
  leaseSeconds: option({
    kind: duration({ bare: "s", min: 1000, max: HOUR }),
    default: 30_000,
    help: "shared state: a node silent this long is presumed dead, its claims freed and its unfinished files adopted",
    commands: STORED,
    group: "State and cluster",
  }),
  shutdownGraceSeconds: option({
    kind: duration({ bare: "s", min: 0, max: DAY }),
    default: 30_000,
    help: "on SIGTERM/SIGINT, how long files in flight get to finish before they are aborted and left to the next start",
    commands: RUN,
    group: "Watching",
  }),
  mode: option({
    kind: choice(["stability", "sidecar"], "<mode>"),
    default: "stability",
    help: "completion detection: stability (size+mtime unchanged for the window) or sidecar (NAME.ok appears)",
    commands: RUN,
    group: "Watching",
  }),
  stabilitySeconds: option({
    kind: duration({ bare: "s", min: 0, max: DAY }),
    default: 5000,
    help: "stability window, measured between sluice's own observations (decimals and 0 allowed)",
    commands: RUN,
    group: "Watching",
  }),
  scanInterval: option({
    kind: duration({ bare: "s", above: 0, max: DAY }),
    default: 10_000,
    help: "full rescan period, the safety net for lost file-system events",
    commands: RUN,
    group: "Watching",
  }),
  concurrency: option({
    kind: num({ whole: true, min: 1, max: 1024 }),
    default: 256,
    help: "files processed at once",
    commands: RUN,
    group: "Watching",
  }),
  recursive: option({
    kind: bool(),
    default: false,
    help: "also watch subdirectories (their relative path is kept in the warehouse)",
    commands: RUN,
    group: "Watching",
  }),
  dryRun: option({
    kind: bool(),
    default: false,
    help: "log what would be done; change nothing on disk or in state",
    commands: [...RUN, "prune"],
    group: "Watching",
  }),
  logLevel: option({
    kind: choice(["trace", "debug", "info", "warn", "error"], "<level>"),
    default: "info",
    help: "log level",
    commands: RUN,
    group: "Watching",
  }),
  once: option({
    kind: bool(),
    default: false,
    help: "ingest what is present, wait for pending files to become ready or vanish, then exit 0",
    commands: RUN,
    group: "Watching",
  }),
  ignore: option({
    kind: list("<glob...>"),
    default: [],
    help: "extra glob(s) of names to ignore; hidden files, *.tmp, *.part, *.swp are always ignored",
    commands: RUN,
    group: "Watching",
  }),
  metricsInterval: option({
    kind: duration({ bare: "s", min: 0 }),
    default: 10_000,
    help: "how often the metrics log line is written (0 = only at exit)",
    commands: RUN,
    group: "Watching",
  }),
  maxAttempts: option({
    kind: num({ whole: true, min: 1, max: 100 }),
    default: 3,
    help: "attempts at reading a source file before it goes to the error directory",
    commands: RUN,
    group: "Watching",
  }),
  convert: option({
    kind: bool(),
    default: true,
    flag: "--no-convert",
    help: "convert CSV, TSV, JSON, JSONL and SQL dumps to Parquet (archives are expanded either way); the flag turns it off",
    commands: RUN,
    group: "Processing",
  }),
  schema: option({
    kind: text({ type: "name or path", placeholder: "<name-or-file>" }),
    default: "",
    help: "validate tabular files: `sensor-readings` (built-in preset) or a JSON file of feeds matched by glob",
    commands: RUN,
    group: "Processing",
  }),
  duckdbMemoryLimit: option({
    kind: size(),
    default: 512e6,
    help: "memory DuckDB may use for one conversion before it spills to disk",
    commands: RUN,
    group: "Processing",
  }),
  convertThreads: option({
    kind: num({ whole: true, min: 0, max: 256 }),
    default: 0,
    help: "DuckDB threads for a conversion (0 = one per CPU); one conversion runs at a time",
    commands: RUN,
    group: "Processing",
  }),
  archiveDepth: option({
    kind: num({ whole: true, min: 0, max: 10 }),
    default: 2,
    help: "how deep archives inside archives are expanded (0 = archives are stored, not opened)",
    commands: RUN,
    group: "Archives",
  }),
  archiveMaxMembers: option({
    kind: num({ whole: true, min: 1 }),
    default: 10_000,
    help: "an archive with more members is rejected",
    commands: RUN,
    group: "Archives",
  }),
  archiveMaxBytes: option({
    kind: size(),
    default: 10 * 2 ** 30,
    help: "total expanded bytes allowed per archive",
    commands: RUN,
    group: "Archives",
  }),
  archiveMaxRatio: option({
    kind: num({ min: 1 }),
    default: 200,
    help: "expanded bytes ÷ archive bytes allowed (zip-bomb guard)",
    commands: RUN,
    group: "Archives",
  }),
  keepArchives: option({
    kind: bool(),
    default: true,
    flag: "--no-keep-archives",
    help: "store an expanded archive itself as well as its members (it is hashed and recorded either way); the flag stores only the members",
    commands: RUN,
    group: "Archives",
  }),
  warehouseMode: option({
    kind: text({
      type: "octal mode",
      placeholder: "<octal>",
      schema: z
        .string()
        .regex(/^0?[0-7]{3}$/, "an octal mode such as 0444 or 0440")
        // sluice reads what it stored (recovery, verify): the owner must keep read permission.
        .refine((m) => (Number.parseInt(m, 8) & 0o400) !== 0, "the owner (sluice) must be able to read: 0400 at least"),
    }),
    default: "0444",
    help: "permissions of stored files and their outputs (owner: sluice's user); group/other bits the source lacked are never added",
    commands: RUN,
    group: "Paths",
  }),
  notify: option({
    kind: notifyUrls,
    default: [],
    help: "send a CloudEvent for every file finished (ingested, duplicate, failed, processed) to this webhook (http(s)://) or JetStream subject (nats://HOST:PORT/SUBJECT); repeatable",
    commands: RUN,
    group: "Notifications",
  }),
  notifySecret: option({
    kind: text(),
    default: "",
    help: "webhooks: signs every POST (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256>); environment only",
    commands: RUN,
    group: "Notifications",
    from: ["env"],
  }),
  notifyTimeout: option({
    kind: duration({ bare: "s", min: 100, max: 10 * 60_000 }),
    default: 10_000,
    help: "one delivery (a webhook POST, a JetStream publish) that takes longer failed, and is tried again later",
    commands: RUN,
    group: "Notifications",
  }),
  notifyRetryMax: option({
    kind: duration({ bare: "s", min: 1000, max: DAY }),
    default: 300_000,
    help: "the longest wait between two attempts at one event (the wait doubles from 1 s up to this, with jitter)",
    commands: RUN,
    group: "Notifications",
  }),
} as const;
