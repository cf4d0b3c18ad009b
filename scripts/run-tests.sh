#!/usr/bin/env bash
# Runs the whole suite and ends with one line "N passed, N failed, N skipped".
#   unit:        every $BUILD/tests/test_* binary (each prints "# passed=.. failed=.. skipped=..")
#   integration: every tests/integration/*.sh, against real servers this script starts once per run
#                (tests/lib/servers.sh: a private redis-server and rabbitmq-server on loopback)
#   fuzz_smoke:  scripts/fuzz.sh smoke (the fuzz harnesses replay their seeds and fuzz/regress, then run briefly)
# TICKD_TEST_ONLY=unit|integration|fuzz narrows it; TICKD_TEST_FILTER=substring picks tests by name;
# TICKD_TEST_TIMEOUT (600) is how many seconds one test may run.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
export TICKD_ROOT=$PWD
[[ -d ../shared ]] && export TICKD_SHARED=${TICKD_SHARED:-$(cd ../shared && pwd)}

passed=0 failed=0 skipped=0
failed_names=()
only=${TICKD_TEST_ONLY:-all}
filter=${TICKD_TEST_FILTER:-}
logdir=$BUILD/test-logs
mkdir -p "$logdir"

count_from() { # adds the "# passed=.. failed=.. skipped=.." line of a log; returns 1 if none
  local line
  line=$(grep -E '^# passed=[0-9]+ failed=[0-9]+ skipped=[0-9]+' "$1" | tail -n 1)
  [[ -n "$line" ]] || return 1
  local p f s
  p=$(sed -E 's/.*passed=([0-9]+).*/\1/' <<<"$line")
  f=$(sed -E 's/.*failed=([0-9]+).*/\1/' <<<"$line")
  s=$(sed -E 's/.*skipped=([0-9]+).*/\1/' <<<"$line")
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  [[ $f -eq 0 ]]
}

run_one() { # name, command...
  local name=$1; shift
  [[ -n "$filter" && "$name" != *"$filter"* ]] && return 0
  local log=$logdir/$name.log
  local start=$SECONDS
  # A test that hangs fails here, named, instead of spending the whole CI budget (the longest takes ~80 s).
  timeout --kill-after=10 "${TICKD_TEST_TIMEOUT:-600}" "$@" >"$log" 2>&1
  local rc=$?
  [[ $rc -eq 124 || $rc -eq 137 ]] && echo "# $name: no end within ${TICKD_TEST_TIMEOUT:-600} s (exit $rc)" >>"$log"
  if count_from "$log"; then
    if [[ $rc -ne 0 ]]; then
      failed=$((failed + 1)); failed_names+=("$name (exit $rc)")
      echo "FAIL $name: exit $rc ($((SECONDS - start))s)"; tail -n 30 "$log"
    else
      echo "ok   $name ($((SECONDS - start))s)"
    fi
  else
    if [[ $rc -ne 0 ]] || ! grep -q '^# passed=' "$log"; then
      [[ $rc -eq 0 ]] || { echo "FAIL $name: exit $rc"; tail -n 40 "$log"; }
      grep -q '^# passed=' "$log" || { failed=$((failed + 1)); failed_names+=("$name"); echo "FAIL $name:"; tail -n 40 "$log"; }
    fi
  fi
}

# Servers first, once: C tests that need Redis or RabbitMQ read the TICKD_TEST_* variables (and skip with a
# message when they are unset, as under TICKD_TEST_ONLY=unit without servers started by the caller).
if [[ $only != unit && $only != fuzz && -z "${TICKD_TEST_SERVERS_DIR:-}" ]]; then
  # shellcheck source=../tests/lib/servers.sh
  source tests/lib/servers.sh
  if servers_start; then
    trap servers_stop EXIT
  else
    echo "FAIL could not start the test servers"; failed=$((failed + 1)); failed_names+=(servers)
  fi
fi

if [[ $only == all || $only == unit ]]; then
  for t in "$BUILD"/tests/test_*; do
    [[ -x $t ]] || continue
    run_one "$(basename "$t")" "$t"
  done
fi

if [[ $only == all || $only == integration ]]; then
  shopt -s nullglob
  itests=(tests/integration/*.sh tests/integration/test_*.py)
  if [[ ${#itests[@]} -gt 0 ]]; then
    for t in "${itests[@]}"; do
      case $t in
        *.py) run_one "$(basename "$t" .py)" python3 "$t" ;;
        *) run_one "$(basename "$t" .sh)" bash "$t" ;;
      esac
    done
  fi
fi

if [[ $only == all || $only == fuzz ]]; then
  run_one fuzz_smoke scripts/fuzz.sh smoke
fi

if [[ ${#failed_names[@]} -gt 0 ]]; then
  echo "failed: ${failed_names[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
