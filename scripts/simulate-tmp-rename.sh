#!/usr/bin/env bash
#
# simulate-tmp-rename.sh - the "upload to NAME.tmp, then rename to NAME"
# pattern many uploaders use; sluice must ingest the result exactly once.
#
# Usage:
#   scripts/simulate-tmp-rename.sh [--sidecar] SRC_FILE STAGING_DIR [CHUNK_BYTES] [DELAY_SECONDS]
#   scripts/simulate-tmp-rename.sh --help
#
#   SRC_FILE       regular file to copy (read only, never modified)
#   STAGING_DIR    existing directory sluice watches (--input)
#   CHUNK_BYTES    bytes appended per step (default 65536)
#   DELAY_SECONDS  pause between steps, decimals allowed (default 0.5)
#   --sidecar      after the rename, write STAGING_DIR/<basename>.ok holding
#                  a `sha256sum` line (for `sluice run --mode sidecar`)
#
# The bytes are appended slowly to STAGING_DIR/<basename>.tmp (sluice always
# ignores *.tmp, *.part, *.swp and hidden names), then the file is renamed,
# atomically and within the same directory, to STAGING_DIR/<basename>. The
# final name therefore only ever holds the complete content: sluice must
# produce one manifest line for it and none for the .tmp name. Unlike
# simulate-slow-copy.sh, a long DELAY_SECONDS is harmless here.
#
# Refuses to overwrite an existing <basename> or <basename>.tmp. Only those
# two names (and, with --sidecar, the .ok via a hidden temporary name) in
# STAGING_DIR are written.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

parse_sim_args "$@"
parse_chunk_delay "${args[2]:-}" "${args[3]:-}"

name=$(basename -- "$src")
dest="$staging/$name"
tmp="$dest.tmp"
for p in "$dest" "$tmp"; do
  [[ -e $p || -L $p ]] && die "$p already exists; refusing to overwrite it"
done
[[ $sidecar -eq 1 && (-e "$dest.ok" || -L "$dest.ok") ]] && die "$dest.ok already exists; refusing to overwrite it"

size=$(byte_size "$src")
chunks=$(((size + chunk - 1) / chunk))

printf 'tmp+rename: writing %s (%s bytes, %s chunk(s) of %s bytes, %ss apart)\n' \
  "$tmp" "$size" "$chunks" "$chunk" "$delay"

chunked_copy "$src" "$tmp" "$chunk" "$delay"

written=$(byte_size "$tmp")
[[ $written == "$size" ]] || die "$tmp has $written bytes, expected $size (changed by someone else meanwhile?)"

# Same directory, so mv is a single rename(2). -T: never move into a directory
# of that name; -n: never replace a file that appeared meanwhile.
[[ -e $dest || -L $dest ]] && die "$dest appeared meanwhile; leaving $tmp in place"
mv -T -n -- "$tmp" "$dest"
[[ -e $tmp ]] && die "$dest appeared meanwhile; leaving $tmp in place"
printf 'tmp+rename: renamed %s -> %s\n' "$tmp" "$dest"

if ((sidecar)); then
  write_sidecar "$src" "$staging" "$name"
  printf 'tmp+rename: wrote sidecar %s.ok\n' "$dest"
fi

printf 'tmp+rename: done %s\n' "$dest"
