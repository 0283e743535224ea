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
parse_chunk_delay "${args[2]:-}" "${args[3]:-}"

name=$(basename -- "$src")
dest="$staging/$name"
[[ -e $dest || -L $dest ]] && die "$dest already exists; refusing to overwrite it"
[[ $sidecar -eq 1 && (-e "$dest.ok" || -L "$dest.ok") ]] && die "$dest.ok already exists; refusing to overwrite it"

size=$(byte_size "$src")
chunks=$(((size + chunk - 1) / chunk))

printf 'slow copy: %s -> %s (%s bytes, %s chunk(s) of %s bytes, %ss apart)\n' \
  "$src" "$dest" "$size" "$chunks" "$chunk" "$delay"

chunked_copy "$src" "$dest" "$chunk" "$delay"

if [[ -f $dest ]]; then
  written=$(byte_size "$dest")
  [[ $written == "$size" ]] || die "$dest has $written bytes, expected $size (changed by someone else meanwhile?)"
else
  printf 'slow copy: %s already left staging (picked up by sluice)\n' "$dest"
fi

if ((sidecar)); then
  write_sidecar "$src" "$staging" "$name"
  printf 'slow copy: wrote sidecar %s.ok\n' "$dest"
fi

printf 'slow copy: done %s\n' "$dest"
