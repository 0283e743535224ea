#!/usr/bin/env bash
#
# cross-fs-target.sh - mount (or unmount) a tmpfs to use as a sluice
# warehouse (or errors dir) on a different filesystem than staging.
#
# Usage:
#   sudo scripts/cross-fs-target.sh setup DIR [SIZE]
#   sudo scripts/cross-fs-target.sh teardown DIR
#   scripts/cross-fs-target.sh --help
#
#   setup     create DIR if missing (it must be empty), then
#             mount -t tmpfs -o size=SIZE,mode=0755 sluice-cross-fs DIR
#             ("sluice-cross-fs" is the mount's source name, a tag)
#   teardown  unmount the tmpfs at DIR (its contents are discarded; the
#             now empty DIR itself is left in place); only a mount made by
#             setup (tmpfs with source sluice-cross-fs) is ever unmounted
#   SIZE      tmpfs size as mount(8) takes it: 64m, 1g, 512k, 10%
#             (default 64m)
#
# When staging and the warehouse are on different filesystems, sluice cannot
# rename(2) a file into place: it copies it into the warehouse's temp area
# while hashing, fsyncs, renames the copy in, then removes the source. This
# script makes that path easy to exercise:
#
#   sudo scripts/cross-fs-target.sh setup /tmp/sluice-wh
#   node bin/sluice.js run --input /tmp/staging --warehouse /tmp/sluice-wh ...
#   sudo scripts/cross-fs-target.sh teardown /tmp/sluice-wh
#
# Needs root (mounting needs CAP_SYS_ADMIN); refuses otherwise. setup refuses
# a DIR that is already a mount point or is not empty (mounting over files
# would hide them); teardown refuses anything but a mount made by setup.
# Nothing but DIR is touched.

set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

# Mounts made by this script carry this source name, so teardown can never
# unmount some other tmpfs (/dev/shm, /run, ...) by mistake.
SOURCE_TAG=sluice-cross-fs

# "FSTYPE SOURCE" of the topmost mount at exactly $1, or nothing.
mount_info() {
  findmnt -n -r -o FSTYPE,SOURCE --mountpoint "$1" 2>/dev/null | tail -n 1 || true
}

shm_hint() {
  local shm_dev tmp_dev
  shm_dev=$(stat -c %d /dev/shm 2>/dev/null || echo "?")
  tmp_dev=$(stat -c %d /tmp 2>/dev/null || echo "?")
  if [[ $shm_dev != "?" && $tmp_dev != "?" && $shm_dev != "$tmp_dev" ]]; then
    printf 'hint: /dev/shm is also another filesystem than /tmp on this machine (device %s vs %s),\n' "$shm_dev" "$tmp_dev"
    printf '      so e.g. --warehouse /dev/shm/sluice-wh with staging under /tmp exercises the same path without root.\n'
  else
    printf 'hint: /dev/shm and /tmp are the same filesystem on this machine; use this tmpfs (or another mount) instead.\n'
  fi
}

case "${1:-}" in
  -h | --help)
    usage
    exit 0
    ;;
  setup)
    (($# >= 2 && $# <= 3)) || {
      usage >&2
      exit 2
    }
    ;;
  teardown)
    (($# == 2)) || {
      usage >&2
      exit 2
    }
    ;;
  *)
    usage >&2
    exit 2
    ;;
esac

action=$1
dir=$2
size=${3:-64m}

[[ -n $dir ]] || die "DIR must not be empty"
[[ $size =~ ^[1-9][0-9]*[kKmMgG%]?$ ]] || die "SIZE must look like 64m, 1g, 512k or 10% (got $size)"

if [[ $(id -u) -ne 0 ]]; then
  die "must be run as root: mounting a tmpfs needs CAP_SYS_ADMIN (try: sudo $0 $*)"
fi

command -v findmnt >/dev/null || die "findmnt (util-linux) is required"

case "$action" in
  setup)
    if [[ -e $dir && ! -d $dir ]]; then
      die "$dir exists and is not a directory"
    fi
    mkdir -p -- "$dir"
    dir=$(cd -- "$dir" && pwd -P)
    [[ $dir != / ]] || die "refusing to mount over /"
    info=$(mount_info "$dir")
    [[ -z $info ]] || die "$dir is already a mount point ($info)"
    if [[ -n $(find "$dir" -mindepth 1 -maxdepth 1 -print -quit) ]]; then
      die "$dir is not empty; mounting over it would hide its files"
    fi
    mount -t tmpfs -o "size=$size,mode=0755" "$SOURCE_TAG" "$dir" || die "mount -t tmpfs on $dir failed (in a container, mounting may need --privileged or CAP_SYS_ADMIN)"
    printf 'mounted tmpfs (size=%s) on %s\n' "$size" "$dir"
    df -h -- "$dir"
    printf 'device of %s: %s; device of /tmp: %s\n' "$dir" "$(stat -c %d "$dir")" "$(stat -c %d /tmp)"
    shm_hint
    printf 'when done: %s teardown %s\n' "$0" "$dir"
    ;;
  teardown)
    [[ -d $dir ]] || die "$dir is not a directory"
    dir=$(cd -- "$dir" && pwd -P)
    info=$(mount_info "$dir")
    [[ -n $info ]] || die "$dir is not a mount point; nothing to tear down"
    [[ $info == "tmpfs $SOURCE_TAG" ]] ||
      die "$dir is a mount ($info) not made by this script setup; refusing to unmount it"
    umount -- "$dir" || die "umount $dir failed (is a process, e.g. sluice, still using it?)"
    printf 'unmounted tmpfs from %s (its contents are gone; the empty directory is left)\n' "$dir"
    ;;
esac
