#!/usr/bin/env bash
#
# demo.sh - end-to-end sluice demo in a fresh temporary directory.
#
# Usage:
#   scripts/demo.sh [--keep] [--warehouse DIR]
#   scripts/demo.sh --help
#
#   --keep           keep the temporary directory (staging, warehouse,
#                    manifests, errors, state, sluice.log) for inspection
#   --warehouse DIR  use DIR (existing and empty, e.g. a tmpfs from
#                    scripts/cross-fs-target.sh) as the warehouse instead of
#                    one inside the temporary directory, to see the
#                    cross-filesystem copy path; its contents are left as they
#                    are at the end
#
# Builds nothing: run `npm run build` first. The demo
#   1. creates sample files and starts
#      `sluice run --stability-seconds 1 --scan-interval 2` in the background
#      (with a clean environment: SLUICE_* variables are unset and the working
#      directory is the temp dir, so no .env is read),
#   2. runs the three simulations at once: a slow copy (orders.csv, chunks
#      0.3s apart, shorter than the window), a .tmp upload renamed at the end
#      (events.jsonl, chunks 1.5s apart, longer than the window: harmless,
#      *.tmp is ignored) and a duplicate re-send (report.csv, 3 names, and 3
#      more after a 3s pause),
#   3. waits for staging to empty, shows the warehouse tree and the manifest
#      lines, checks the outcome (3 files stored byte-identical, one manifest
#      line per name, 5 duplicates, nothing in the errors dir),
#   4. stops sluice with SIGTERM and reports its exit code.
# Exits 0 when every check passed, 1 otherwise.
#
# Only the temporary directory (and with --warehouse, DIR) is written; the
# temporary directory is removed at the end unless --keep is given.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

keep=0
warehouse_arg=
while (($#)); do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --keep)
      keep=1
      ;;
    --warehouse)
      (($# >= 2)) || die "--warehouse needs a directory"
      warehouse_arg=$2
      shift
      ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
  shift
done

script_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd -- "$script_dir/.." && pwd -P)
sluice_bin="$repo/bin/sluice.js"

command -v node >/dev/null || die "node is not on PATH"
[[ -f $repo/dist/cli/main.js ]] || die "$repo/dist is missing: run \`npm run build\` in $repo first"
for s in simulate-slow-copy.sh simulate-tmp-rename.sh simulate-duplicate-resend.sh; do
  [[ -x $script_dir/$s ]] || die "$script_dir/$s is missing or not executable"
done

if [[ -n $warehouse_arg ]]; then
  [[ -d $warehouse_arg && -w $warehouse_arg ]] || die "--warehouse $warehouse_arg is not a writable directory"
  warehouse_arg=$(cd -- "$warehouse_arg" && pwd -P)
  # Empty apart from sluice's own (empty) temp area, so the checks below hold.
  if [[ -n $(find "$warehouse_arg" -mindepth 1 -not -path "$warehouse_arg/.sluice-tmp" -print -quit) ]]; then
    die "--warehouse $warehouse_arg is not empty"
  fi
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
staging="$work/staging"
warehouse=${warehouse_arg:-$work/warehouse}
manifests="$work/manifests"
errors="$work/errors"
state="$work/state/sluice.db"
samples="$work/samples"
log="$work/sluice.log"
sluice_pid=
sim_pids=()

cleanup() {
  local rc=$?
  for p in "${sim_pids[@]}"; do
    kill "$p" 2>/dev/null || true
  done
  if [[ -n $sluice_pid ]] && kill -0 "$sluice_pid" 2>/dev/null; then
    kill -TERM "$sluice_pid" 2>/dev/null || true
    wait "$sluice_pid" 2>/dev/null || true
  fi
  if ((keep)); then
    printf '\nkept %s\n' "$work"
  else
    rm -rf -- "$work"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

section() {
  printf '\n== %s ==\n' "$*"
}

mkdir -p -- "$staging" "$samples"

section "sample files in $samples"
awk 'BEGIN { print "order_id,customer,amount"; for (i = 1; i <= 12000; i++) printf "%d,customer-%d,%d.%02d\n", i, i % 97, i % 500, i % 100 }' >"$samples/orders.csv"
awk 'BEGIN { for (i = 1; i <= 2500; i++) printf "{\"event\":\"click\",\"seq\":%d,\"page\":\"/p/%d\"}\n", i, i % 31 }' >"$samples/events.jsonl"
awk 'BEGIN { print "day,total"; for (i = 1; i <= 200; i++) printf "2026-01-%02d,%d\n", i % 28 + 1, i * 7 }' >"$samples/report.csv"
ls -l "$samples"

section "starting sluice"
# A clean environment for the child: flags below, defaults for the rest.
mapfile -t sluice_vars < <(compgen -e | grep '^SLUICE_' || true)
(
  cd -- "$work"
  for v in "${sluice_vars[@]}"; do unset "$v"; done
  exec node "$sluice_bin" run \
    --input "$staging" \
    --warehouse "$warehouse" \
    --manifests "$manifests" \
    --errors "$errors" \
    --state-path "$state" \
    --stability-seconds 1 \
    --scan-interval 2 \
    --metrics-interval 0
) >"$log" 2>&1 &
sluice_pid=$!

for ((i = 0; i < 100; i++)); do
  grep -q '"event":"sluice_started"' "$log" 2>/dev/null && break
  kill -0 "$sluice_pid" 2>/dev/null || {
    cat "$log" >&2
    die "sluice exited during startup (log above)"
  }
  sleep 0.1
done
grep -q '"event":"sluice_started"' "$log" || die "sluice did not log sluice_started within 10s (see $log)"
printf 'sluice pid %s: --input %s --warehouse %s --stability-seconds 1\n' "$sluice_pid" "$staging" "$warehouse"
printf 'staging device %s, warehouse device %s (%s)\n' "$(stat -c %d "$staging")" "$(stat -c %d "$warehouse")" \
  "$([[ $(stat -c %d "$staging") == "$(stat -c %d "$warehouse")" ]] && echo "same filesystem: rename" || echo "other filesystem: copy")"

section "simulations (running at once)"
"$script_dir/simulate-slow-copy.sh" "$samples/orders.csv" "$staging" 32768 0.3 &
sim_pids+=($!)
"$script_dir/simulate-tmp-rename.sh" "$samples/events.jsonl" "$staging" 32768 1.5 &
sim_pids+=($!)
"$script_dir/simulate-duplicate-resend.sh" "$samples/report.csv" "$staging" 3 3 &
sim_pids+=($!)
sim_failed=0
for p in "${sim_pids[@]}"; do
  wait "$p" || sim_failed=1
done
sim_pids=()
((sim_failed == 0)) || die "a simulation failed (output above)"

section "waiting for staging to empty"
for ((i = 0; i < 300; i++)); do
  [[ -z $(find "$staging" -mindepth 1 -print -quit) ]] && break
  sleep 0.1
done
if [[ -n $(find "$staging" -mindepth 1 -print -quit) ]]; then
  printf 'still in staging after 30s:\n'
  ls -la "$staging"
else
  printf 'staging is empty\n'
fi

section "warehouse tree ($warehouse)"
if command -v tree >/dev/null; then
  tree -a --noreport -s "$warehouse"
else
  (cd -- "$warehouse" && find . -mindepth 1 | sort | while read -r p; do
    if [[ -d $p ]]; then printf '%s/\n' "$p"; else printf '%-60s %8s bytes\n' "$p" "$(stat -c %s "$p")"; fi
  done)
fi

section "manifest lines ($manifests)"
mapfile -t manifest_files < <(find "$manifests" -name manifest.jsonl -type f | sort)
if ((${#manifest_files[@]})); then
  for f in "${manifest_files[@]}"; do
    printf -- '-- %s\n' "${f#"$work"/}"
    cat -- "$f"
  done
else
  printf '(no manifest file)\n'
fi

section "summary"
check_failed=0
# Prints a status/name table and checks the lines; exit status 1 on a failed check.
node - "$samples" "$warehouse" "${manifest_files[@]}" <<'NODE' || check_failed=1
const fs = require("node:fs");
const path = require("node:path");
const crypto = require("node:crypto");
const [samples, warehouse, ...manifestFiles] = process.argv.slice(2);
const lines = manifestFiles.flatMap((f) =>
  fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l)),
);
for (const l of lines) {
  const dup = l.duplicate_of ? ` (duplicate_of ${l.duplicate_of})` : "";
  console.log(`${l.status.padEnd(9)} ${l.name.padEnd(22)} ${l.sha256.slice(0, 12)}  -> ${path.relative(warehouse, l.warehouse_path)}${dup}`);
}
const sha = (p) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
const problems = [];
const expect = (ok, what) => { if (!ok) problems.push(what); };
for (const [sample, names] of [
  ["orders.csv", ["orders.csv"]],
  ["events.jsonl", ["events.jsonl"]],
  ["report.csv", ["dup1-1_report.csv", "dup1-2_report.csv", "dup1-3_report.csv", "dup2-1_report.csv", "dup2-2_report.csv", "dup2-3_report.csv"]],
]) {
  const digest = sha(path.join(samples, sample));
  const mine = lines.filter((l) => l.sha256 === digest);
  const ingested = mine.filter((l) => l.status === "ingested");
  expect(ingested.length === 1, `${sample}: ${ingested.length} ingested lines, expected 1`);
  expect(mine.length === names.length, `${sample}: ${mine.length} manifest lines, expected ${names.length}`);
  for (const n of names) expect(mine.filter((l) => l.name === n).length === 1, `${n}: expected exactly one manifest line`);
  for (const l of mine) {
    expect(fs.existsSync(l.warehouse_path) && sha(l.warehouse_path) === digest, `${l.name}: ${l.warehouse_path} missing or not byte-identical`);
  }
}
expect(!lines.some((l) => l.name.endsWith(".tmp")), "a .tmp name was ingested");
const stored = [];
const walk = (d) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { const p = path.join(d, e.name); if (e.isDirectory()) { if (e.name !== ".sluice-tmp") walk(p); } else stored.push(p); } };
walk(warehouse);
expect(stored.length === 3, `${stored.length} files in the warehouse, expected 3`);
console.log(`\n${lines.length} manifest lines: ${lines.filter((l) => l.status === "ingested").length} ingested, ${lines.filter((l) => l.status === "duplicate").length} duplicate; ${stored.length} files in the warehouse`);
for (const p of problems) console.log(`CHECK FAILED: ${p}`);
process.exit(problems.length ? 1 : 0);
NODE

if [[ -n $(find "$errors" -mindepth 1 -print -quit 2>/dev/null) ]]; then
  printf 'CHECK FAILED: the errors dir is not empty:\n'
  ls -la "$errors"
  check_failed=1
fi

section "stopping sluice (SIGTERM)"
kill -TERM "$sluice_pid"
sluice_rc=0
wait "$sluice_pid" || sluice_rc=$?
sluice_pid=
printf 'sluice exited with code %s\n' "$sluice_rc"
grep -E '"event":"(shutdown_requested|sluice_stopped)"' "$log" || true
((sluice_rc == 0)) || check_failed=1

if ((check_failed)); then
  printf '\ndemo: some checks FAILED (log: %s)\n' "$log"
  keep=1
  exit 1
fi
printf '\ndemo: all checks passed\n'
