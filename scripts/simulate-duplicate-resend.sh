#!/usr/bin/env bash
#
# simulate-duplicate-resend.sh - drop the same content into staging under
# several names, as a sender that retries or re-sends would, to show that
# sluice stores the content once and records the rest as duplicates.
#
# Usage:
#   scripts/simulate-duplicate-resend.sh [--sidecar] SRC_FILE STAGING_DIR [COUNT] [PAUSE_SECONDS]
#   scripts/simulate-duplicate-resend.sh --help
#
#   SRC_FILE       regular file whose content is re-sent (read only)
#   STAGING_DIR    existing directory sluice watches (--input)
#   COUNT          copies per round, each under its own name (default 3)
#   PAUSE_SECONDS  if given and > 0, wait this long and send a second round
#                  of COUNT copies (after the first round was ingested, this
#                  shows that dedupe spans time, not just one batch)
#   --sidecar      write a NAME.ok (a `sha256sum` line) after each copy
#                  (for `sluice run --mode sidecar`)
#
# Copy I of round R is named dupR-I_<basename of SRC_FILE>, e.g.
# dup1-2_orders.csv. Each copy is written under a hidden temporary name
# (ignored by sluice) and renamed, so it appears complete in one step.
# Expect one `ingested` manifest line for the first copy sluice finishes and
# `duplicate` lines (with duplicate_of) for all the others; that is
# 2*COUNT-1 duplicates with a second round, COUNT-1 without. (If this
# content was already ingested before, every copy is a duplicate.)
#
# Refuses to overwrite existing names. Only those names (and hidden
# temporary names) in STAGING_DIR are written.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

parse_sim_args "$@"
count=${args[2]:-3}
pause=${args[3]:-0}
[[ $count =~ ^[1-9][0-9]*$ ]] || die "COUNT must be a positive integer (got $count)"
[[ $pause =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]] || die "PAUSE_SECONDS must be a non-negative number (got $pause)"

name=$(basename -- "$src")
sum=$(sha256sum -- "$src")
sum=${sum%% *}

rounds=1
# A pause of 0 (or 0.0) means a single round.
[[ $pause =~ [1-9] ]] && rounds=2

# Check every name up front: better to refuse before writing anything.
for ((r = 1; r <= rounds; r++)); do
  for ((i = 1; i <= count; i++)); do
    p="$staging/dup$r-${i}_$name"
    [[ -e $p || -L $p ]] && die "$p already exists; refusing to overwrite it"
    [[ $sidecar -eq 1 && (-e "$p.ok" || -L "$p.ok") ]] && die "$p.ok already exists; refusing to overwrite it"
  done
done

send_round() {
  local r=$1 i final tmp
  for ((i = 1; i <= count; i++)); do
    final="dup$r-${i}_$name"
    tmp="$staging/.$final.$$"
    cp -- "$src" "$tmp"
    if ! mv -T -n -- "$tmp" "$staging/$final" || [[ -e $tmp ]]; then
      rm -f -- "$tmp"
      die "$staging/$final appeared meanwhile; not overwritten"
    fi
    if ((sidecar)); then
      printf '%s  %s\n' "$sum" "$final" >"$tmp.ok"
      mv -f -- "$tmp.ok" "$staging/$final.ok"
    fi
    printf 'resend: round %s copy %s/%s -> %s\n' "$r" "$i" "$count" "$staging/$final"
  done
}

printf 'resend: %s (sha256 %s) x %s, %s round(s)\n' "$src" "$sum" "$count" "$rounds"
send_round 1
if ((rounds == 2)); then
  printf 'resend: pausing %ss before round 2\n' "$pause"
  sleep "$pause"
  send_round 2
fi
printf 'resend: done\n'
