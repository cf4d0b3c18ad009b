#!/usr/bin/env bash
# demo.sh -- `make demo` (after deps and the build): everything on loopback, nothing on the machine touched.
#
#   1. a private redis-server and rabbitmq-server (tests/lib/servers.sh),
#   2. fakex serving all four venues (it prints its ports),
#   3. tickd with config/demo.toml.in, the ports filled in, logging to a file in the demo's temp dir,
#   4. `tickd watch` in the foreground: the live prices. Ctrl-C ends it, and with it everything started here.
#
# When stdout is not a terminal (CI, tests), or DEMO_SECONDS=N is set, it runs for N seconds (10 by default),
# prints one frame (`tickd watch --once`, 160 columns wide unless COLUMNS says otherwise or it goes to a
# terminal), stops everything and exits 0 if Redis holds at least one quote and one trade of every venue;
# otherwise non-zero, with the end of tickd's log. BUILD names the build dir (default build).
# shellcheck disable=SC2317  # cleanup and stop_child run from traps
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
TICKD=$BUILD/tickd
FAKEX=$BUILD/fakex
VENUES=(binance coinbase kraken okx)
SYMBOLS=BTC-USDT,ETH-USDT,SOL-USDT,BTC-USD,ETH-USD # what fakex serves; the config picks from these
STOP_DEADLINE=10                                   # seconds a process gets between SIGTERM and SIGKILL

say() { echo "demo: $*" >&2; }

for bin in "$TICKD" "$FAKEX"; do
  [[ -x $bin ]] || { say "$bin is not built (make BUILD=$BUILD all)"; exit 1; }
done

demo_dir=$(mktemp -d /tmp/tickd-demo.XXXXXX)
tickd_pid='' fakex_pid='' keep_dir=0

# SIGTERM, then up to STOP_DEADLINE seconds for it to end, then SIGKILL. A child that has exited stays a
# zombie (and answers kill -0) until it is waited for, so "gone" is read from ps.
stop_child() { # name pid
  local name=$1 pid=$2 state
  [[ -n $pid ]] || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 1 $((STOP_DEADLINE * 10))); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null)
    [[ -z $state || $state == Z* ]] && break
    sleep 0.1
  done
  state=$(ps -o stat= -p "$pid" 2>/dev/null)
  if [[ -n $state && $state != Z* ]]; then
    say "$name did not stop within ${STOP_DEADLINE}s; killing it"
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  local rc=$?
  [[ $rc -eq 0 || $rc -eq 143 ]] || say "$name exited with status $rc"
}

cleanup() {
  trap - EXIT INT TERM
  say "stopping"
  stop_child tickd "$tickd_pid"
  stop_child fakex "$fakex_pid"
  servers_stop
  if ((keep_dir)); then say "logs kept in $demo_dir"; else rm -rf "$demo_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

log_tail() {
  say "last lines of $demo_dir/tickd.log:"
  tail -n 30 "$demo_dir/tickd.log" >&2
}

# ---- 1. servers: fresh ports, never an inherited test session's ----
unset TICKD_TEST_SERVERS_DIR TICKD_TEST_REDIS_PORT TICKD_TEST_AMQP_PORT
# shellcheck source=tests/lib/servers.sh
source tests/lib/servers.sh
say "starting redis-server and rabbitmq-server on loopback (rabbitmq takes a few seconds)"
servers_start || { say "the servers did not start"; exit 1; }

# ---- 2. fakex: one line "fakex ready binance=127.0.0.1:P ... control=127.0.0.1:P" names its ports ----
"$FAKEX" --venue all --symbols "$SYMBOLS" --rate 50 --log-level warn \
  >"$demo_dir/fakex.out" 2>"$demo_dir/fakex.log" &
fakex_pid=$!
for _ in $(seq 1 100); do
  grep -q '^fakex ready' "$demo_dir/fakex.out" 2>/dev/null && break
  kill -0 "$fakex_pid" 2>/dev/null || break
  sleep 0.1
done
ready=$(grep '^fakex ready' "$demo_dir/fakex.out")
[[ -n $ready ]] || { say "fakex did not start:"; cat "$demo_dir/fakex.log" >&2; exit 1; }
say "$ready"

# ---- 3. the config, and tickd ----
subst=(-e "s|@REDIS_URL@|$TICKD_TEST_REDIS_URL|g" -e "s|@AMQP_URL@|$TICKD_TEST_AMQP_URL|g")
for v in "${VENUES[@]}"; do
  port=$(grep -o " $v=127\.0\.0\.1:[0-9]*" <<<"$ready" | cut -d: -f2)
  [[ -n $port ]] || { say "fakex named no port for $v"; exit 1; }
  subst+=(-e "s|@${v^^}_PORT@|$port|g")
done
config=$demo_dir/demo.toml
sed "${subst[@]}" config/demo.toml.in >"$config"
"$TICKD" --check-config -c "$config" >/dev/null || { keep_dir=1; exit 1; }

# Its own runtime directory keeps the status socket private: `RUNTIME_DIRECTORY=<dir> tickd status` reads it.
env -u NOTIFY_SOCKET RUNTIME_DIRECTORY="$demo_dir" "$TICKD" -c "$config" 2>"$demo_dir/tickd.log" &
tickd_pid=$!
say "tickd running (pid $tickd_pid), log in $demo_dir/tickd.log"

watch_args=(--redis "$TICKD_TEST_REDIS_URL" --prefix tickd)

# Every venue has at least one key of the kind in Redis: quote or book (a hash), or trades (a stream, [redis]
# trade_history).
all_venues_have() { # kind
  local kind=$1 v missing=()
  for v in "${VENUES[@]}"; do
    [[ -n $(redis-cli -p "$TICKD_TEST_REDIS_PORT" --scan --pattern "tickd:$kind:$v:*" 2>/dev/null | head -n 1) ]] ||
      missing+=("$v")
  done
  ((${#missing[@]} == 0)) && return 0
  say "no $kind in Redis yet from: ${missing[*]}"
  return 1
}

# ---- 4a. a terminal: the live view until Ctrl-C ----
if [[ -t 1 && -z ${DEMO_SECONDS:-} ]]; then
  sleep 1
  "$TICKD" watch "${watch_args[@]}"
  if ! kill -0 "$tickd_pid" 2>/dev/null || [[ $(ps -o stat= -p "$tickd_pid") == Z* ]]; then
    say "tickd is no longer running"
    log_tail
  fi
  exit 0
fi

# ---- 4b. timed: N seconds, one frame, then the verdict ----
seconds=${DEMO_SECONDS:-10}
[[ $seconds =~ ^[0-9]+$ ]] || { say "DEMO_SECONDS must be a number of seconds, got '$seconds'"; exit 64; }
say "running for ${seconds}s"
for ((i = 0; i < seconds; i++)); do
  state=$(ps -o stat= -p "$tickd_pid" 2>/dev/null)
  if [[ -z $state || $state == Z* ]]; then
    say "tickd ended early"
    break
  fi
  sleep 1
done
COLUMNS=${COLUMNS:-160} "$TICKD" watch --once "${watch_args[@]}" # room for the trades columns in a log
quoted=0 traded=0 booked=0
all_venues_have quote && quoted=1
all_venues_have trades && traded=1
all_venues_have book && booked=1
if ((quoted && traded && booked)); then
  say "ok: every venue has quotes, trades and books in Redis"
  exit 0
fi
log_tail
keep_dir=1
exit 1
