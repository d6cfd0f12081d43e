#!/usr/bin/env bash
# Builds the libFuzzer targets of native/fuzz/ with clang (AddressSanitizer and UBSan on) and runs
# each of them on a copy of its seed corpus (test/fuzz/corpus/<target>), so a run never changes
# the repository. Exits 1 on any finding (crash, sanitizer report, failed invariant, leak,
# timeout) and leaves the reproducer in the run's directory, which it names.
#
#   npm run fuzz -- --seconds 60              every target, 60 s in total, split between them
#   bash scripts/fuzz.sh --runs 10000000      every target for 10 M executions
#   bash scripts/fuzz.sh --targets arp_reply --seconds 30 --out /tmp/fuzz-run
#   bash scripts/fuzz.sh --plant-bug --targets classify_frame --seconds 5   (shows a finding)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'fuzz: %s\n' "$*"; }
die() { printf 'fuzz: error: %s\n' "$*" >&2; exit 2; }

ALL_TARGETS=(classify_frame arp_inspection arp_reply vlan_tag update_record nd_frame)
seconds=""
runs=""
targets=("${ALL_TARGETS[@]}")
out=""
plant_bug=0
build_only=0

usage() {
  sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
  echo "options: --seconds N (total) | --runs N (per target) | --targets a,b | --out DIR | --plant-bug | --build-only"
  echo "targets: ${ALL_TARGETS[*]}"
}

# All of the work is in main(), which bash reads whole before running it: editing this file
# while a long run goes on cannot change what that run does.
main() {
  while (($#)); do
    case "$1" in
      --seconds) seconds="${2:-}"; shift 2 ;;
      --runs) runs="${2:-}"; shift 2 ;;
      --targets) IFS=, read -r -a targets <<<"${2:-}"; shift 2 ;;
      --out) out="${2:-}"; shift 2 ;;
      --plant-bug) plant_bug=1; shift ;;
      --build-only) build_only=1; shift ;;
      -h|--help) usage; exit 0 ;;
      *) usage >&2; die "unknown argument: $1" ;;
    esac
  done
  [[ -z $seconds || $seconds =~ ^[0-9]+$ ]] || die "--seconds wants a whole number of seconds"
  [[ -z $runs || $runs =~ ^[0-9]+$ ]] || die "--runs wants a number of executions"
  [[ -n $seconds || -n $runs || $build_only == 1 ]] || seconds=60
  for t in "${targets[@]}"; do
    [[ " ${ALL_TARGETS[*]} " == *" $t "* ]] || die "unknown target '$t' (targets: ${ALL_TARGETS[*]})"
  done

  # ---- build -----------------------------------------------------------------------------------
  command -v clang++ >/dev/null || die "clang++ not found: run bash scripts/setup.sh (it installs clang and its sanitizer runtimes)"
  # Debian ships clang's sanitizer and libFuzzer runtimes apart, as a package clang only recommends.
  [[ -f $(clang++ -print-file-name=libclang_rt.fuzzer-x86_64.a) ]] ||
    die "clang's libFuzzer runtime is missing: apt-get install libclang-rt-14-dev (or run bash scripts/setup.sh)"
  pkg-config --exists libdpdk || die "libdpdk not found through pkg-config: run bash scripts/setup.sh"
  # The planted bug (see classify_frame_fuzz.cc) is built apart, never over the real targets.
  if ((plant_bug)); then bin_dir=build/fuzz-planted; defines=(-DMICROARP_FUZZ_PLANTED_BUG); else bin_dir=build/fuzz; defines=(); fi
  mkdir -p "$bin_dir"
  read -r -a dpdk_cflags <<<"$(pkg-config --cflags libdpdk)"
  CXXFLAGS=(-std=c++17 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
            -fno-sanitize-recover=all -Wall -Wextra -Werror -Wno-unused-parameter
            -Inative/core -Inative/fuzz "${dpdk_cflags[@]}" "${defines[@]}")
  CORE_SOURCES=(native/core/frame.cc native/core/nd_frame.cc native/core/counters.cc)

  for t in "${targets[@]}"; do
    bin="$bin_dir/$t"
    if [[ ! -x $bin || -n $(find native/core native/fuzz native/dp/egress_form.h scripts/fuzz.sh -newer "$bin" -print -quit) ]]; then
      say "building $bin"
      clang++ "${CXXFLAGS[@]}" "native/fuzz/${t}_fuzz.cc" "${CORE_SOURCES[@]}" -o "$bin.tmp" ||
        die "building $t failed (output above)"
      mv "$bin.tmp" "$bin"
    fi
  done
  ((build_only)) && exit 0

  # ---- run -------------------------------------------------------------------------------------
  [[ -n $out ]] || out="build/fuzz-runs/$(date +%Y%m%d-%H%M%S)-$$"
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  per_target=""
  if [[ -n $seconds ]]; then
    per_target=$((seconds / ${#targets[@]}))
    ((per_target >= 1)) || per_target=1
  fi
  say "run directory: $out (working corpora, logs, reproducers)"
  say "targets: ${targets[*]}; ${per_target:+$per_target s each}${per_target:+${runs:+, }}${runs:+at most $runs runs each}"

  findings=0
  summary=()
  for t in "${targets[@]}"; do
    work="$out/$t"
    mkdir -p "$work/corpus" "$work/findings"
    seeds="test/fuzz/corpus/$t"
    [[ -d $seeds ]] && cp -R "$seeds/." "$work/corpus/"
    args=(-print_final_stats=1 -timeout=10 -rss_limit_mb=2048 -max_len=2048
          "-artifact_prefix=$work/findings/")
    [[ -n $per_target ]] && args+=("-max_total_time=$per_target")
    [[ -n $runs ]] && args+=("-runs=$runs")
    echo "== $t"
    set +e
    "$bin_dir/$t" "${args[@]}" "$work/corpus" >"$work/log" 2>&1
    code=$?
    set -e
    grep '^stat::' "$work/log" || true
    last=$(grep -E '^#[0-9]+' "$work/log" | tail -1 || true)
    cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
    ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
    corpus=$(find "$work/corpus" -type f | wc -l)
    reproducers=$(find "$work/findings" -type f | sort)
    if ((code != 0)) || [[ -n $reproducers ]]; then
      findings=$((findings + 1))
      say "FINDING in $t (libFuzzer exit code $code); the end of its log ($work/log):"
      grep -E 'ERROR|runtime error|invariant failed|SUMMARY|Test unit written' "$work/log" | head -20 | sed 's/^/    /'
      for r in $reproducers; do say "reproducer: $r"; done
      [[ -n $reproducers ]] || say "no reproducer was written (see the log)"
      say "replay it: $bin_dir/$t <reproducer>"
      summary+=("$(printf '%-15s %12s %10s %6s %7s %7s  FINDING' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$corpus")")
    else
      summary+=("$(printf '%-15s %12s %10s %6s %7s %7s  ok' "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "$corpus")")
    fi
  done

  # cov and ft: libFuzzer's covered edges and features at the end; files: the working corpus.
  say "summary:"
  printf '%-15s %12s %10s %6s %7s %7s  %s\n' target executions exec/s cov ft files result
  printf '%s\n' "${summary[@]}"
  if ((findings)); then
    say "$findings target(s) with findings; reproducers are in $out/<target>/findings/"
    exit 1
  fi
  say "no findings; run directory: $out"
}

main "$@"
