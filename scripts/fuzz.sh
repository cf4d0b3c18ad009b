#!/usr/bin/env bash
# Runs the libFuzzer harnesses of fuzz/ (built by `make fuzz-build` into build-fuzz/fuzz/).
#
#   scripts/fuzz.sh run [HARNESS...]    each harness for FUZZ_SECONDS (60) one after the other, or for FUZZ_RUNS
#                                       executions when that is set; ends with a table: executions, exec/s, crashes
#   scripts/fuzz.sh smoke               the test the suite runs: builds the harnesses, replays every seed and every
#                                       file of fuzz/regress/<harness>/, then fuzzes each for FUZZ_SMOKE_SECONDS (5);
#                                       prints "# passed=N failed=N skipped=N" (skipped when clang is missing)
#
# The corpus each harness grows is kept in build-fuzz/corpus/<harness>/ (later runs start from it); seeds come
# from fuzz/seeds.py (../shared when present), dictionaries from fuzz/dict/. A crash stops that harness: its
# input is kept in build-fuzz/crashes/<harness>/, printed, and the run exits 1. A crash to keep as a regression
# goes to fuzz/regress/<harness>/ (the smoke then replays it on every `make check`).
set -uo pipefail
cd "$(dirname "$0")/.."

FB=${FUZZ_BUILD:-build-fuzz}
mode=${1:-run}
shift || true
harnesses=("$@")
if [[ ${#harnesses[@]} -eq 0 ]]; then
  for f in fuzz/fuzz_*.c; do h=$(basename "$f" .c); harnesses+=("${h#fuzz_}"); done
fi

dict_for() {
  case $1 in
    venue) echo "-dict=fuzz/dict/json.dict" ;;
    toml | config) echo "-dict=fuzz/dict/toml.dict" ;;
  esac
}

show_crash() { # file
  echo "   input: $1 ($(stat -c %s "$1") bytes)"
  if LC_ALL=C grep -q '[^[:print:][:space:]]' "$1"; then
    xxd "$1" | head -n 20 | sed 's/^/     /'
  else
    head -c 2000 "$1" | sed 's/^/     /'; echo
  fi
}

# clang and libFuzzer's runtime (Debian: clang, libclang-rt-NN-dev).
have_libfuzzer() {
  command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1 || return 1
  local probe
  probe=$(mktemp -d) || return 1
  printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/p.c"
  "${FUZZ_CC:-clang}" -fsanitize=fuzzer "$probe/p.c" -o "$probe/p" >/dev/null 2>&1
  local rc=$?
  rm -rf "$probe"
  return $rc
}

# One libFuzzer run. Sets: execs, crash (file or ""). Extra arguments go to libFuzzer.
fuzz_one() { # harness, log, corpus dirs..., -- libFuzzer flags...
  local h=$1 log=$2; shift 2
  local dirs=() flags=()
  while [[ $# -gt 0 && $1 != -- ]]; do dirs+=("$1"); shift; done
  [[ ${1:-} == -- ]] && shift
  flags=("$@")
  local art=$FB/crashes/$h
  mkdir -p "$art"
  local d
  d=$(dict_for "$h")
  "$FB/fuzz/fuzz_$h" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 -max_len=16384 \
    -artifact_prefix="$art/" ${d:+"$d"} "${flags[@]}" "${dirs[@]}" >"$log" 2>&1
  fuzz_rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [[ -n $execs ]] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  [[ -n $execs ]] || execs=0
  crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | head -n 1)
  if [[ -z $crash && $fuzz_rc -ne 0 ]]; then crash="(exit $fuzz_rc, no input kept: see $log)"; fi
}

if ! have_libfuzzer; then
  echo "fuzz: clang with libFuzzer not found (scripts/deps.sh installs clang and libclang-rt-dev): skipped"
  [[ $mode == smoke ]] && { echo "# passed=0 failed=0 skipped=1"; exit 0; }
  exit 2
fi

if [[ $mode == smoke ]]; then
  make -j2 --no-print-directory fuzz-build >"${TMPDIR:-/tmp}/fuzz-build.$$.log" 2>&1 || {
    tail -n 40 "${TMPDIR:-/tmp}/fuzz-build.$$.log"; rm -f "${TMPDIR:-/tmp}/fuzz-build.$$.log"
    echo "FAIL fuzz-build"; echo "# passed=0 failed=1 skipped=0"; exit 1; }
  rm -f "${TMPDIR:-/tmp}/fuzz-build.$$.log"
fi

python3 fuzz/seeds.py "$FB/seeds" || exit 2
mkdir -p "$FB/logs"

if [[ $mode == smoke ]]; then
  passed=0 failed=0
  secs=${FUZZ_SMOKE_SECONDS:-5}
  for h in "${harnesses[@]}"; do
    [[ -x $FB/fuzz/fuzz_$h ]] || { echo "FAIL fuzz_$h: not built"; failed=$((failed + 1)); continue; }
    mkdir -p "fuzz/regress/$h" "$FB/seeds/$h"
    # Every regression input alone first: each must pass (libFuzzer runs files given by name once each).
    regress=()
    for f in fuzz/regress/"$h"/*; do [[ -f $f ]] && regress+=("$f"); done
    if [[ ${#regress[@]} -gt 0 ]]; then
      if ! "$FB/fuzz/fuzz_$h" -runs=1 "${regress[@]}" >"$FB/logs/smoke-$h-regress.log" 2>&1; then
        echo "FAIL fuzz_$h: a regression input of fuzz/regress/$h crashes"; tail -n 30 "$FB/logs/smoke-$h-regress.log"
        failed=$((failed + 1)); continue
      fi
    fi
    # Then the seeds (replayed before any mutation) and a short run from them, in a scratch corpus.
    scratch=$(mktemp -d)
    fuzz_one "$h" "$FB/logs/smoke-$h.log" "$scratch" "$FB/seeds/$h" "fuzz/regress/$h" -- -max_total_time="$secs"
    rm -rf "$scratch"
    if [[ -n $crash ]]; then
      echo "FAIL fuzz_$h: crash after $execs executions"; grep -E 'ERROR|runtime error|fuzz_[a-z_]+:' "$FB/logs/smoke-$h.log" | head -n 5
      [[ -f $crash ]] && show_crash "$crash"
      failed=$((failed + 1))
    else
      echo "ok   fuzz_$h ($execs executions, ${#regress[@]} regression inputs)"
      passed=$((passed + 1))
    fi
  done
  echo "# passed=$passed failed=$failed skipped=0"
  [[ $failed -eq 0 ]]
  exit
fi

[[ $mode == run ]] || { echo "usage: scripts/fuzz.sh run|smoke [HARNESS...]" >&2; exit 2; }
limit=(-max_total_time="${FUZZ_SECONDS:-60}")
[[ -n ${FUZZ_RUNS:-} ]] && limit=(-runs="$FUZZ_RUNS")
rows=() crashes_total=0
for h in "${harnesses[@]}"; do
  [[ -x $FB/fuzz/fuzz_$h ]] || { echo "fuzz: $FB/fuzz/fuzz_$h not built (make fuzz-build)" >&2; exit 2; }
  corpus=$FB/corpus/$h
  mkdir -p "$corpus" "fuzz/regress/$h"
  start=$SECONDS
  echo "== fuzz_$h: ${limit[*]#-}" >&2
  fuzz_one "$h" "$FB/logs/run-$h.log" "$corpus" "$FB/seeds/$h" "fuzz/regress/$h" -- "${limit[@]}"
  secs=$((SECONDS - start))
  n=0
  if [[ -n $crash ]]; then
    n=1; crashes_total=$((crashes_total + 1))
    echo "fuzz_$h: CRASH after $execs executions" >&2
    grep -E 'ERROR|runtime error|fuzz_[a-z_]+:' "$FB/logs/run-$h.log" | head -n 5 >&2
    [[ -f $crash ]] && { show_crash "$crash" >&2; echo "   again: $FB/fuzz/fuzz_$h $crash" >&2; }
  fi
  rows+=("$(printf '%-13s %8s %12s %8s %8s %7s' "fuzz_$h" "$secs" "$execs" "$((execs / (secs > 0 ? secs : 1)))" "$n" "$(ls "$corpus" | wc -l)")")
done
printf '%-13s %8s %12s %8s %8s %7s\n' harness seconds executions exec/s crashes corpus
printf '%s\n' "${rows[@]}"
[[ $crashes_total -eq 0 ]]
