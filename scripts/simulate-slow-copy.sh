#!/usr/bin/env bash
#
# simulate-slow-copy.sh - write a file into a staging directory slowly, like scp
# over a slow link.
#
# Usage:
#   scripts/simulate-slow-copy.sh [--sidecar] SRC_FILE STAGING_DIR [CHUNK_BYTES] [DELAY_SECONDS]
#   scripts/simulate-slow-copy.sh --help
#
#   SRC_FILE       regular file to copy (read only, never modified)
#   STAGING_DIR    existing directory sluice watches (--input)
#   CHUNK_BYTES    bytes appended per step (default 65536)
#   DELAY_SECONDS  pause between steps, decimals allowed (default 0.5)
#   --sidecar      when the copy is complete, write STAGING_DIR/<basename>.ok
#                  holding a `sha256sum` line (for `sluice run --mode sidecar`)
#
# The file is created as STAGING_DIR/<basename of SRC_FILE> and grows by
# CHUNK_BYTES every DELAY_SECONDS, using dd with skip/count on the source. The
# script refuses to overwrite an existing file of that name.
#
# In --mode stability, sluice waits until size and mtime have been unchanged
# for --stability-seconds across its own observations. Keep DELAY_SECONDS
# below that window: a writer that stalls longer than the window looks
# complete, and that is exactly why the window must exceed the longest stall
# your senders can have.
#
# Only STAGING_DIR/<basename> is written (with --sidecar also its .ok, via a
# hidden temporary name in STAGING_DIR).

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

parse_sim_args "$@"
chunk=${args[2]:-65536}
delay=${args[3]:-0.5}
[[ $chunk =~ ^[1-9][0-9]*$ ]] || die "CHUNK_BYTES must be a positive integer (got $chunk)"
[[ $delay =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]] || die "DELAY_SECONDS must be a non-negative number (got $delay)"

name=$(basename -- "$src")
dest="$staging/$name"
[[ -e $dest || -L $dest ]] && die "$dest already exists; refusing to overwrite it"
[[ $sidecar -eq 1 && (-e "$dest.ok" || -L "$dest.ok") ]] && die "$dest.ok already exists; refusing to overwrite it"

size=$(wc -c <"$src")
size=${size//[[:space:]]/}
chunks=$(((size + chunk - 1) / chunk))

printf 'slow copy: %s -> %s (%s bytes, %s chunk(s) of %s bytes, %ss apart)\n' \
  "$src" "$dest" "$size" "$chunks" "$chunk" "$delay"

# noclobber: creating the file fails if something appeared in the meantime.
(
  set -o noclobber
  : >"$dest"
) || die "cannot create $dest"

for ((i = 0; i < chunks; i++)); do
  dd if="$src" bs="$chunk" skip="$i" count=1 iflag=fullblock status=none >>"$dest"
  if ((i + 1 < chunks)); then
    sleep "$delay"
  fi
done

if [[ -f $dest ]]; then
  written=$(wc -c <"$dest")
  written=${written//[[:space:]]/}
  [[ $written == "$size" ]] || die "$dest has $written bytes, expected $size (changed by someone else meanwhile?)"
else
  printf 'slow copy: %s already left staging (picked up by sluice)\n' "$dest"
fi

if ((sidecar)); then
  sum=$(sha256sum -- "$src")
  sum=${sum%% *}
  # Written under a hidden name (ignored by sluice) and renamed, so the .ok never appears half-written.
  tmp_ok="$staging/.$name.ok.$$"
  printf '%s  %s\n' "$sum" "$name" >"$tmp_ok"
  mv -f -- "$tmp_ok" "$dest.ok"
  printf 'slow copy: wrote sidecar %s.ok\n' "$dest"
fi

printf 'slow copy: done %s\n' "$dest"
