#!/usr/bin/env bash
# The command line: --check-config accepts the example and rejects broken files with exit 78 and the exact
# messages, --version and --help answer, a bad flag exits 64, and the daemon exits 0 on SIGTERM.
set -uo pipefail
ROOT=${TICKD_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
TICKD=$ROOT/${BUILD:-build}/tickd
cd "$ROOT" || exit 1
tmp=$(mktemp -d /tmp/tickd-check-config.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

# expect NAME WANT_RC WANT_SUBSTRING -- ARGS...: runs tickd, checks its exit code and that its output has the text.
expect() {
  local name=$1 want_rc=$2 want_text=$3
  shift 4
  local out rc
  out=$("$TICKD" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $want_rc ]]; then
    fail "$name: exit $rc, expected $want_rc"; printf '%s\n' "$out" | head -n 20; return
  fi
  if [[ -n $want_text && $out != *"$want_text"* ]]; then
    fail "$name: output lacks: $want_text"; printf '%s\n' "$out" | head -n 20; return
  fi
  ok "$name"
}

if [[ ! -x $TICKD ]]; then
  echo "FAIL $TICKD is not built"
  echo "# passed=0 failed=1 skipped=0"
  exit 1
fi

expect "example accepted" 0 "config/tickd.toml: ok (4 sources, 4 groups)" -- --check-config -c config/tickd.toml
expect "--config=FILE" 0 "config/tickd.toml: ok" -- --check-config --config=config/tickd.toml
expect "version" 0 "tickd $(cat "$ROOT/VERSION")" -- --version
expect "help" 0 "--check-config" -- --help
expect "bad flag" 64 "unrecognized option '--bogus'" -- --bogus
expect "stray argument" 64 "unexpected argument 'extra'" -- --check-config extra
expect "missing file" 78 "$tmp/none.toml: cannot read: No such file or directory" -- --check-config -c "$tmp/none.toml"

cat >"$tmp/syntax.toml" <<'TOML'
[daemon]
log_level = "info
TOML
expect "syntax error" 78 "$tmp/syntax.toml:2:" -- --check-config -c "$tmp/syntax.toml"

# One file, many errors: each is reported, in document order, and the URL password is not printed.
cat >"$tmp/broken.toml" <<'TOML'
[daemon]
log_level = "loud"

[redis]
url = "http://user:hunter2@127.0.0.1"
pasword_file = "x"

[[source]]
name = "binance"
venue = "binance"

[[group]]
name = "x"
source = "y"
symbols = ["BTC-USDT"]
  [[group.task]]
  kind = "stream"
  stale_after = "10"

[[group]]
name = "empty"
source = "binance"
symbols = []
  [[group.task]]
  kind = "poll"
TOML
out=$("$TICKD" --check-config -c "$tmp/broken.toml" 2>&1)
rc=$?
want="$tmp/broken.toml:2:13: daemon.log_level: expected one of error | warn | info | debug, got \"loud\"
$tmp/broken.toml:5:7: redis.url: expected a URL redis://host[:port][/path], got \"http://user:***@127.0.0.1\"
$tmp/broken.toml:6:16: redis: unknown key \"pasword_file\" (did you mean \"password_file\"?)
$tmp/broken.toml:14:10: group \"x\": source \"y\" is not defined
$tmp/broken.toml:18:17: group \"x\": task #1: stale_after: expected a duration with a unit (ms, s, m, h) such as \"30s\", got \"10\"
$tmp/broken.toml:23:11: group \"empty\": symbols: the list is empty, expected at least one symbol
tickd: $tmp/broken.toml: 6 errors"
if [[ $rc -eq 78 && $out == "$want" ]]; then ok "every error reported"; else
  fail "every error reported (exit $rc)"; diff <(printf '%s\n' "$want") <(printf '%s\n' "$out"); fi
if [[ $out != *hunter2* ]]; then ok "password not printed"; else fail "password printed"; fi

cat >"$tmp/dup.toml" <<'TOML'
[[source]]
name = "a"
venue = "okx"
[[source]]
name = "a"
venue = "kraken"
TOML
expect "duplicate source" 78 "$tmp/dup.toml:5:8: source \"a\" is defined twice (first at line 2)" -- \
  --check-config -c "$tmp/dup.toml"

# Venues and channels are the venue table's: an unknown venue lists the registered ones, a channel the source's
# venue does not serve names what it does.
cat >"$tmp/channel.toml" <<'TOML'
[[source]]
name = "a"
venue = "binance"
[[source]]
name = "m"
venue = "bitmex"
[[group]]
name = "g"
source = "a"
symbols = ["BTC-USDT"]
[[group.task]]
kind = "stream"
channel = "depth"
TOML
out=$("$TICKD" --check-config -c "$tmp/channel.toml" 2>&1)
rc=$?
want="$tmp/channel.toml:6:9: source \"m\": venue: expected one of binance | coinbase | kraken | okx, got \"bitmex\"
$tmp/channel.toml:13:11: group \"g\": task #1: channel: venue binance has no channel \"depth\" (has: bbo, trades, book)
tickd: $tmp/channel.toml: 2 errors"
if [[ $rc -eq 78 && $out == "$want" ]]; then ok "unknown venue and channel refused"; else
  fail "unknown venue and channel refused (exit $rc)"; diff <(printf '%s\n' "$want") <(printf '%s\n' "$out"); fi

# Patterns in symbols, exclude and max: each mistake at its place; a valid file with patterns is accepted (they
# are resolved against the venue's instrument list when tickd runs).
cat >"$tmp/patterns.toml" <<'TOML'
[[source]]
name = "b"
venue = "binance"
[[group]]
name = "bad"
source = "b"
symbols = ["BTC-USDT", "**-USDT", "*-USDT", "*-usdt", "ETH-*-X"]
  [[group.task]]
  kind = "stream"
[[group]]
name = "names"
source = "b"
symbols = ["BTC-USDT"]
exclude = ["ETH-USDT"]
max = 5
  [[group.task]]
  kind = "stream"
[[group]]
name = "alts"
source = "b"
symbols = ["BTC-USDT", "*-USDT"]
exclude = ["*UP-*", "btc-usdt"]
max = 1
  [[group.task]]
  kind = "stream"
[[group]]
name = "zero"
source = "b"
symbols = ["*-USDC"]
max = 0
  [[group.task]]
  kind = "stream"
TOML
out=$("$TICKD" --check-config -c "$tmp/patterns.toml" 2>&1)
rc=$?
syntax="expected BASE-QUOTE such as \"BTC-USDT\" (letters and digits, one dash) or a pattern such as \"*-USDT\" ('*' for any run)"
want="$tmp/patterns.toml:7:24: group \"bad\": symbols: $syntax, got \"**-USDT\" (two '*' in a row)
$tmp/patterns.toml:7:45: group \"bad\": symbols: \"*-USDT\" is listed twice
$tmp/patterns.toml:7:55: group \"bad\": symbols: $syntax, got \"ETH-*-X\" (more than one dash)
$tmp/patterns.toml:14:11: group \"names\": exclude: applies to what patterns match, and symbols has no pattern (a name is left out by not listing it)
$tmp/patterns.toml:15:7: group \"names\": max: applies to what patterns match, and symbols has no pattern
$tmp/patterns.toml:22:21: group \"alts\": exclude: \"BTC-USDT\" is also in symbols
$tmp/patterns.toml:23:7: group \"alts\": max: must be more than the 1 name listed in symbols (it is always kept), got 1
$tmp/patterns.toml:30:7: group \"zero\": max: must be at least 1, got 0
tickd: $tmp/patterns.toml: 8 errors"
if [[ $rc -eq 78 && $out == "$want" ]]; then ok "pattern, exclude and max errors at their place"; else
  fail "pattern, exclude and max errors at their place (exit $rc)"; diff <(printf '%s\n' "$want") <(printf '%s\n' "$out"); fi

cat >"$tmp/pattern-ok.toml" <<'TOML'
[redis]
url = "redis://127.0.0.1:1/0"
[rabbitmq]
url = "amqp://guest:guest@127.0.0.1:1/%2f"
[[source]]
name = "b"
venue = "binance"
[[group]]
name = "majors"
source = "b"
symbols = ["BTC-USDT"]
  [[group.task]]
  kind = "stream"
[[group]]
name = "alts"
source = "b"
symbols = ["BTC-USDT", "*-USDT"]
exclude = ["*UP-*"]
max = 100
  [[group.task]]
  kind = "stream"
TOML
out=$("$TICKD" --check-config -c "$tmp/pattern-ok.toml" 2>&1)
rc=$?
if [[ $rc -eq 0 && $out == *"pattern-ok.toml: ok (1 sources, 2 groups)"* ]]; then ok "a pattern group accepted by --check-config"; else
  fail "a pattern group accepted by --check-config (exit $rc)"; printf '%s\n' "$out"; fi

# A pattern on a source that loads no instrument list: refused at the group's symbols.
sed 's/^venue = "binance"$/venue = "binance"\ninstruments = false/' "$tmp/pattern-ok.toml" >"$tmp/no-list.toml"
out=$("$TICKD" --check-config -c "$tmp/no-list.toml" 2>&1)
rc=$?
want="$tmp/no-list.toml:18:11: group \"alts\": symbols: \"*-USDT\" is a pattern, and source \"b\" loads no instrument list to resolve it (instruments = false)
tickd: $tmp/no-list.toml: 1 error"
if [[ $rc -eq 78 && $out == "$want" ]]; then ok "a pattern on a source without instrument list"; else
  fail "a pattern on a source without instrument list (exit $rc)"; diff <(printf '%s\n' "$want") <(printf '%s\n' "$out"); fi

# Files that are not regular, and password files others may read: refused at once, never waited on (open() of a
# FIFO blocked --check-config, and a reload, until a writer came).
mkfifo "$tmp/fifo.toml"
expect "FIFO as config" 78 "$tmp/fifo.toml: cannot read: not a regular file" -- \
  --check-config -c "$tmp/fifo.toml"
mkfifo "$tmp/fifo-pw"
printf '[redis]\npassword_file = "%s"\n' "$tmp/fifo-pw" >"$tmp/fifo-pw.toml"
expect "FIFO as password_file" 78 "redis.password_file: cannot read \"$tmp/fifo-pw\": not a regular file" -- \
  --check-config -c "$tmp/fifo-pw.toml"
printf 'hunter3\n' >"$tmp/pw"
chmod 0644 "$tmp/pw"
printf '[redis]\npassword_file = "pw"\n' >"$tmp/pw.toml"
expect "password_file readable by others" 78 "cannot read \"pw\": readable or writable by group or others: chmod 0600 \"$tmp/pw\"" -- \
  --check-config -c "$tmp/pw.toml"
chmod 0600 "$tmp/pw"
out=$("$TICKD" --check-config -c "$tmp/pw.toml" 2>&1)
if [[ $? -eq 0 && $out == *"pw.toml: ok (0 sources, 0 groups)"* ]]; then ok "password_file 0600 accepted"; else
  fail "password_file 0600 accepted"; printf '%s\n' "$out"; fi

# A password holding '/', '?', '#' or '@' is never printed, in an error or in the daemon's log.
printf '[redis]\nurl = "redis://:hun/ter?4#x@y@127.0.0.1:99999/0"\n' >"$tmp/slash.toml"
out=$("$TICKD" --check-config -c "$tmp/slash.toml" 2>&1)
if [[ $out == *'got "redis://:***@127.0.0.1:99999/0"'* && $out != *hun* && $out != *ter* ]]; then
  ok "password with / ? # @ not printed in errors"; else fail "password with / ? # @ not printed in errors"; printf '%s\n' "$out"; fi

# The daemon itself: loads, logs its config without secrets, stops cleanly on SIGTERM.
printf '[rabbitmq]\nurl = "amqp://u:s3cret@127.0.0.1:1/%%2f"\n[redis]\nurl = "redis://:s3/cr?et#@127.0.0.1:1/0"\n' >"$tmp/run.toml"
"$TICKD" -c "$tmp/run.toml" 2>"$tmp/run.log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'msg=running' "$tmp/run.log" && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [[ $rc -eq 0 ]] && grep -q 'msg=stopped' "$tmp/run.log"; then ok "SIGTERM exits 0"; else
  fail "SIGTERM exits 0 (exit $rc)"; cat "$tmp/run.log"; fi
if grep -q 'url=amqp://u:\*\*\*@127.0.0.1:1/%2f' "$tmp/run.log" && grep -q 'url=redis://:\*\*\*@127.0.0.1:1/0' "$tmp/run.log" &&
  ! grep -q -e s3cret -e 's3/cr' -e 'cr?et' "$tmp/run.log"; then
  ok "daemon log redacts URLs"; else fail "daemon log redacts URLs"; cat "$tmp/run.log"; fi

# A reload to a file with a pattern group is applied: the group waits for the venue's instrument list (no venue
# answers here), the running group stays.
sed -n '1,13p' "$tmp/pattern-ok.toml" >"$tmp/reload.toml"
"$TICKD" -c "$tmp/reload.toml" 2>"$tmp/reload.log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'msg=running' "$tmp/reload.log" && break; sleep 0.05; done
cp "$tmp/pattern-ok.toml" "$tmp/reload.toml"
kill -HUP "$pid"
for _ in $(seq 1 100); do grep -q 'msg=reloaded' "$tmp/reload.log" && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
rc=$?
if [[ $rc -eq 0 ]] && grep -q 'msg=reloaded groups_added=1 groups_changed=0 groups_removed=0 groups_kept=1' "$tmp/reload.log" &&
  grep -q "msg=\"the group's patterns wait for the venue's instrument list\" group=alts" "$tmp/reload.log"; then
  ok "a reload to a pattern group: it waits for the instrument list, the daemon runs on"; else
  fail "a reload to a pattern group: it waits for the instrument list (exit $rc)"; cat "$tmp/reload.log"; fi

echo "# passed=$passed failed=$failed skipped=0"
[[ $failed -eq 0 ]]
