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
