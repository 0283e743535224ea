import { decl, namesOf, type OptionKey, optionsByGroup } from "./schema.js";

/**
 * Variables sluice reads that are no option of its own: the AWS SDK's standard names (the SDK reads them from the
 * environment; sluice also from `.env`) and Node's thread pool size.
 */
export const OTHER_VARIABLES: readonly { env: string; default: string; help: string }[] = [
  {
    env: "AWS_ACCESS_KEY_ID",
    default: "",
    help: "read from the environment by the AWS SDK; from .env by sluice (with AWS_SECRET_ACCESS_KEY), when SLUICE_S3_ACCESS_KEY is not set",
  },
  { env: "AWS_SECRET_ACCESS_KEY", default: "", help: "see AWS_ACCESS_KEY_ID" },
  { env: "AWS_SESSION_TOKEN", default: "", help: "temporary credentials' session token" },
  { env: "AWS_CA_BUNDLE", default: "", help: "PEM file of extra CAs trusted for an https S3 endpoint" },
  {
    env: "UV_THREADPOOL_SIZE",
    default: "16",
    help: "libuv worker threads for file I/O, from the environment only (not .env); sluice raises Node's default of 4",
  },
];

/** The value an option's default takes in `.env`: empty when it is decided at start (the host name). */
export function envDefault(key: OptionKey): string {
  const d = decl(key);
  if (Array.isArray(d.default)) return d.default.join(",");
  return d.default === "" ? "" : d.kind.show(d.default);
}

/**
 * The text of `.env.example`: every variable sluice reads, commented out, with its default and what it does.
 * `test/unit/env-example.test.ts` checks the committed file against this (`npm run env-example` rewrites it).
 */
export function envExample(): string {
  const out = [
    "# sluice configuration: copy to .env in the working directory (or set these in the environment).",
    "# A flag beats the environment, which beats .env, which beats the config file (--config), then the default shown.",
    "# Booleans: true/false, 1/0, yes/no, on/off. Lists: comma-separated. Sizes: 512MB (10^6), 64KiB (2^10) or bytes.",
    "# Durations: 500ms, 30s, 5m, 1h; a bare number is in the option's unit (seconds; minutes for STUCK_MINUTES).",
    "# Every option is documented in docs/configuration.md.",
  ];
  for (const [group, keys] of optionsByGroup()) {
    const withEnv = keys.filter((k) => namesOf(k).env !== null);
    if (withEnv.length) out.push("", `# ---- ${group}`);
    for (const key of withEnv) {
      const n = namesOf(key);
      const d = decl(key);
      const also = [
        ...(n.oldEnv.length ? [`old name ${n.oldEnv.join(", ")}`] : []),
        ...(n.fallbackEnv.length ? [`else ${n.fallbackEnv.join(", ")}`] : []),
      ];
      out.push(`# ${n.flag ?? "(no flag)"}: ${d.help}${also.length ? ` (${also.join("; ")})` : ""}`);
      out.push(`# ${n.env}=${envDefault(key)}`, "");
    }
  }
  out.push("# ---- read by the AWS SDK and Node (no option of sluice's)");
  for (const o of OTHER_VARIABLES) out.push(`# ${o.help}`, `# ${o.env}=${o.default}`, "");
  return `${out.join("\n").replace(/\n\n+/g, "\n\n").trimEnd()}\n`;
}
