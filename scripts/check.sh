#!/usr/bin/env bash
# README's test command (`make check`): builds tickd twice (-O2, and ASan+UBSan), starts one private redis-server
# and rabbitmq-server for both passes (a broker takes seconds to start), runs the whole suite in each build and ends
# with one line adding both up: "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."

make -j2 --no-print-directory all || exit 2
make -j2 --no-print-directory all SANITIZE=1 || exit 2

# shellcheck source=../tests/lib/servers.sh
source tests/lib/servers.sh
servers_start || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
trap servers_stop EXIT

total_p=0 total_f=0 total_s=0
pass_log=$(mktemp)
for build in build build-san; do
  echo "== suite in $build"
  # Keep the pass's output in a file for its closing line (tee to /dev/stderr would truncate a log file).
  BUILD=$build scripts/run-tests.sh 2>&1 | tee "$pass_log"
  out=$(tail -n 1 "$pass_log")
  if [[ $out =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    total_p=$((total_p + BASH_REMATCH[1])); total_f=$((total_f + BASH_REMATCH[2])); total_s=$((total_s + BASH_REMATCH[3]))
  else
    total_f=$((total_f + 1))
  fi
done
rm -f "$pass_log"
echo "$total_p passed, $total_f failed, $total_s skipped"
[[ $total_f -eq 0 ]]
