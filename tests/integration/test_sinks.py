"""The output side end to end (issue 6): the real tickd against fakex, a real redis-server and rabbitmq-server.

What lands in Redis is compared byte for byte with what fakex reports it sent last; what a RabbitMQ consumer
receives is checked for order (per instrument, strictly increasing "seq") and for ending on the last value.
Each test also fails when the tickd log shows a sanitizer report (run it against a SANITIZE=1 build too).
Timing only decides how long a test waits, never whether it passes: every wait has a generous deadline."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import harness as h

suite = h.Suite("sinks")
SYMBOLS = ["BTC-USDT", "ETH-USDT"]
QUOTE_FIELDS = ("bid", "bid_qty", "ask", "ask_qty")
LAST_VENUES = ("coinbase", "kraken")  # Binance's bookTicker and OKX's bbo-tbt carry no last price
SANITIZER_MARKS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")


# ---- helpers ----

_daemons = []


# Under SANITIZE=1, ASan keeps freed memory in a quarantine of up to 256 MB, which RSS shows as growth: a small
# one keeps the RSS bound of the outage test meaningful there (no effect on a normal build).
ASAN_OPTIONS = ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                      "quarantine_size_mb=4:thread_local_quarantine_size_kb=64"]))


def start_tickd(fx, groups, prefix, name="tickd", stats="1s"):
    d = h.Tickd(h.config(fx, groups, prefix=prefix, stats=stats), name=name, env={"ASAN_OPTIONS": ASAN_OPTIONS})
    _daemons.append(d)
    d.wait_ready(timeout=30)
    return d


def sinks_test(fn):
    """A suite test that, once its body passed, stops every tickd it started and fails on a non-zero exit
    or a sanitizer report in the log."""
    def run():
        del _daemons[:]
        fn()
        for d in _daemons:
            status = d.stop()
            for mark in SANITIZER_MARKS:
                h.check(not d.log_lines(mark), "sanitizer report in the tickd log:\n" + d.tail(80))
            h.check(status == 0, "tickd exit status %s; log:\n%s" % (status, d.tail()))
    run.__name__ = fn.__name__
    return suite.test(run)


def stats(d, what):
    """The newest stats line of `what` (redis, rabbitmq, summary) as a dict of its key=value pairs."""
    lines = d.log_lines(r'msg="?%s"? ' % what)
    lines = [l for l in lines if "stats" in l]
    if not lines:
        return {}
    out = {}
    for word in lines[-1].split():
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = v.strip('"')
    return out


def stat_int(d, what, key):
    try:
        return int(stats(d, what).get(key, "0"))
    except ValueError:
        return 0


def fresh_redis(prefix):
    """The test servers outlive a test: an earlier run's quotes under this prefix carry higher positions (fakex
    starts from the same seed), and the compare-and-set would rightly refuse every write of this run."""
    redis = h.Redis()
    for k in redis.keys(prefix + ":*"):
        redis.cmd("DEL", k)
    return redis


def start_four_venues(prefix, rate):
    """fakex and a tickd with a stream task per venue, both symbols; returns once every quote is in Redis."""
    redis = fresh_redis(prefix)
    fx = h.Fakex(symbols=SYMBOLS, rate=rate)
    d = start_tickd(fx, [h.group(v, SYMBOLS) for v in h.VENUES], prefix)
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 8, 15, "a quote per venue and symbol")
    return redis, fx, d


def quote_key(prefix, venue, symbol):
    return "%s:quote:%s:%s" % (prefix, venue, symbol)


def expected_fields(venue):
    return QUOTE_FIELDS + (("last",) if venue in LAST_VENUES else ())


def redis_diffs(redis, fx, prefix, venues, symbols):
    """Differences between Redis's quote hashes and fakex's last values, as text lines (empty when equal)."""
    report = fx.report()["venues"]
    diffs = []
    for v in venues:
        for s in symbols:
            want = report[v]["symbols"][s]
            got = redis.hgetall(quote_key(prefix, v, s))
            for f in expected_fields(v):
                if got.get(f) != want[f]:
                    diffs.append("%s %s %s: redis %r, fakex sent %r (redis seq=%s origin=%s, fakex seq=%s)"
                                 % (v, s, f, got.get(f), want[f], got.get("seq"), got.get("origin"), want["seq"]))
    return diffs


def wait_redis_exact(redis, fx, prefix, venues, symbols, timeout=20):
    """Waits until every quote hash equals fakex's last values; fails with the differences."""
    deadline = time.monotonic() + timeout
    while True:
        diffs = redis_diffs(redis, fx, prefix, venues, symbols)
        if not diffs or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    h.check(not diffs, "Redis differs from fakex's last values:\n  " + "\n  ".join(diffs))


def stall_and_settle(fx, venue="all", how="stall"):
    """Stops fakex's market and gives tickd a moment to take the frames already on the wire."""
    fx.set(venue, **{how: 1})
    time.sleep(1.0)


def by_instrument(messages):
    out = {}
    for m in messages:
        b = m.get("body")
        if isinstance(b, dict):
            out.setdefault((b.get("venue"), b.get("symbol")), []).append(b)
    return out


def check_amqp_order_and_last(messages, fx, venues, symbols, allow_repeat_at=None):
    """Per instrument: strictly increasing seq (one repeat allowed at the given indexes: at-least-once after a
    reconnect), and the last message equal to fakex's last value."""
    report = fx.report()["venues"]
    per = by_instrument(messages)
    for v in venues:
        for s in symbols:
            bodies = per.get((v, s), [])
            h.check(bodies, "no RabbitMQ message for %s %s" % (v, s))
            seqs = [b["seq"] for b in bodies]
            h.check(all(isinstance(x, int) for x in seqs), "%s %s: a message without seq: %r" % (v, s, seqs[:5]))
            for i in range(1, len(seqs)):
                ok = seqs[i] > seqs[i - 1] or (allow_repeat_at and seqs[i] == seqs[i - 1])
                h.check(ok, "%s %s: seq went from %d to %d (message %d of %d)"
                        % (v, s, seqs[i - 1], seqs[i], i, len(seqs)))
            want, got = report[v]["symbols"][s], bodies[-1]
            for f in expected_fields(v):
                h.check(got.get(f) == want[f], "%s %s: last RabbitMQ %s is %r, fakex sent %r"
                        % (v, s, f, got.get(f), want[f]))


def wait_amqp_last(tap, fx, venues, symbols, timeout=20, **kw):
    """Waits until the consumer's last message per instrument equals fakex's last value, then checks order."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            check_amqp_order_and_last(list(tap.messages), fx, venues, symbols, **kw)
            return
        except h.CheckFailed:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


class QuoteSampler:
    """Reads the `order` and `seq` fields of the quote hashes as often as it can, in a thread, and remembers
    every time one moved backwards (the Lua compare-and-set is what should prevent it)."""

    def __init__(self, redis, keys):
        self.redis, self.keys = redis, keys
        self.samples = 0
        self.backwards = []
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        h.on_cleanup(self.stop)

    def _run(self):
        seen = {}
        while self.running:
            for k in self.keys:
                try:
                    order, seq = self.redis.cmd("HMGET", k, "order", "seq")
                except (OSError, RuntimeError, ConnectionError):
                    continue
                if order is None:
                    continue
                prev = seen.get(k)
                if prev and (order < prev[0] or (seq and prev[1] and int(seq) < int(prev[1]))):
                    self.backwards.append((k, prev, (order, seq)))
                seen[k] = (order, seq)
                self.samples += 1
            time.sleep(0.005)

    def stop(self):
        self.running = False
        self.thread.join(5)


def rss_sampler(d, samples, stop):
    while not stop.is_set():
        kb = d.rss_kb()
        if kb:
            samples.append(kb)
        time.sleep(0.25)


# ---- 1. the normal path ----

@sinks_test
def all_venues_exact_in_redis_and_ordered_on_rabbitmq():
    h.need_servers()
    prefix = "snk1"
    tap = h.AmqpTap()
    redis, fx, d = start_four_venues(prefix, rate=40)
    time.sleep(3)  # a few hundred ticks through both sinks
    stall_and_settle(fx)
    wait_redis_exact(redis, fx, prefix, h.VENUES, SYMBOLS)
    wait_amqp_last(tap, fx, h.VENUES, SYMBOLS)
    per = by_instrument(tap.messages)
    h.check(all(len(per[(v, s)]) >= 5 for v in h.VENUES for s in SYMBOLS),
            "too few RabbitMQ messages: %r" % {k: len(b) for k, b in per.items()})
    m = next(m for m in tap.messages if "body" in m)
    b = m["body"]
    h.check(m.get("content_type") == "application/json" and m.get("delivery_mode") == 2, "properties: %r" % m)
    h.check(m.get("message_id") == "%s:%s:%d" % (b["venue"], b["symbol"], b["seq"]), "message_id: %r" % m)
    h.check(m.get("routing_key") == "tick.%s.%s" % (b["venue"], b["symbol"]), "routing key: %r" % m)
    time.sleep(1.2)  # one more stats line after the stall
    print("    redis: %s" % stats(d, "redis"))
    print("    rabbitmq: %s" % stats(d, "rabbitmq"))
    h.check(stat_int(d, "redis", "errors") == 0, "redis errors: %r" % stats(d, "redis"))


# ---- 2. REST against stream ----

@sinks_test
def slow_rest_answer_never_overwrites_a_newer_stream_tick():
    """fakex builds a REST answer when the request arrives and sends it delay_ms later. Freeze the stream just
    after a request arrived: that answer, older than the stream's last tick, lands well after it and must be
    dropped (stale), so Redis keeps the stream's value. Answers to requests sent after the freeze do replace
    it (origin becomes rest, same prices)."""
    h.need_servers()
    prefix, venue = "snk2", "binance"
    redis = fresh_redis(prefix)
    delay_ms = 1500  # below the poll interval, which is also the request timeout
    fx = h.Fakex(venue=venue, symbols=SYMBOLS, rate=40)
    d = start_tickd(fx, [h.group(venue, SYMBOLS, poll="4s")], prefix)
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 2, 15, "a quote per symbol")
    fx.set(venue, delay_ms=delay_ms)
    time.sleep(delay_ms / 1000.0 + 1)  # the poll loop now waits on slow answers
    requests = fx.report()["venues"][venue]["http_requests"]
    h.wait_until(lambda: fx.report()["venues"][venue]["http_requests"] > requests, 10, "a REST request")
    time.sleep(0.4)  # the stream moves on past what that request's answer will say
    stale_before = stat_int(d, "summary", "stale")
    fx.set(venue, heartbeats_only=1)  # the market freezes; REST still answers (late)
    frozen = time.monotonic()
    # The stream's last tick arrives; then, until the late answer plus the next request's delay, nothing newer
    # can exist: Redis must hold the stream's last value all along, and the stale answer must be counted.
    wait_redis_exact(redis, fx, prefix, [venue], SYMBOLS, timeout=5)
    seen = []
    while time.monotonic() - frozen < delay_ms / 1000.0 + 0.8:
        diffs = redis_diffs(redis, fx, prefix, [venue], SYMBOLS)
        h.check(not diffs, "a stale REST answer moved Redis back:\n  " + "\n  ".join(diffs))
        seen.append(redis.hgetall(quote_key(prefix, venue, SYMBOLS[0])).get("origin"))
        time.sleep(0.02)
    h.check(seen and seen[0] == "stream", "Redis did not hold a stream tick after the freeze: %r" % seen[:3])
    h.wait_until(lambda: stat_int(d, "summary", "stale") > stale_before, 5, "the late answer counted as stale")
    # The converse: an answer to a request sent after the freeze is newer than the stream's last tick.
    h.wait_until(lambda: all(redis.hgetall(quote_key(prefix, venue, s)).get("origin") == "rest" for s in SYMBOLS),
                 delay_ms / 1000.0 * 3 + 5, "a REST answer sent after the stream stopped to replace it")
    wait_redis_exact(redis, fx, prefix, [venue], SYMBOLS, timeout=5)
    print("    stale drops: %d before the freeze, %d after" % (stale_before, stat_int(d, "summary", "stale")))


# ---- 3. two writers ----

@sinks_test
def two_tickd_on_one_redis_never_move_it_backwards():
    """Two daemons, the same instruments, the same prefix. One is paused now and then (SIGSTOP), so that it
    wakes up with old frames in its socket and writes them late: the Lua compare must refuse them."""
    h.need_servers()
    prefix = "snk3"
    redis = fresh_redis(prefix)
    fx = h.Fakex(symbols=SYMBOLS, rate=60)
    groups = [h.group(v, SYMBOLS) for v in h.VENUES]
    a = start_tickd(fx, groups, prefix, name="tickd-a")
    b = start_tickd(fx, groups, prefix, name="tickd-b")
    keys = [quote_key(prefix, v, s) for v in h.VENUES for s in SYMBOLS]
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 8, 15, "a quote per venue and symbol")
    sampler = QuoteSampler(redis, keys)
    for _ in range(3):
        time.sleep(1.0)
        b.signal(signal.SIGSTOP)
        time.sleep(1.0)
        b.signal(signal.SIGCONT)
    time.sleep(1.5)
    stall_and_settle(fx)
    wait_redis_exact(redis, fx, prefix, h.VENUES, SYMBOLS)
    time.sleep(1.2)
    sampler.stop()
    h.check(sampler.samples > 100, "too few samples of Redis: %d" % sampler.samples)
    h.check(not sampler.backwards, "Redis moved backwards %d times, e.g. %r"
            % (len(sampler.backwards), sampler.backwards[:3]))
    rejected = stat_int(a, "redis", "cas_rejected") + stat_int(b, "redis", "cas_rejected")
    print("    %d samples; compare-and-set refusals: a=%d b=%d" % (sampler.samples, stat_int(a, "redis", "cas_rejected"),
                                                                  stat_int(b, "redis", "cas_rejected")))
    h.check(rejected > 0, "no write was refused: the two writers never raced")
    h.check(a.proc.poll() is None and b.proc.poll() is None, "a tickd exited")


# ---- 4. Redis outage ----

@sinks_test
def redis_killed_and_restarted_mid_stream_ends_exact():
    h.need_servers()
    prefix = "snk4"
    redis, fx, d = start_four_venues(prefix, rate=40)
    h.servers("redis_stop")
    h.on_cleanup(lambda: h.servers("redis_start") if not redis_up(redis) else None)
    time.sleep(2)           # ticks keep coming while Redis is away ...
    stall_and_settle(fx)    # ... and the last ones arrive while it is still away
    h.check(d.proc.poll() is None, "tickd exited while Redis was away; log:\n" + d.tail())
    h.servers("redis_start")  # empty: no data dir was saved
    wait_redis_exact(redis, fx, prefix, h.VENUES, SYMBOLS, timeout=30)
    bbo = redis.hgetall("%s:bbo:%s" % (prefix, SYMBOLS[0]))
    h.check(bbo.get("bid_venue") in h.VENUES, "no best bid and offer after the restart: %r" % bbo)
    h.wait_until(lambda: stat_int(d, "redis", "reconnects") >= 1, 5, "the reconnect in the stats")
    h.check(d.proc.poll() is None, "tickd exited")
    print("    redis after the restart: %s" % stats(d, "redis"))


def port_open(port):
    """A second rabbit_start while the broker runs fails and takes the running node's pid file with it (then
    rabbit_stop waits forever): start only what is down."""
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
        return True
    except OSError:
        return False


def redis_up(redis):
    try:
        return redis.cmd("PING") == "PONG"
    except OSError:
        return False


# ---- 5. RabbitMQ outage ----

@sinks_test
def rabbitmq_outage_delivers_the_latest_and_memory_stays_bounded():
    """The broker stops for about 8 s while fakex keeps sending. tickd keeps running, its conflating buffer
    holds one tick per instrument (depth at most 8 here) and its RSS stays flat; once the broker is back, a
    consumer (a new one: its queue died with the broker) ends with every instrument's last value, in order."""
    h.need_servers()
    prefix = "snk5"
    redis, fx, d = start_four_venues(prefix, rate=200)
    h.wait_until(lambda: stats(d, "rabbitmq").get("connected") == "yes", 5, "tickd connected to RabbitMQ")
    rss, stop = [], threading.Event()
    t = threading.Thread(target=rss_sampler, args=(d, rss, stop), daemon=True)
    t.start()
    h.on_cleanup(stop.set)
    time.sleep(1)
    rss_start = max(rss)
    h.servers("rabbit_stop")
    h.on_cleanup(lambda: None if port_open(os.environ["TICKD_TEST_AMQP_PORT"]) else h.servers("rabbit_start"))
    outage = time.monotonic()
    depths = []
    while time.monotonic() - outage < 8:
        depths.append(stat_int(d, "rabbitmq", "depth"))
        time.sleep(0.5)
    during = stats(d, "rabbitmq")
    h.servers("rabbit_start")
    tap = h.AmqpTap()
    h.wait_until(lambda: stat_int(d, "rabbitmq", "reconnects") >= 1, 30, "tickd reconnected to RabbitMQ")
    time.sleep(1.5)  # fresh ticks through the new connection
    stall_and_settle(fx)
    wait_amqp_last(tap, fx, h.VENUES, SYMBOLS, allow_repeat_at=True)
    h.wait_until(lambda: stat_int(d, "rabbitmq", "depth") == 0, 15, "the buffer confirmed")
    wait_redis_exact(redis, fx, prefix, h.VENUES, SYMBOLS)
    stop.set()
    t.join(5)
    peak = max(rss)
    print("    RSS: start %d kB, peak %d kB (+%d kB) over %d samples; buffer depth during the outage: max %d"
          % (rss_start, peak, peak - rss_start, len(rss), max(depths)))
    print("    rabbitmq during the outage: %s" % during)
    print("    rabbitmq after: %s" % stats(d, "rabbitmq"))
    h.check(during.get("connected") == "no", "the stats did not show the outage: %r" % during)
    h.check(max(depths) <= 8, "the buffer held more than one tick per instrument: depth %d" % max(depths))
    h.check(peak - rss_start <= 20 * 1024, "RSS grew by %d kB during the outage" % (peak - rss_start))
    h.check(d.proc.poll() is None, "tickd exited")


# ---- 6. hostile input ----

HOSTILE_REPLAY = [
    # a long decimal, beyond TICK_DECIMAL_MAX: refused by the adapter, never cut short
    '{"u":2,"s":"BTCUSDT","b":"%s","B":"1","a":"2","A":"1"}' % ("9" * 60 + ".5"),
    # control characters and Redis protocol inside a price
    '{"u":3,"s":"BTCUSDT","b":"1\\r\\n*1\\r\\n$8\\r\\nFLUSHALL\\r\\n","B":"1","a":"2","A":"1"}',
    # odd symbols: not subscribed, so never a key or a routing key
    '{"u":4,"s":"BTC\\r\\nUSDT","b":"1","B":"1","a":"2","A":"1"}',
    '{"u":5,"s":"BTC.USDT*#","b":"1","B":"1","a":"2","A":"1"}',
    '{"u":6,"s":"%s","b":"1","B":"1","a":"2","A":"1"}' % ("X" * 300),
    '{"u":7,"s":"ETHUSDT","b":"1e999999999999","B":"-0","a":"2","A":"1"}',
    # and a valid tick, so we know the stream went through
    '{"u":9,"s":"BTCUSDT","b":"101.25","B":"0.5","a":"101.50","A":"3"}',
]


@sinks_test
def hostile_values_and_symbols_never_reach_keys_or_routing():
    h.need_servers()
    prefix, venue = "snk6", "binance"
    redis = fresh_redis(prefix)
    path = os.path.join(h.tmpdir(), "hostile.jsonl")
    with open(path, "w") as f:
        f.write("\n".join(HOSTILE_REPLAY) + "\n")
    fx = h.Fakex(venue=venue, symbols=SYMBOLS, rate=20, args=["--replay", path])
    tap = h.AmqpTap()
    d = start_tickd(fx, [h.group(venue, SYMBOLS)], prefix)
    key = quote_key(prefix, venue, "BTC-USDT")
    h.wait_until(lambda: redis.hgetall(key).get("bid") == "101.25", 15, "the valid replayed tick in Redis")
    time.sleep(2)  # the replay goes round a few more times
    keys = redis.keys(prefix + ":*")
    allowed = {key, "%s:bbo:BTC-USDT" % prefix, "%s:instruments:%s" % (prefix, venue)}
    if redis.hgetall(quote_key(prefix, venue, "ETH-USDT")):
        allowed |= {quote_key(prefix, venue, "ETH-USDT"), "%s:bbo:ETH-USDT" % prefix}
    h.check(set(keys) <= allowed, "unexpected keys: %r" % sorted(set(keys) - allowed))
    got = redis.hgetall(key)
    h.check((got["bid"], got["bid_qty"], got["ask"], got["ask_qty"]) == ("101.25", "0.5", "101.50", "3"),
            "the stored quote is not the valid tick: %r" % got)
    h.check(redis.cmd("DBSIZE") > 0, "Redis was flushed")
    for m in tap.messages:
        h.check(m.get("routing_key") in ("tick.binance.BTC-USDT", "tick.binance.ETH-USDT"),
                "unexpected routing key: %r" % m)
        b = m.get("body", {})
        h.check(all(len(b.get(f) or "") < 40 for f in QUOTE_FIELDS), "a long value was published: %r" % b)
    h.check(any(m.get("routing_key") == "tick.binance.BTC-USDT" for m in tap.messages), "no message published")
    summary = stats(d, "summary")
    src = [l for l in d.log_lines("parse_errors=|malformed") if "stats" in l or "malformed" in l]
    h.check(src, "the refused frames left no trace in the log:\n" + d.tail())
    print("    summary: %s" % summary)
    print("    %s" % src[-1].strip())


# ---- 7. quote_ttl: a silent venue leaves the best bid and offer ----

@sinks_test
def a_silent_venue_leaves_the_best_bid_and_offer_after_quote_ttl():
    h.need_servers()
    prefix = "snk7"
    venues, sym = ("binance", "coinbase"), "BTC-USDT"
    redis = fresh_redis(prefix)
    bbo_key = "%s:bbo:%s" % (prefix, sym)
    fx = h.Fakex(venue=",".join(venues), symbols=[sym], rate=40)

    def conf(ttl):
        return h.config(fx, [h.group(v, [sym]) for v in venues], prefix=prefix,
                        extra='\n[merge]\nquote_ttl = "%s"\n' % ttl)
    # Started without a TTL; the TTL comes with a reload, which applies [merge] without a restart.
    d = h.Tickd(conf("0s"), env={"ASAN_OPTIONS": ASAN_OPTIONS})
    _daemons.append(d)
    d.wait_ready(timeout=30)
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 2, 15, "a quote per venue")
    d.write_config(conf("2s"))
    d.signal(signal.SIGHUP)
    h.wait_until(lambda: d.log_lines("msg=reloaded"), 10, "the reload")
    h.check(not d.log_lines("needs a restart"), "quote_ttl asked for a restart:\n" + d.tail())

    def bbo_venues():
        b = redis.hgetall(bbo_key)
        return b.get("bid_venue"), b.get("ask_venue")

    # Binance goes quiet: once its quote is older than 2 s, only Coinbase can be the best on either side, while
    # Binance's own hash keeps the last value fakex sent.
    stall_and_settle(fx, "binance")
    h.wait_until(lambda: bbo_venues() == ("coinbase", "coinbase"), 15, "coinbase alone in the BBO")
    wait_redis_exact(redis, fx, prefix, ["binance"], [sym])
    # Both quiet: no venue quotes either side, and the BBO says so rather than show a price from the past.
    stall_and_settle(fx, "coinbase")
    h.wait_until(lambda: redis.hgetall(bbo_key).get("bid") == "", 15, "an empty BBO")
    b = redis.hgetall(bbo_key)
    h.check(b.get("ask") == "" and b.get("bid_venue") == "" and b.get("ask_venue") == "", "BBO: %r" % b)
    wait_redis_exact(redis, fx, prefix, venues, [sym])
    # Binance speaks again: its next tick brings it back, alone, since Coinbase is still expired.
    fx.set("binance", stall=0)
    h.wait_until(lambda: bbo_venues() == ("binance", "binance"), 20, "binance back in the BBO")
    b, q = redis.hgetall(bbo_key), redis.hgetall(quote_key(prefix, "binance", sym))
    h.check(b.get("bid") and q.get("bid") and b.get("ask"), "BBO %r, binance's quote %r" % (b, q))
    h.check(d.log_lines("quotes expired"), "no log line for the expiry:\n" + d.tail())
    h.wait_until(lambda: stat_int(d, "summary", "expired") >= 2, 5, "expired >= 2 in the summary stats line")
    m = re.search(r"^merge: .*\bexpired=(\d+) withdrawn=\d+ quote_ttl_ms=2000$", d.status(), re.M)
    h.check(m and int(m.group(1)) >= 2, "tickd status has no merge line with the expiries:\n" + d.status())


suite.run()
