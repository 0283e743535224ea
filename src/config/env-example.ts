import { RUN_OPTIONS } from "./options.js";
import { SERVE_OPTIONS } from "./serve-options.js";

/**
 * Variables sluice reads that are not options of their own: S3 credentials and bucket (never flags, so they do
 * not show in process listings), the AWS names sluice also honours, and the thread pool size.
 */
const OTHER_VARIABLES: readonly { env: string; default: string; help: string }[] = [
  { env: "S3_BUCKET", default: "", help: "bucket for an s3:// warehouse that names none (s3:///PREFIX)" },
  { env: "S3_ACCESS_KEY", default: "", help: "S3 access key (with S3_SECRET_KEY); else the AWS SDK's chain" },
  { env: "S3_SECRET_KEY", default: "", help: "S3 secret key (with S3_ACCESS_KEY)" },
  {
    env: "AWS_ACCESS_KEY_ID",
    default: "",
    help: "read from the environment by the AWS SDK; from this file by sluice (with AWS_SECRET_ACCESS_KEY)",
  },
  { env: "AWS_SECRET_ACCESS_KEY", default: "", help: "see AWS_ACCESS_KEY_ID" },
  { env: "AWS_SESSION_TOKEN", default: "", help: "temporary credentials' session token" },
  { env: "AWS_ENDPOINT_URL_S3", default: "", help: "S3 endpoint when S3_ENDPOINT is not set" },
  { env: "AWS_REGION", default: "", help: "S3 region when S3_REGION is not set (then AWS_DEFAULT_REGION)" },
  { env: "AWS_CA_BUNDLE", default: "", help: "PEM file of extra CAs trusted for an https S3 endpoint" },
  {
    env: "UV_THREADPOOL_SIZE",
    default: "16",
    help: "libuv worker threads for file I/O, from the environment only (not .env); sluice raises Node's default of 4",
  },
];

function shown(value: unknown): string {
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

/**
 * The text of `.env.example`: every variable sluice reads, commented out, with its default and what it does.
 * `test/unit/env-example.test.ts` checks the committed file against this, so it cannot drift from the options.
 */
export function envExample(): string {
  const out = [
    "# sluice configuration: copy to .env in the working directory (or set these in the environment).",
    "# A flag beats the environment, which beats .env, which beats the default shown here.",
    "# Booleans: true/false, 1/0, yes/no, on/off. Lists: comma-separated.",
    "",
    "# ---- sluice run and sluice serve",
  ];
  const line = (env: string, def: unknown, help: string): void => {
    out.push(`# ${help}`, `# ${env}=${shown(def)}`, "");
  };
  for (const o of RUN_OPTIONS) line(o.env, o.default, `${o.flag}: ${o.help}`);
  out.push("# ---- sluice serve only");
  for (const o of SERVE_OPTIONS) line(o.env, o.default, `${o.flag}: ${o.help}`);
  out.push("# ---- credentials and runtime (no flag)");
  for (const o of OTHER_VARIABLES) line(o.env, o.default, o.help);
  return `${out.join("\n").trimEnd()}\n`;
}
