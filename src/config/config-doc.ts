import { runFlagsVerifyAccepts } from "./cli-flags.js";
import { OTHER_VARIABLES } from "./env-example.js";
import { COMMANDS } from "./option.js";
import { decl, namesOf, type OptionKey, optionsByGroup, optionsOf, shownDefault } from "./schema.js";

/**
 * The text of docs/configuration.md, generated from the option schema (`npm run docs:config` writes it;
 * test/unit/config-doc.test.ts fails when the committed file differs). Edit schema-*.ts, not the doc.
 */

const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
const code = (s: string | null) => (s ? `\`${s}\`` : "—");

const INTRO = `# Configuration

<!-- Generated from src/config/schema-run.ts and schema-serve.ts by \`npm run docs:config\`: do not edit by hand. -->

Every option of sluice is declared once, in \`src/config/schema-run.ts\` and \`src/config/schema-serve.ts\`. Its flag,
its environment name, its key in the config file, its checks, \`--help\`, \`.env.example\` and this page all come
from that declaration.

## Where a value comes from

The first of these that sets an option wins:

1. the flag (\`--stability-seconds 2\`);
2. the environment (\`SLUICE_STABILITY_SECONDS=2\`), then an option's old environment name, if it has one;
3. \`.env\` in the working directory (same names; it never changes the process environment);
4. the config file named by \`--config FILE\` (or \`SLUICE_CONFIG\`, in the environment or \`.env\`);
5. other tools' standard names, for the few options that read them (\`AWS_REGION\`, \`AWS_ENDPOINT_URL\`):
   set machine-wide for other programs, they yield to anything written for sluice;
6. the default.

Relative paths are relative to the working directory, wherever they are written (the config file included).

**Environment names** are \`SLUICE_\` and the option's name in upper snake case, for every option. Before this
scheme the S3 settings had names of their own (\`S3_ENDPOINT\`, \`S3_REGION\`, \`S3_FORCE_PATH_STYLE\`, \`S3_BUCKET\`,
\`S3_ACCESS_KEY\`, \`S3_SECRET_KEY\`): they still work, listed below as old names, and each use is logged at start
(\`{"level":"warn","event":"config_warning","warning":"S3_ENDPOINT is an old name: use SLUICE_S3_ENDPOINT"}\`;
the client commands print it on stderr). When both are set the new name wins. The AWS SDK's own variables
(\`AWS_ACCESS_KEY_ID\`, \`AWS_REGION\`, …) keep their names: they belong to the SDK.

**The config file** is TOML. Its keys are the options' names in snake case, all at the top level (the
\`File key\` column below); \`deploy/sluice.toml\` is a commented sample. A key sluice does not know is an error
naming it (a typo is never ignored), and so is a value of the wrong type (\`concurrency = "lots"\`). Secrets are
no file keys: a config file is often committed. The S3 keys (\`SLUICE_S3_ACCESS_KEY\`, \`SLUICE_S3_SECRET_KEY\`) are
read from the environment only (a flag shows in process listings); the API token from the environment or its flag.

**Values**

- Sizes take a unit or none: \`512MB\`, \`1.5GB\`, \`64KiB\`, \`8MiB\`, \`1048576\`. \`KB\`, \`MB\`, \`GB\`, \`TB\` are powers of
  1000 and \`KiB\`, \`MiB\`, \`GiB\`, \`TiB\` powers of 1024 (as DuckDB reads its memory limit: \`512MB\` has always meant
  512 000 000 bytes). A size must come to a whole number of bytes. In the config file a number is bytes.
- Durations take \`ms\`, \`s\`, \`m\` (or \`min\`) or \`h\`: \`500ms\`, \`30s\`, \`5m\`, \`1h\`. A bare number is in the unit the
  option's name says: seconds (\`--stability-seconds 5\`), minutes for \`--stuck-minutes\`.
- Booleans: \`true\`/\`false\`, \`1\`/\`0\`, \`yes\`/\`no\`, \`on\`/\`off\` in flags and the environment; \`true\`/\`false\` in the file.
- Lists: comma-separated in the environment (commas inside \`{…}\` belong to a glob), an array in the file; a list
  flag may be repeated.
`;

function optionRow(key: OptionKey): string {
  const d = decl(key);
  const n = namesOf(key);
  const notes = [
    /[.!?)]$/.test(d.help) ? d.help : `${d.help}.`,
    ...(n.oldEnv.length ? [`Old name: ${n.oldEnv.map(code).join(", ")}.`] : []),
    ...(n.oldFlags.length ? [`Old flag: ${n.oldFlags.map(code).join(", ")}.`] : []),
    ...(n.fallbackEnv.length ? [`Else, after the file: ${n.fallbackEnv.map(code).join(", ")}.`] : []),
  ];
  const flag = n.flag && d.kind.placeholder && !n.flag.startsWith("--no-") ? `${n.flag} ${d.kind.placeholder}` : n.flag;
  return `| ${code(n.file)} | ${code(flag)} | ${code(n.env)} | ${cell(d.kind.type)} | ${cell(shownDefault(key))} | ${d.commands.join(", ")} | ${cell(notes.join(" "))} |`;
}

export function configurationDoc(): string {
  const out = [INTRO, "## Options", ""];
  for (const [group, keys] of optionsByGroup()) {
    out.push(`### ${group}`, "");
    out.push("| File key | Flag | Environment | Type | Default | Commands | What it does |");
    out.push("|---|---|---|---|---|---|---|");
    for (const key of keys) out.push(optionRow(key));
    out.push("");
  }
  out.push("## Flags by command", "");
  out.push("Each command's `--help` lists these and no others.", "");
  for (const command of COMMANDS) {
    const flags = optionsOf(command)
      .map((k) => namesOf(k).flag)
      .filter((f): f is string => f !== null);
    out.push(`- \`sluice ${command}\`: ${flags.map(code).join(", ")}`);
  }
  out.push(
    "",
    "`sluice verify` also accepts the other flags of `sluice run` without listing them, and checks them as run",
    `would, so one argument list or one config file serves both (${runFlagsVerifyAccepts().length} flags: ${runFlagsVerifyAccepts()
      .map((k) => code(namesOf(k).flag))
      .join(", ")}).`,
    "",
    "## Other environment variables",
    "",
    "Not options of sluice's: the AWS SDK and Node read them.",
    "",
    "| Variable | Default | What it does |",
    "|---|---|---|",
    ...OTHER_VARIABLES.map((o) => `| ${code(o.env)} | ${o.default || "—"} | ${cell(o.help)} |`),
    "",
  );
  return `${out.join("\n").trimEnd()}\n`;
}
