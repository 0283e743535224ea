import { z } from "zod";
import { DEFAULT_PART_SIZE_BYTES, DEFAULT_QUEUE_SIZE, MIN_PART_SIZE_BYTES } from "../warehouse/s3/config.js";
import { bool, duration, list, num, size, text } from "./kinds.js";
import { type CommandName, option } from "./option.js";

/** The S3 warehouse's settings, `sluice serve`'s HTTP API, and the options of `verify` and the client commands. */

const S3: readonly CommandName[] = ["run", "serve", "verify", "requeue", "reprocess", "prune"];
const SERVE: readonly CommandName[] = ["serve"];
const CLIENT: readonly CommandName[] = ["upload", "status", "ls"];
const WEEK = 7 * 24 * 3_600_000;
const FILE_STATUSES = ["waiting", "processing", "processed", "partial", "failed", "duplicate"] as const;

export const S3_OPTIONS = {
  s3Endpoint: option({
    kind: text({ type: "URL", placeholder: "<url>" }),
    default: "",
    defaultText: "AWS itself",
    help: "S3-compatible endpoint, e.g. http://127.0.0.1:9000; credentials never go in a flag",
    commands: S3,
    group: "S3 warehouse",
    oldEnv: ["S3_ENDPOINT"],
    fallbackEnv: ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
  }),
  s3Region: option({
    kind: text({ placeholder: "<region>" }),
    default: "",
    defaultText: "us-east-1",
    help: "S3 region",
    commands: S3,
    group: "S3 warehouse",
    oldEnv: ["S3_REGION"],
    fallbackEnv: ["AWS_REGION", "AWS_DEFAULT_REGION"],
  }),
  s3ForcePathStyle: option({
    kind: bool(),
    default: false,
    defaultText: "true with an endpoint, else false",
    help: "address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT",
    commands: S3,
    group: "S3 warehouse",
    oldEnv: ["S3_FORCE_PATH_STYLE"],
  }),
  s3PartSize: option({
    // S3's multipart minimum, checked here so the error names where the value was written.
    kind: size({ min: MIN_PART_SIZE_BYTES }),
    default: DEFAULT_PART_SIZE_BYTES,
    help: "S3 multipart part size; files up to one part are sent in a single PUT",
    commands: ["run", "serve", "reprocess"],
    group: "S3 warehouse",
  }),
  s3ParallelParts: option({
    kind: num({ whole: true, min: 1, max: 64 }),
    default: DEFAULT_QUEUE_SIZE,
    help: "parts of one file uploaded at once; memory per large upload is about (part size + 1 MiB) × (n + 2)",
    commands: ["run", "serve", "reprocess"],
    group: "S3 warehouse",
  }),
  scratchDir: option({
    kind: text({ type: "path", placeholder: "<dir>" }),
    default: "",
    defaultText: "./data/scratch",
    help: "S3 warehouse only: local work area for archive members and Parquet being written (a directory warehouse uses WAREHOUSE/.sluice-tmp)",
    commands: S3,
    group: "S3 warehouse",
  }),
  s3Bucket: option({
    kind: text(),
    default: "",
    help: "bucket for an s3:// warehouse that names none (s3:///PREFIX)",
    commands: S3,
    group: "S3 warehouse",
    from: ["env"],
    oldEnv: ["S3_BUCKET"],
  }),
  s3AccessKey: option({
    kind: text(),
    default: "",
    defaultText: "the AWS SDK's chain",
    help: "S3 access key (with the secret key); without both, the AWS SDK's own chain (environment, profiles, roles)",
    commands: S3,
    group: "S3 warehouse",
    from: ["env"],
    oldEnv: ["S3_ACCESS_KEY"],
  }),
  s3SecretKey: option({
    kind: text(),
    default: "",
    help: "S3 secret key (with the access key)",
    commands: S3,
    group: "S3 warehouse",
    from: ["env"],
    oldEnv: ["S3_SECRET_KEY"],
  }),
} as const;

export const SERVE_OPTIONS = {
  listen: option({
    kind: text({ type: "host:port", placeholder: "<host:port>" }),
    default: "127.0.0.1:8080",
    help: "address of the HTTP API, dashboard and /metrics",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  apiToken: option({
    kind: text({ placeholder: "<token>" }),
    default: "",
    help: "serve: require `Authorization: Bearer <token>` on /api (16 characters or more, no whitespace); client commands: the token sent. Prefer the environment: a flag shows in process listings",
    commands: [...SERVE, ...CLIENT],
    group: "HTTP API (serve)",
    oldFlags: ["--token"],
    // A secret: not in the file, which is often committed.
    from: ["flag", "env"],
  }),
  allowedHosts: option({
    kind: list("<name>"),
    default: [],
    flag: "--allowed-host",
    help: "another name the Host header may carry (a proxy's or port-mapped name); repeat the flag or separate with commas",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  insecureNoAuth: option({
    kind: bool(),
    default: false,
    help: "allow listening on a non-loopback address without a token",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  maxUploadBytes: option({
    kind: size(),
    default: 10 * 2 ** 30,
    help: "largest file accepted by POST /api/v1/files (413 above)",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  headersTimeout: option({
    kind: duration({ bare: "s", above: 0, max: WEEK }),
    default: 30_000,
    help: "a connection whose request headers are not all in by then is answered 408 and closed",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  bodyIdleTimeout: option({
    kind: duration({ bare: "s", above: 0, max: WEEK }),
    default: 30_000,
    help: "an upload whose body sends no byte for this long is answered 408 and closed; nothing of it is ingested",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  uploadTimeout: option({
    kind: duration({ bare: "s", above: 0, max: WEEK }),
    default: 3_600_000,
    help: "longest time to receive a whole request (headers and body); past it: 408, closed, nothing ingested",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  maxUploads: option({
    kind: num({ whole: true, min: 1 }),
    default: 64,
    help: "uploads received at once, all clients together; more get 503 with Retry-After",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
  maxUploadsPerClient: option({
    kind: num({ whole: true, min: 1 }),
    default: 8,
    help: "uploads received at once from one client address; more get 503 with Retry-After",
    commands: SERVE,
    group: "HTTP API (serve)",
  }),
} as const;

export const COMMAND_OPTIONS = {
  stuckMinutes: option({
    kind: duration({ bare: "min", min: 0 }),
    default: 600_000,
    help: "an unfinished file older than this is drift",
    commands: ["verify"],
    group: "verify",
  }),
  repair: option({
    kind: bool(),
    default: false,
    help: "rewrite missing manifest lines from state and remove temp files; say what was done",
    commands: ["verify"],
    group: "verify",
    from: ["flag"],
  }),
  server: option({
    kind: text({ type: "URL", placeholder: "<url>", schema: z.string().min(1, "a URL") }),
    default: "http://127.0.0.1:8080",
    help: "the sluice server to talk to",
    commands: CLIENT,
    group: "Client commands (upload, status, ls)",
  }),
  json: option({
    kind: bool(),
    default: false,
    help: "machine-readable output (verify, requeue, reprocess, prune: the report as one JSON document)",
    commands: ["verify", "requeue", "reprocess", "prune", ...CLIENT],
    group: "Client commands (upload, status, ls)",
    from: ["flag"],
  }),
  config: option({
    kind: text({ type: "path", placeholder: "<file>" }),
    default: "",
    help: "TOML file of settings (keys as in docs/configuration.md); flags and the environment override it",
    commands: ["run", "serve", "verify", "requeue", "reprocess", "prune"],
    group: "Config file",
    from: ["flag", "env"],
  }),
  wait: option({
    kind: bool(),
    default: false,
    help: "wait until each file is processed; exit 1 if one failed",
    commands: ["upload"],
    group: "Client commands (upload, status, ls)",
    from: ["flag"],
  }),
  status: option({
    kind: text({
      placeholder: "<status>",
      schema: z.enum(["", ...FILE_STATUSES], { error: `one of ${FILE_STATUSES.join(", ")}` }),
    }),
    default: "",
    defaultText: "any",
    help: "only files in this status",
    commands: ["ls"],
    group: "Client commands (upload, status, ls)",
    from: ["flag"],
  }),
  q: option({
    kind: text({ placeholder: "<text>" }),
    default: "",
    help: "only files whose name holds this text",
    commands: ["ls"],
    group: "Client commands (upload, status, ls)",
    from: ["flag"],
  }),
  limit: option({
    kind: num({ whole: true, min: 1, max: 500 }),
    default: 50,
    help: "how many files to list",
    commands: ["ls"],
    group: "Client commands (upload, status, ls)",
    from: ["flag"],
  }),
} as const;
