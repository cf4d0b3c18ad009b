#!/usr/bin/env bash
# Private test servers on loopback: one redis-server and one rabbitmq-server per test run, with their data,
# logs and Erlang cookie under one temp dir, so nothing touches the machine's own services.
#
#   source tests/lib/servers.sh; servers_start     # exports the variables below
#   servers_stop                                   # stops both, and the private epmd
#   redis_stop / redis_start                       # for outage tests (same port, same data dir)
#   rabbit_stop / rabbit_start                     # likewise (takes ~5 s to come back)
#
# Exports: TICKD_TEST_REDIS_PORT TICKD_TEST_REDIS_URL TICKD_TEST_AMQP_PORT TICKD_TEST_AMQP_URL TICKD_TEST_SERVERS_DIR
# The same functions are callable as a command: `tests/lib/servers.sh redis_stop` (tests written in C use that;
# it reads the state from $TICKD_TEST_SERVERS_DIR).

RABBIT_BIN=/usr/lib/rabbitmq/bin

_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_load_state() {
  [[ -n "${TICKD_TEST_SERVERS_DIR:-}" && -f "$TICKD_TEST_SERVERS_DIR/env" ]] && source "$TICKD_TEST_SERVERS_DIR/env"
}

redis_start() {
  _load_state
  _port_open "$TICKD_TEST_REDIS_PORT" && return 0
  local d=$TICKD_TEST_SERVERS_DIR/redis
  mkdir -p "$d"
  redis-server --port "$TICKD_TEST_REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$d/redis.pid" \
    --dir "$d" --save '' --appendonly no --logfile "$d/redis.log" >/dev/null || return 1
  for _ in $(seq 1 200); do
    redis-cli -p "$TICKD_TEST_REDIS_PORT" ping 2>/dev/null | grep -q PONG && return 0
    sleep 0.05
  done
  echo "servers: redis-server did not answer on port $TICKD_TEST_REDIS_PORT" >&2
  return 1
}

redis_stop() {
  _load_state
  local pidf=$TICKD_TEST_SERVERS_DIR/redis/redis.pid
  [[ -f $pidf ]] || return 0
  local pid
  pid=$(cat "$pidf")
  kill -9 "$pid" 2>/dev/null
  # A killed process may linger as a zombie that still answers kill -0: wait until the port is free instead.
  for _ in $(seq 1 100); do
    redis-cli -p "$TICKD_TEST_REDIS_PORT" ping >/dev/null 2>&1 || break
    sleep 0.05
  done
  rm -f "$pidf"
}

_rabbit_env() {
  local d=$TICKD_TEST_SERVERS_DIR/rabbit
  export HOME=$d/home
  export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf
  export RABBITMQ_CONFIG_FILE=$d/rabbitmq
  export RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
  export RABBITMQ_MNESIA_BASE=$d/mnesia
  export RABBITMQ_LOG_BASE=$d/log
  export RABBITMQ_PID_FILE=$d/rabbit.pid
  export RABBITMQ_NODENAME=tickdtest$TICKD_TEST_AMQP_PORT@localhost
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
  export RABBITMQ_NODE_PORT=$TICKD_TEST_AMQP_PORT
  export RABBITMQ_DIST_PORT=$TICKD_TEST_RABBIT_DIST_PORT
  export ERL_EPMD_PORT=$TICKD_TEST_EPMD_PORT
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

# True when something answers on the port (bash's /dev/tcp: no extra tool needed).
_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

rabbit_start() {
  _load_state
  # A second server would fail on the port and delete the running node's pid file, which rabbit_stop needs.
  _port_open "$TICKD_TEST_AMQP_PORT" && return 0
  local d=$TICKD_TEST_SERVERS_DIR/rabbit
  mkdir -p "$d/home" "$d/mnesia" "$d/log"
  (
    _rabbit_env
    : >"$RABBITMQ_CONF_ENV_FILE"
    echo "[]." >"$RABBITMQ_ENABLED_PLUGINS_FILE"
    printf 'loopback_users = none\nlog.file.level = warning\n' >"$RABBITMQ_CONFIG_FILE.conf"
    if ! kill -0 "$(cat "$d/epmd.pid" 2>/dev/null)" 2>/dev/null; then
      setsid epmd -port "$TICKD_TEST_EPMD_PORT" -address 127.0.0.1 </dev/null >/dev/null 2>&1 &
      echo $! >"$d/epmd.pid"
      sleep 0.2
    fi
    setsid "$RABBIT_BIN/rabbitmq-server" </dev/null >"$d/log/stdout.log" 2>&1 &
    local deadline=$((SECONDS + 60))
    while ((SECONDS < deadline)); do
      "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" wait --timeout 5 "$RABBITMQ_PID_FILE" >/dev/null 2>&1 && exit 0
      sleep 0.5
    done
    echo "servers: rabbitmq-server did not start; see $d/log" >&2
    exit 1
  )
}

rabbit_stop() {
  _load_state
  local d=$TICKD_TEST_SERVERS_DIR/rabbit
  [[ -d $d ]] || return 0
  (
    _rabbit_env
    "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBITMQ_NODENAME" stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 ||
      { [[ -f $RABBITMQ_PID_FILE ]] && kill -9 "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null; }
    true
  )
}

servers_start() {
  TICKD_TEST_SERVERS_DIR=$(mktemp -d /tmp/tickd-servers.XXXXXX)
  export TICKD_TEST_SERVERS_DIR
  export TICKD_TEST_REDIS_PORT=${TICKD_TEST_REDIS_PORT:-$(_free_port)}
  export TICKD_TEST_AMQP_PORT=${TICKD_TEST_AMQP_PORT:-$(_free_port)}
  export TICKD_TEST_RABBIT_DIST_PORT=$(_free_port)
  export TICKD_TEST_EPMD_PORT=$(_free_port)
  export TICKD_TEST_REDIS_URL="redis://127.0.0.1:$TICKD_TEST_REDIS_PORT/0"
  export TICKD_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$TICKD_TEST_AMQP_PORT/%2f"
  {
    echo "TICKD_TEST_REDIS_PORT=$TICKD_TEST_REDIS_PORT"
    echo "TICKD_TEST_AMQP_PORT=$TICKD_TEST_AMQP_PORT"
    echo "TICKD_TEST_RABBIT_DIST_PORT=$TICKD_TEST_RABBIT_DIST_PORT"
    echo "TICKD_TEST_EPMD_PORT=$TICKD_TEST_EPMD_PORT"
  } >"$TICKD_TEST_SERVERS_DIR/env"
  redis_start || return 1
  rabbit_start || return 1
  echo "servers: redis on $TICKD_TEST_REDIS_PORT, rabbitmq on $TICKD_TEST_AMQP_PORT ($TICKD_TEST_SERVERS_DIR)" >&2
}

servers_stop() {
  [[ -n "${TICKD_TEST_SERVERS_DIR:-}" ]] || return 0
  redis_stop
  rabbit_stop
  local epmd_pid
  epmd_pid=$(cat "$TICKD_TEST_SERVERS_DIR/rabbit/epmd.pid" 2>/dev/null)
  [[ -n "$epmd_pid" ]] && kill "$epmd_pid" 2>/dev/null
  # The rabbit node may leave Erlang children; end anything still holding our private ports.
  pkill -f "tickdtest$TICKD_TEST_AMQP_PORT@localhost" 2>/dev/null
  rm -rf "$TICKD_TEST_SERVERS_DIR"
  unset TICKD_TEST_SERVERS_DIR
}

# Called as a command: run the named function with the exported state.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -u
  case "${1:-}" in
    redis_start | redis_stop | rabbit_start | rabbit_stop) "$1" ;;
    *) echo "usage: $0 redis_start|redis_stop|rabbit_start|rabbit_stop" >&2; exit 64 ;;
  esac
fi
