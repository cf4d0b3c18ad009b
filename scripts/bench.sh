#!/usr/bin/env bash
# bench.sh -- `make bench` (after deps and the build): private redis-server and rabbitmq-server on loopback
# (tests/lib/servers.sh), then bench/bench.py runs every scenario against them and writes the table to
# bench/results/<date>.md. BUILD names the build dir; BENCH_ONLY, BENCH_STEP_SECONDS and BENCH_SCALE_SECONDS
# are passed through (see bench/bench.py). About ten minutes with the defaults.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
export BUILD=${BUILD:-build}
for bin in tickd fakex bench/hotpath bench/redis_latency bench/amqp_latency bench/book bench/book_latency; do
  [[ -x $BUILD/$bin ]] || { echo "bench: $BUILD/$bin is not built (make BUILD=$BUILD all)" >&2; exit 1; }
done
# shellcheck source=../tests/lib/servers.sh
source tests/lib/servers.sh
trap servers_stop EXIT
servers_start || { echo "bench: the servers did not start" >&2; exit 1; }
python3 bench/bench.py
