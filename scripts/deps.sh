#!/usr/bin/env bash
# Installs the Debian packages tickd needs to build, test and run its demo, only when one is missing,
# so a second run costs a dpkg query and nothing more.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  libcurl4-openssl-dev libwebsockets-dev libwebsockets-evlib-uv libuv1-dev libhiredis-dev
  librabbitmq-dev libjansson-dev libsystemd-dev
  redis-server redis-tools rabbitmq-server amqp-tools
  python3 procps systemd
  stunnel4  # test_tls runs README's recipe for Redis over TLS
  clang libclang-rt-dev xxd  # the fuzz harnesses (make fuzz, the suite's fuzz_smoke): clang and libFuzzer
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}" >&2
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# The image may forbid services to start on install; tests start their own private servers anyway.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
