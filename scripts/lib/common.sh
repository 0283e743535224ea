# shellcheck shell=bash
#
# scripts/lib/common.sh - helpers shared by the scripts in scripts/. Sourced,
# never run:
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
#
# Everything here speaks as the calling script ("$0"), not as this file.

# Prints the calling script's header comment: from line 3 to the first blank
# line, without the leading "# ".
usage() {
  sed -n '3,/^$/{s/^# \{0,1\}//;p}' "$0"
}

# die MESSAGE...: prints "<script name>: MESSAGE" on stderr and exits 1.
die() {
  printf '%s: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# parse_sim_args "$@": the command line of the simulate-*.sh scripts,
#   [--sidecar] SRC_FILE STAGING_DIR [ARG3] [ARG4]
# -h/--help prints usage and exits 0; an unknown option dies; `--` ends the
# options. Fewer than 2 or more than 4 positional arguments print usage on
# stderr and exit 2. Sets sidecar (0 or 1), args (the positional arguments,
# ARG3 and ARG4 are the caller's to read and check), src and staging, and
# dies unless src is a readable regular file and staging a writable directory.
# shellcheck disable=SC2034 # sidecar, src and staging are read by the caller
parse_sim_args() {
  sidecar=0
  args=()
  while (($#)); do
    case "$1" in
      -h | --help)
        usage
        exit 0
        ;;
      --sidecar)
        sidecar=1
        ;;
      --)
        shift
        args+=("$@")
        break
        ;;
      -*)
        die "unknown option $1 (see --help)"
        ;;
      *)
        args+=("$1")
        ;;
    esac
    shift
  done

  ((${#args[@]} >= 2 && ${#args[@]} <= 4)) || {
    usage >&2
    exit 2
  }

  src=${args[0]}
  staging=${args[1]}

  [[ -f $src && -r $src ]] || die "SRC_FILE $src is not a readable regular file"
  [[ -d $staging && -w $staging ]] || die "STAGING_DIR $staging is not a writable directory"
}

# parse_chunk_delay CHUNK DELAY: the chunked writers' ARG3/ARG4, with their
# defaults (65536 bytes, 0.5 s). Sets chunk and delay, or dies.
# shellcheck disable=SC2034 # chunk and delay are read by the caller
parse_chunk_delay() {
  chunk=${1:-65536}
  delay=${2:-0.5}
  [[ $chunk =~ ^[1-9][0-9]*$ ]] || die "CHUNK_BYTES must be a positive integer (got $chunk)"
  [[ $delay =~ ^([0-9]+([.][0-9]*)?|[.][0-9]+)$ ]] || die "DELAY_SECONDS must be a non-negative number (got $delay)"
}

# byte_size FILE: prints its size in bytes.
byte_size() {
  local n
  n=$(wc -c <"$1")
  printf '%s' "${n//[[:space:]]/}"
}

# chunked_copy SRC DEST CHUNK DELAY: creates DEST (never over an existing
# file) and appends SRC to it CHUNK bytes at a time, DELAY seconds apart,
# the way a slow scp or a cron export fills a file.
chunked_copy() {
  local from=$1 to=$2 bytes=$3 pause=$4 total i
  total=$(byte_size "$from")
  # noclobber: creating the file fails if something appeared in the meantime.
  (
    set -o noclobber
    : >"$to"
  ) || die "cannot create $to"
  for ((i = 0; i < (total + bytes - 1) / bytes; i++)); do
    ((i == 0)) || sleep "$pause"
    dd if="$from" bs="$bytes" skip="$i" count=1 iflag=fullblock status=none >>"$to"
  done
}

# write_sidecar SRC STAGING NAME: writes STAGING/NAME.ok holding SRC's
# `sha256sum` line, under a hidden name first so it never appears half-written.
write_sidecar() {
  local sum tmp_ok="$2/.$3.ok.$$"
  sum=$(sha256sum -- "$1")
  printf '%s  %s\n' "${sum%% *}" "$3" >"$tmp_ok"
  mv -f -- "$tmp_ok" "$2/$3.ok"
}
