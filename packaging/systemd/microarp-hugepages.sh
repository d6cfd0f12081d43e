#!/usr/bin/env bash
# Reserves hugepages and mounts a hugetlbfs for microarp's DPDK memory: the ExecStartPre of
# microarp.service (run with full privileges, outside the unit's sandbox).
#
# usage: microarp-hugepages.sh [--pages N] [--size 2M|1G] [--mount DIR] [--dry-run]
#
#   --pages N   hugepages of --size the kernel must hold in total (default $MICROARP_HUGEPAGES,
#               else 512: 1 GiB of 2 MiB pages). Enough for the config's memory_mb and more.
#   --size      page size: 2M (default) or 1G.
#   --mount     where the hugetlbfs is mounted (default /dev/hugepages for 2M,
#               /dev/hugepages1G for 1G).
#   --dry-run   say what would change, change nothing.
#
# Idempotent: a reservation of N or more pages is left as it is (never lowered: other DPDK
# applications may use them) and a hugetlbfs of the right page size already mounted at DIR is
# kept. The count is the system-wide one (the kernel spreads it over NUMA nodes); 1 GiB pages,
# and 2 MiB pages on a long-running host whose memory is fragmented, are best reserved at boot:
# kernel command line "default_hugepagesz=1G hugepagesz=1G hugepages=4".
#
# Exit codes: 0 ready (or, with --dry-run, checked), 1 the kernel could not do it, 2 usage.
set -euo pipefail

readonly ME=microarp-hugepages
pages=${MICROARP_HUGEPAGES:-512}
size=2M
mount_dir=
dry_run=0

say() { printf '%s: %s\n' "$ME" "$*"; }
die() { printf '%s: error: %s\n' "$ME" "$1" >&2; exit "${2:-1}"; }
usage() { die "$1 (usage: $ME [--pages N] [--size 2M|1G] [--mount DIR] [--dry-run])" 2; }

while (($# > 0)); do
  case $1 in
    --pages) (($# >= 2)) || usage "--pages needs a value"; pages=$2; shift 2 ;;
    --size) (($# >= 2)) || usage "--size needs a value"; size=$2; shift 2 ;;
    --mount) (($# >= 2)) || usage "--mount needs a value"; mount_dir=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage "unknown argument '$1'" ;;
  esac
done

[[ $pages =~ ^[1-9][0-9]{0,6}$ ]] || usage "--pages must be a whole number of pages from 1, got '$pages'"
case $size in
  2M | 2m | 2048kB) size=2M; size_kb=2048; : "${mount_dir:=/dev/hugepages}" ;;
  1G | 1g | 1048576kB) size=1G; size_kb=1048576; : "${mount_dir:=/dev/hugepages1G}" ;;
  *) usage "--size must be 2M or 1G, got '$size'" ;;
esac
[[ $mount_dir == /* ]] || usage "--mount must be an absolute path, got '$mount_dir'"

# 1. Where the hugetlbfs goes, checked before anything changes. /proc/mounts escapes spaces as
# \040: DIR must have none.
[[ $mount_dir != *[[:space:]]* ]] || usage "--mount must not contain spaces, got '$mount_dir'"
in_kb() { # a pagesize= option (2M, 1024M, 1G) in kB
  local v=${1%[kKmMgG]} unit=${1: -1}
  case $unit in k | K) echo "$v" ;; m | M) echo $((v * 1024)) ;; g | G) echo $((v * 1048576)) ;; *) echo 0 ;; esac
}
fstype= options=
while read -r _ dir type opts _; do
  [[ $dir == "$mount_dir" ]] && { fstype=$type; options=$opts; } # the last one mounted there wins
done </proc/mounts
if [[ $fstype == hugetlbfs ]]; then
  mounted_kb=$size_kb # without pagesize=, the default size: assume the one asked for
  for opt in ${options//,/ }; do [[ $opt == pagesize=* ]] && mounted_kb=$(in_kb "${opt#pagesize=}"); done
  ((mounted_kb == size_kb)) || die "$mount_dir is a hugetlbfs of ${mounted_kb}kB pages, not $size: give another --mount"
elif [[ -n $fstype ]]; then
  die "$mount_dir is a $fstype mount, not a hugetlbfs: give another --mount"
fi

# 2. The reservation.
pool=/sys/kernel/mm/hugepages/hugepages-${size_kb}kB
[[ -d $pool ]] || die "this kernel offers no $size hugepages ($pool is missing; for 1G pages the CPU needs pdpe1gb and the kernel command line hugepagesz=1G)"
read_count() { # sets $count to the pool's nr_hugepages (0 if it is not a number)
  count=0
  local n
  read -r n <"$pool/nr_hugepages" || [[ -n ${n:-} ]] || n=0
  [[ $n =~ ^[0-9]+$ ]] && count=$n
  return 0
}
read_count
have=$count
if ((have >= pages)); then
  say "$have $size hugepages reserved (at least $pages wanted): unchanged"
elif ((dry_run)); then
  say "would reserve $pages $size hugepages (now $have) in $pool/nr_hugepages"
else
  echo "$pages" 2>/dev/null >"$pool/nr_hugepages" || die "cannot write $pool/nr_hugepages (run as root, outside the unit's sandbox: ExecStartPre=+...)"
  read_count
  got=$count
  if ((got < pages)); then
    # Leave the pool as it was: a part of it is of no use to a DPDK that was told it has more.
    echo "$have" 2>/dev/null >"$pool/nr_hugepages" || true
    die "asked the kernel for $pages $size hugepages, it reserved only $got (free memory too small or too fragmented): reserve them at boot (kernel command line hugepagesz=$size hugepages=$pages) or ask for fewer with --pages / MICROARP_HUGEPAGES"
  fi
  say "reserved $got $size hugepages (was $have)"
fi

# 3. The mount, once the pages are there.
if [[ $fstype == hugetlbfs ]]; then
  say "hugetlbfs ($size pages) already mounted on $mount_dir"
elif ((dry_run)); then
  say "would mount a hugetlbfs of $size pages on $mount_dir"
else
  mkdir -p "$mount_dir" || die "cannot create $mount_dir"
  mount -t hugetlbfs -o "pagesize=$size" nodev "$mount_dir" || die "cannot mount a hugetlbfs of $size pages on $mount_dir"
  say "mounted a hugetlbfs of $size pages on $mount_dir"
fi
