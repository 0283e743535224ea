/**
 * Every user-settable option of `sluice run`, in one table: the CLI flag, the
 * environment variable (also read from `.env`), the default and the help text.
 * The README's usage table and `--help` both come from here.
 */
export interface OptionSpec {
  key: keyof RawRunOptions;
  flag: string;
  env: string;
  kind: "string" | "number" | "boolean" | "list";
  default: string | number | boolean | string[];
  help: string;
}

export interface RawRunOptions {
  input: string;
  warehouse: string;
  manifests: string;
  errors: string;
  statePath: string;
  state: string;
  nodeId: string;
  leaseSeconds: number;
  shutdownGraceSeconds: number;
  mode: string;
  stabilitySeconds: number;
  scanInterval: number;
  concurrency: number;
  recursive: boolean;
  dryRun: boolean;
  logLevel: string;
  once: boolean;
  ignore: string[];
  metricsInterval: number;
  maxAttempts: number;
  convert: boolean;
  schema: string;
  duckdbMemoryLimit: string;
  convertThreads: number;
  archiveDepth: number;
  archiveMaxMembers: number;
  archiveMaxBytes: number;
  archiveMaxRatio: number;
  keepArchives: boolean;
  warehouseMode: string;
  scratchDir: string;
  s3Endpoint: string;
  s3Region: string;
  s3ForcePathStyle: boolean;
  s3PartSize: number;
  s3ParallelParts: number;
}

export const RUN_OPTIONS: readonly OptionSpec[] = [
  {
    key: "input",
    flag: "--input <dir>",
    env: "SLUICE_INPUT",
    kind: "string",
    default: "./data/staging",
    help: "staging directory to watch",
  },
  {
    key: "warehouse",
    flag: "--warehouse <dir-or-url>",
    env: "SLUICE_WAREHOUSE",
    kind: "string",
    default: "./data/warehouse",
    help: "warehouse root: a directory, or s3://BUCKET/PREFIX; files land in ingest_date=YYYY-MM-DD/",
  },
  {
    key: "manifests",
    flag: "--manifests <dir>",
    env: "SLUICE_MANIFESTS",
    kind: "string",
    default: "./data/manifests",
    help: "manifest root; one JSONL line per file under YYYY/MM/DD/HH/manifest.jsonl",
  },
  {
    key: "errors",
    flag: "--errors <dir>",
    env: "SLUICE_ERRORS",
    kind: "string",
    default: "./data/errors",
    help: "where failed files go, each with a .error.json beside it",
  },
  {
    key: "statePath",
    flag: "--state-path <file>",
    env: "SLUICE_STATE_PATH",
    kind: "string",
    default: "./data/state/sluice.db",
    help: "SQLite state database (created if missing)",
  },
  {
    key: "state",
    flag: "--state <url>",
    env: "SLUICE_STATE",
    kind: "string",
    default: "",
    help: "PostgreSQL state shared by several nodes, postgres://USER@HOST:PORT/DB (replaces --state-path)",
  },
  {
    key: "nodeId",
    flag: "--node-id <id>",
    env: "SLUICE_NODE_ID",
    kind: "string",
    default: "",
    help: "this node's name in a shared state (default: the host name); unique per running process",
  },
  {
    key: "leaseSeconds",
    flag: "--lease-seconds <n>",
    env: "SLUICE_LEASE_SECONDS",
    kind: "number",
    default: 30,
    help: "shared state: a node silent this long is presumed dead, its claims freed and its unfinished files adopted",
  },
  {
    key: "shutdownGraceSeconds",
    flag: "--shutdown-grace-seconds <n>",
    env: "SLUICE_SHUTDOWN_GRACE_SECONDS",
    kind: "number",
    default: 30,
    help: "on SIGTERM/SIGINT, how long files in flight get to finish before they are aborted and left to the next start",
  },
  {
    key: "mode",
    flag: "--mode <mode>",
    env: "SLUICE_MODE",
    kind: "string",
    default: "stability",
    help: "completion detection: stability (size+mtime unchanged for the window) or sidecar (NAME.ok appears)",
  },
  {
    key: "stabilitySeconds",
    flag: "--stability-seconds <n>",
    env: "SLUICE_STABILITY_SECONDS",
    kind: "number",
    default: 5,
    help: "stability window in seconds, measured between sluice's own observations (decimals and 0 allowed)",
  },
  {
    key: "scanInterval",
    flag: "--scan-interval <seconds>",
    env: "SLUICE_SCAN_INTERVAL",
    kind: "number",
    default: 10,
    help: "full rescan period, the safety net for lost file-system events",
  },
  {
    key: "concurrency",
    flag: "--concurrency <n>",
    env: "SLUICE_CONCURRENCY",
    kind: "number",
    default: 256,
    help: "files processed at once",
  },
  {
    key: "recursive",
    flag: "--recursive",
    env: "SLUICE_RECURSIVE",
    kind: "boolean",
    default: false,
    help: "also watch subdirectories (their relative path is kept in the warehouse)",
  },
  {
    key: "dryRun",
    flag: "--dry-run",
    env: "SLUICE_DRY_RUN",
    kind: "boolean",
    default: false,
    help: "log what would be done; change nothing on disk or in state",
  },
  {
    key: "logLevel",
    flag: "--log-level <level>",
    env: "SLUICE_LOG_LEVEL",
    kind: "string",
    default: "info",
    help: "trace, debug, info, warn or error",
  },
  {
    key: "once",
    flag: "--once",
    env: "SLUICE_ONCE",
    kind: "boolean",
    default: false,
    help: "ingest what is present, wait for pending files to become ready or vanish, then exit 0",
  },
  {
    key: "ignore",
    flag: "--ignore <glob...>",
    env: "SLUICE_IGNORE",
    kind: "list",
    default: [],
    help: "extra glob(s) of names to ignore (comma-separated in the environment); hidden files, *.tmp, *.part, *.swp are always ignored",
  },
  {
    key: "metricsInterval",
    flag: "--metrics-interval <seconds>",
    env: "SLUICE_METRICS_INTERVAL",
    kind: "number",
    default: 10,
    help: "how often the metrics log line is written (0 = only at exit)",
  },
  {
    key: "maxAttempts",
    flag: "--max-attempts <n>",
    env: "SLUICE_MAX_ATTEMPTS",
    kind: "number",
    default: 3,
    help: "attempts at reading a source file before it goes to the error directory",
  },
  {
    key: "convert",
    flag: "--no-convert",
    env: "SLUICE_CONVERT",
    kind: "boolean",
    default: true,
    help: "do not convert CSV, TSV, JSON, JSONL and SQL dumps to Parquet (archives are still expanded)",
  },
  {
    key: "schema",
    flag: "--schema <name-or-file>",
    env: "SLUICE_SCHEMA",
    kind: "string",
    default: "",
    help: "validate tabular files: `sensor-readings` (built-in preset) or a JSON file of feeds matched by glob",
  },
  {
    key: "duckdbMemoryLimit",
    flag: "--duckdb-memory-limit <size>",
    env: "SLUICE_DUCKDB_MEMORY_LIMIT",
    kind: "string",
    default: "512MB",
    help: "memory DuckDB may use for one conversion before it spills to disk",
  },
  {
    key: "convertThreads",
    flag: "--convert-threads <n>",
    env: "SLUICE_CONVERT_THREADS",
    kind: "number",
    default: 0,
    help: "DuckDB threads for a conversion (0 = one per CPU); one conversion runs at a time",
  },
  {
    key: "archiveDepth",
    flag: "--archive-depth <n>",
    env: "SLUICE_ARCHIVE_DEPTH",
    kind: "number",
    default: 2,
    help: "how deep archives inside archives are expanded (0 = archives are stored, not opened)",
  },
  {
    key: "archiveMaxMembers",
    flag: "--archive-max-members <n>",
    env: "SLUICE_ARCHIVE_MAX_MEMBERS",
    kind: "number",
    default: 10000,
    help: "an archive with more members is rejected",
  },
  {
    key: "archiveMaxBytes",
    flag: "--archive-max-bytes <n>",
    env: "SLUICE_ARCHIVE_MAX_BYTES",
    kind: "number",
    default: 10737418240,
    help: "total expanded bytes allowed per archive",
  },
  {
    key: "archiveMaxRatio",
    flag: "--archive-max-ratio <n>",
    env: "SLUICE_ARCHIVE_MAX_RATIO",
    kind: "number",
    default: 200,
    help: "expanded bytes ÷ archive bytes allowed (zip-bomb guard)",
  },
  {
    key: "keepArchives",
    flag: "--no-keep-archives",
    env: "SLUICE_KEEP_ARCHIVES",
    kind: "boolean",
    default: true,
    help: "store only the members of an expanded archive, not the archive itself (it is still hashed and recorded)",
  },
  {
    key: "warehouseMode",
    flag: "--warehouse-mode <octal>",
    env: "SLUICE_WAREHOUSE_MODE",
    kind: "string",
    default: "0444",
    help: "permissions of stored files and their outputs (owner: sluice's user); group/other bits the source lacked are never added",
  },
  {
    key: "scratchDir",
    flag: "--scratch-dir <dir>",
    env: "SLUICE_SCRATCH_DIR",
    kind: "string",
    default: "",
    help: "S3 warehouse only: local work area for archive members and Parquet being written (default ./data/scratch; a directory warehouse uses WAREHOUSE/.sluice-tmp)",
  },
  {
    key: "s3Endpoint",
    flag: "--s3-endpoint <url>",
    env: "S3_ENDPOINT",
    kind: "string",
    default: "",
    help: "S3-compatible endpoint, e.g. http://127.0.0.1:9000 (also AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL); none for AWS itself. Credentials never go in a flag: S3_ACCESS_KEY + S3_SECRET_KEY, or the AWS SDK chain",
  },
  {
    key: "s3Region",
    flag: "--s3-region <region>",
    env: "S3_REGION",
    kind: "string",
    default: "",
    help: "S3 region (also AWS_REGION, AWS_DEFAULT_REGION; us-east-1 when none is set)",
  },
  {
    key: "s3ForcePathStyle",
    flag: "--s3-force-path-style",
    env: "S3_FORCE_PATH_STYLE",
    kind: "boolean",
    default: false,
    help: "address buckets as ENDPOINT/BUCKET rather than BUCKET.ENDPOINT (the default anyway with --s3-endpoint)",
  },
  {
    key: "s3PartSize",
    flag: "--s3-part-size <bytes>",
    env: "SLUICE_S3_PART_SIZE",
    kind: "number",
    default: 8388608,
    help: "S3 multipart part size (at least 5 MiB); files up to one part are sent in a single PUT",
  },
  {
    key: "s3ParallelParts",
    flag: "--s3-parallel-parts <n>",
    env: "SLUICE_S3_PARALLEL_PARTS",
    kind: "number",
    default: 4,
    help: "parts of one file uploaded at once; memory per large upload is about (part size + 1 MiB) × (n + 2)",
  },
];
