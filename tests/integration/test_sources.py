"""The sources of issue 5 against fakex over real sockets: the real tickd, the real fakex, real Redis and RabbitMQ.

  exactness   every venue, stream-only and poll-only groups: the quote in Redis equals, byte for byte, what fakex
              reports it sent last once the market is frozen
  limits      a config asking >10x what the limits allow: fakex records no violation, every poll group progresses;
              prints the requests/s fakex saw
  429 / 418   no request reaches the source before Retry-After ends; the pause is logged once with its end; polling
              resumes
  faults      disconnect, stall, garbage, planned close (make before break, no message lost), short-lived
              connections: the right task fails or switches, the group restarts, data flows again (time printed)
  storm       refused connections restart many times, yet fakex's connect window is never exceeded

Every test ends by stopping tickd (exit status 0) and fails when tickd's or fakex's log holds a sanitizer report,
so the same file checks the SANITIZE=1 build. Speed is printed, never asserted: deadlines are generous.
"""
import os
import re
import time

import harness as h

suite = h.Suite("sources")
FIELDS = ("bid", "bid_qty", "ask", "ask_qty", "last")
# The quote fields each venue sends on each path (Binance bookTicker and OKX bbo-tbt have no last; Coinbase's REST
# ticker no sizes).
SENT = {
    ("binance", "stream"): ("bid", "bid_qty", "ask", "ask_qty"),
    ("binance", "rest"): ("bid", "bid_qty", "ask", "ask_qty"),
    ("coinbase", "stream"): FIELDS,
    ("coinbase", "rest"): ("bid", "ask", "last"),
    ("kraken", "stream"): FIELDS,
    ("kraken", "rest"): FIELDS,
    ("okx", "stream"): ("bid", "bid_qty", "ask", "ask_qty"),  # bbo-tbt carries no last
    ("okx", "rest"): FIELDS,
}
# Restarts are the point of several tests: let the supervisor restart quickly and never park a group here.
SUPERVISOR = {"backoff_min": "50ms", "backoff_max": "500ms", "max_restarts": 64, "restart_window": "1s"}

_procs = []  # (what, log path, Tickd or None) of the current test


test = h.checked_test(suite, _procs)


def fakex(**kw):
    fx = h.Fakex(**kw)
    _procs.append(("fakex", fx.log, None))
    return fx


def tickd(fx, groups, supervisor=None, **kw):
    """Starts tickd on fakex's venues with a key prefix of its own, and waits for READY."""
    sup = dict(SUPERVISOR)
    sup.update(supervisor or {})
    prefix = "src%d" % int(time.monotonic() * 1000)
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=sup, **kw))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(30)
    return d


def quote(d, venue, symbol):
    return h.Redis().hgetall("%s:quote:%s:%s" % (d.prefix, venue, symbol))


def recv_ts(d, venue, symbol):
    return int(quote(d, venue, symbol).get("recv_ts") or 0)


def wait_new_value(d, venue, symbol, after_s, timeout=15):
    """Waits for a quote tickd received after wall time after_s; returns how long after after_s it arrived (ms)."""
    after_us = int(after_s * 1e6)
    got = h.wait_until(lambda: recv_ts(d, venue, symbol) > after_us and recv_ts(d, venue, symbol), timeout,
                       "a new %s %s quote in Redis" % (venue, symbol))
    return (got - after_us) / 1000.0


def log_count(d, pattern):
    return len(d.log_lines(pattern))


def violations(fx, venue, kinds=None):
    return [v for v in fx.report()["violations"] if v["venue"] == venue and (kinds is None or v["kind"] in kinds)]


def amqp_count(tap, venue, symbol):
    return sum(1 for m in list(tap.messages) if m.get("routing_key") == "tick.%s.%s" % (venue, symbol))


def sample_updates(d, keys, seconds):
    """Distinct recv_ts values seen per (venue, symbol) while sampling Redis for `seconds`."""
    seen = {k: set() for k in keys}
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for k in keys:
            seen[k].add(recv_ts(d, *k))
        time.sleep(0.1)
    return {k: len(v - {0}) for k, v in seen.items()}


def held_rate(fx, venue, field="requests"):
    """Units per second fakex counted over its complete windows, and the largest count in one window."""
    rep = fx.report()["venues"][venue]
    wins, win_ms = rep["windows"], rep["rest_window"]["window_ms"]
    full = wins[:-1] if len(wins) > 1 else wins
    span_ms = (wins[-1]["start_ms"] - wins[0]["start_ms"]) if len(wins) > 1 else win_ms
    total = sum(w[field] for w in full)
    return total * 1000.0 / max(span_ms, 1), max([w[field] for w in wins] or [0])


# ---- 1. exact ticks, each venue, stream and poll apart ----

STREAM_SYMS = ["BTC-USDT", "ETH-USDT"]
POLL_SYMS = ["SOL-USDT", "XRP-USDT"]


@test
def ticks_are_exact_for_each_venue_stream_and_poll():
    h.need_servers()
    fx = fakex(symbols=STREAM_SYMS + POLL_SYMS, rate=40)
    groups = []
    for v in h.VENUES:
        groups.append(h.group(v, STREAM_SYMS, name=v + "-stream"))
        groups.append(h.group(v, POLL_SYMS, name=v + "-poll", stream=False, poll="300ms"))
    d = tickd(fx, groups)
    keys = [(v, s) for v in h.VENUES for s in STREAM_SYMS + POLL_SYMS]
    h.wait_until(lambda: all(recv_ts(d, *k) for k in keys), 15, "a quote for every venue and symbol")
    # Freeze the market (streams send keep-alives only, REST answers the frozen values), then compare.
    fx.set("all", heartbeats_only=1)
    time.sleep(1.5)
    rep = fx.report()["venues"]
    for v in h.VENUES:
        for symbols, origin in ((STREAM_SYMS, "stream"), (POLL_SYMS, "rest")):
            for s in symbols:
                want, got = rep[v]["symbols"][s], quote(d, v, s)
                h.check(got.get("origin") == origin, "%s %s came from %r, expected only %s" % (v, s, got.get("origin"), origin))
                for f in SENT[(v, origin)]:
                    h.check(got.get(f) == want[f], "%s %s (%s) %s: redis %r, fakex sent %r"
                            % (v, s, origin, f, got.get(f), want[f]))
    h.check(not d.log_lines(r"level=(warn|error).*component=(poll|stream)"),
            "warnings from the tasks:\n" + "".join(d.log_lines(r"level=(warn|error).*component=(poll|stream)")))


# ---- 2. limits: ten times more asked than allowed ----

@test
def requests_per_second_limit_is_held_and_shared():
    h.need_servers()
    syms = ["BTC-USD", "ETH-USD", "SOL-USDT", "XRP-USDT"]
    limit = 3
    fx = fakex(venue="coinbase", symbols=syms, rate=20, sets={"rest_limit": limit, "rest_window_ms": 1000})
    # Four groups, one symbol each, every 100 ms: 40 requests/s asked of a source allowing 3.
    groups = [h.group("coinbase", [s], name="cb-%d" % i, stream=False, poll="100ms") for i, s in enumerate(syms)]
    tap = h.AmqpTap("tick.coinbase.#")
    d = tickd(fx, groups, limits={"coinbase": {"requests_per_second": limit}})
    time.sleep(8)
    # Every REST answer is newer than the last (it is ordered by when its request left): one message each.
    seen = {s: amqp_count(tap, "coinbase", s) for s in syms}
    rate, peak = held_rate(fx, "coinbase")
    print("    coinbase: %.2f requests/s held under a limit of %d/s (peak %d in one fakex window); answers per "
          "group: %s" % (rate, limit, peak, sorted(seen.values())))
    bad = violations(fx, "coinbase")
    h.check(not bad, "fakex recorded violations: %s" % bad[:5])
    h.check(fx.report()["venues"]["coinbase"]["rejected_429"] == 0, "fakex answered 429")
    h.check(min(seen.values()) >= 3, "a group starved: answers per symbol %s" % seen)
    h.check(min(seen.values()) * 2 >= max(seen.values()), "unfair share between groups: %s" % seen)


@test
def weight_per_minute_limit_is_held_and_shared():
    h.need_servers()
    syms = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    limit = 40
    fx = fakex(venue="binance", symbols=syms, rate=20, sets={"rest_limit": limit, "rest_window_ms": 60000})
    # Three groups every 100 ms ask about 60 weight/s of a source allowing 40 per minute: 90 times too much.
    groups = [h.group("binance", [s], name="bn-%d" % i, stream=False, poll="100ms") for i, s in enumerate(syms)]
    d = tickd(fx, groups, limits={"binance": {"weight_per_minute": limit}})
    seen = sample_updates(d, [("binance", s) for s in syms], 4)
    rep = fx.report()["venues"]["binance"]
    weight = sum(w["weight"] for w in rep["windows"])
    print("    binance: weight %d used of %d per minute, %d requests in %.1f s; updates per group: %s"
          % (weight, limit, rep["http_requests"] - rep["ws_connects"], rep["uptime_ms"] / 1000.0
             if "uptime_ms" in rep else fx.report()["uptime_ms"] / 1000.0, sorted(seen.values())))
    bad = violations(fx, "binance")
    h.check(not bad, "fakex recorded violations: %s" % bad[:5])
    h.check(weight <= limit, "weight %d over the limit %d" % (weight, limit))
    h.check(min(seen.values()) >= 2, "a group starved: distinct updates per symbol %s" % seen)


# ---- 3. 429 and 418 pause the source until Retry-After ----

@test
def http_429_pauses_until_retry_after_then_polling_resumes():
    h.need_servers()
    # 3 single-symbol requests (weight 2) per 2 s window, then 429 with Retry-After. A request before Retry-After
    # ends would be banned (418) by fakex, as Binance does: so no 418 and no ban means tickd waited every time.
    fx = fakex(venue="binance", symbols=["BTC-USDT"], rate=20, sets={"rest_limit": 6, "rest_window_ms": 2000})
    # No instrument list: its one request (weight 20) is more than fakex's window here takes, and every answer it
    # counts must be the poll's.
    d = tickd(fx, [h.group("binance", ["BTC-USDT"], stream=False, poll="100ms")],
              sources={"binance": {"instruments": False}})
    h.wait_until(lambda: fx.report()["venues"]["binance"]["rejected_429"] >= 2, 15, "two 429 answers")
    time.sleep(2.5)
    rep = fx.report()["venues"]["binance"]
    n429 = rep["rejected_429"]
    bans = violations(fx, "binance", ("ban", "request_during_ban"))
    h.check(rep["rejected_418"] == 0 and not bans, "a request came before Retry-After: %s" % bans[:3])
    paused = d.log_lines(r"msg=\"source paused\".*source=binance")
    h.check(all("until=" in l for l in paused), "a pause line without its end: %s" % paused)
    h.check(len(paused) == n429, "%d pause lines for %d 429 answers (one each expected):\n%s"
            % (len(paused), n429, "".join(paused)))
    fx.set("binance", rest_limit=0)
    t = time.time()
    ms = wait_new_value(d, "binance", "BTC-USDT", t + 3)  # beyond any Retry-After still running
    print("    binance: %d 429 answers, each paused once; polling resumed (a new quote %.0f ms past every Retry-After)"
          % (n429, ms))


@test
def http_418_ban_pauses_until_retry_after_then_polling_resumes():
    h.need_servers()
    fx = fakex(venue="binance", symbols=["BTC-USDT"], rate=20)
    d = tickd(fx, [h.group("binance", ["BTC-USDT"], stream=False, poll="100ms")])
    h.wait_until(lambda: recv_ts(d, "binance", "BTC-USDT"), 10, "a first quote")
    fx.set("binance", ban=2500)  # Retry-After: 3
    t_ban = time.time()
    h.wait_until(lambda: log_count(d, r"msg=\"source paused\".*source=binance"), 5, "the pause line")
    time.sleep(3.5)
    rep = fx.report()["venues"]["binance"]
    during = violations(fx, "binance", ("request_during_ban",))
    # Exactly one request meets the ban (it is how tickd learns of it); none follows before Retry-After.
    h.check(rep["rejected_418"] == 1 and len(during) == 1, "%d requests during the ban: %s"
            % (rep["rejected_418"], during))
    paused = d.log_lines(r"msg=\"source paused\".*source=binance")
    h.check(len(paused) == 1 and "until=" in paused[0], "pause logged %d times: %s" % (len(paused), paused))
    ms = wait_new_value(d, "binance", "BTC-USDT", t_ban + 3)
    print("    binance: one 418, paused once (%s); new quote %.0f ms after Retry-After ended"
          % (paused[0].split("until=")[1].split()[0], ms))


@test
def poll_5xx_and_slow_answers_are_retried_then_the_budget_fails_the_task():
    """Transient failures are the poll task's own business: a 503 or a timeout is retried with backoff inside the
    task; only a spent retry budget fails it (and the supervisor restarts the group); polling then resumes."""
    h.need_servers()
    fx = fakex(venue="okx", symbols=["BTC-USDT"], rate=20)
    d = tickd(fx, [h.group("okx", ["BTC-USDT"], stream=False, poll="200ms")])
    h.wait_until(lambda: recv_ts(d, "okx", "BTC-USDT"), 10, "a first okx quote")
    fx.set("okx", http_status=503)
    h.wait_until(lambda: log_count(d, r"group=okx-g .*retry budget spent"), 15, "the retry budget to be spent")
    h.wait_until(lambda: restarts_of(d, "okx-g"), 10, "a restart of okx-g")
    failures = source_stat(d, "okx", "http_failures")
    fx.set("okx", http_status=0, delay_ms=3000)  # slower than the request timeout (1 s at this interval)
    h.wait_until(lambda: source_stat(d, "okx", "http_failures") > failures, 15, "timeouts counted as failures")
    fx.set("okx", delay_ms=0)
    print("    okx poll: 503 -> budget spent, restart; timeouts retried; data again %.0f ms after the fault"
          % wait_new_value(d, "okx", "BTC-USDT", time.time()))


# ---- 4. faults ----

def streaming(venues, **group_kw):
    """fakex and tickd with one stream-only group per venue, once every venue delivered a first quote."""
    fx = fakex(symbols=STREAM_SYMS, rate=40)
    d = tickd(fx, [h.group(v, STREAM_SYMS, **group_kw) for v in venues])
    for v in venues:
        h.wait_until(lambda: recv_ts(d, v, "BTC-USDT"), 10, "a first %s quote" % v)
    return fx, d


def frozen_market_counts(fx, tap, venues):
    """Freezes fakex's market and returns {(venue, symbol): (updates fakex sent, messages the tap got)} once the
    tap's counts have stopped moving for a second: on a busy machine RabbitMQ's deliveries trail by more than a
    fixed sleep would wait."""
    fx.set("all", heartbeats_only=1)
    time.sleep(0.5)
    rep = fx.report()["venues"]
    counts = lambda: {(v, s): amqp_count(tap, v, s) for v in venues for s in STREAM_SYMS}
    last, still_since, deadline = counts(), time.monotonic(), time.monotonic() + 15
    while time.monotonic() - still_since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        now = counts()
        if now != last:
            last, still_since = now, time.monotonic()
    return {(v, s): (rep[v]["symbols"][s]["updates"], last[(v, s)]) for v in venues for s in STREAM_SYMS}


def data_again(d, venues):
    """From now (the end of a fault) to the next quote tickd received, per venue, as printable text."""
    t = time.time()
    return ", ".join("%s %.0f ms" % (v, wait_new_value(d, v, "BTC-USDT", t)) for v in venues)


def restarts_of(d, group):
    return log_count(d, r"component=supervisor msg=restart.*group=%s\b" % group)


@test
def disconnect_fails_the_task_and_the_group_restarts():
    h.need_servers()
    fx, d = streaming(h.VENUES)
    fx.set("all", close_all=1)
    times = data_again(d, h.VENUES)
    for v in h.VENUES:
        h.check(log_count(d, r"group=%s-g .*connection closed" % v) >= 1, "no task failure logged for %s" % v)
        h.check(restarts_of(d, v + "-g") >= 1, "no restart of %s-g:\n%s" % (v, d.tail()))
    print("    disconnect -> data again: %s" % times)


@test
def stall_makes_the_feed_stale_and_data_flows_after():
    h.need_servers()
    fx, d = streaming(h.VENUES, stale_after="1s")
    fx.set("all", stall=1)
    for v in h.VENUES:
        h.wait_until(lambda: log_count(d, r"group=%s-g .*feed stale" % v), 10, "%s stale" % v)
        h.wait_until(lambda: restarts_of(d, v + "-g"), 10, "%s restart" % v)
    fx.set("all", stall=0)
    print("    stall end -> data again: %s" % data_again(d, h.VENUES))


@test
def max_age_replaces_connections_make_before_break_without_a_gap():
    """The 24 h cut of Binance, sooner: a connection older than max_age is replaced by one that subscribes first,
    so no update is lost and the group never restarts (counted as in the planned-close test)."""
    h.need_servers()
    tap = h.AmqpTap()
    fx, d = streaming(["binance", "coinbase"], max_age="2s")

    def frozen_counts():
        return frozen_market_counts(fx, tap, ("binance", "coinbase"))

    before = frozen_counts()
    fx.set("all", heartbeats_only=0)
    time.sleep(5)
    after = frozen_counts()
    for v in ("binance", "coinbase"):
        h.check(log_count(d, r"msg=\"switched connection\" group=%s-g " % v) >= 2, "%s never switched:\n%s"
                % (v, d.tail()))
        h.check(restarts_of(d, v + "-g") == 0, "%s-g restarted:\n%s" % (v, d.tail()))
        for s in STREAM_SYMS:
            sent = after[(v, s)][0] - before[(v, s)][0]
            got = after[(v, s)][1] - before[(v, s)][1]
            h.check(sent > 0 and got == sent, "%s %s: fakex sent %d updates across the switches, RabbitMQ got %d"
                    % (v, s, sent, got))


@test
def a_quiet_feed_without_heartbeats_stays_alive_on_websocket_pings():
    """Binance sends no heartbeats: when its market is quiet, only websocket pings tell a live connection from a
    dead one. A quiet (but answering) feed must not be taken for stale; a stalled one (pings unanswered) must."""
    h.need_servers()
    fx, d = streaming(["binance"], stale_after="2s")
    fx.set("binance", heartbeats_only=1)  # Binance has no heartbeats: the connection stays open and silent
    time.sleep(7)
    h.check(log_count(d, r"group=binance-g .*feed stale") == 0, "a quiet feed was taken for stale:\n" + d.tail())
    h.check(restarts_of(d, "binance-g") == 0, "the quiet group restarted:\n" + d.tail())
    fx.set("binance", heartbeats_only=0, stall=1)  # now nothing answers, not even pings
    h.wait_until(lambda: log_count(d, r"group=binance-g .*feed stale"), 10, "binance stale once stalled")


def source_stat(d, source, key):
    lines = d.log_lines(r"component=stats msg=source source=%s " % source)
    if not lines:
        return 0
    for part in lines[-1].split():
        if part.startswith(key + "="):
            return int(part.split("=", 1)[1])
    return 0


@test
def a_few_malformed_frames_are_counted_a_flood_fails_the_task():
    h.need_servers()
    fx, d = streaming(h.VENUES)
    fx.set("okx", malformed=3)
    h.wait_until(lambda: source_stat(d, "okx", "malformed") >= 3, 10, "okx malformed=3 in the stats line")
    fx.set("kraken", malformed=1000000)
    h.wait_until(lambda: log_count(d, r"group=kraken-g .*flood of malformed frames"), 15, "the kraken task to fail")
    h.wait_until(lambda: restarts_of(d, "kraken-g"), 10, "kraken-g to restart")
    fx.set("kraken", clear=1)
    t = time.time()
    ms = wait_new_value(d, "kraken", "BTC-USDT", t)
    h.check(source_stat(d, "okx", "malformed") == 3, "okx malformed count moved past 3")
    h.check(restarts_of(d, "okx-g") == 0, "a few malformed frames restarted okx-g:\n" + d.tail())
    h.check(recv_ts(d, "okx", "BTC-USDT") > int(t * 1e6), "okx stopped flowing")
    print("    malformed flood end -> kraken data again: %.0f ms" % ms)


@test
def an_oversized_message_is_refused_counted_and_the_feed_recovers():
    """A 2 MiB message against the 1 MiB cap (fakex's oversized scenario): the connection is closed with 1009 once
    the message has been read and dropped, counted as malformed, the group restarts and data flows again. Before,
    libwebsockets wrote the rest of the message past its buffer and tickd died with SIGSEGV."""
    h.need_servers()
    fx, d = streaming(["binance", "okx"])
    fx.set("binance", oversized=2097152)
    h.wait_until(lambda: log_count(d, r"msg=\"message over max_frame, connection closed\" group=binance-g "), 15,
                 "the oversized message refused")
    h.wait_until(lambda: restarts_of(d, "binance-g"), 10, "binance-g to restart")
    h.wait_until(lambda: source_stat(d, "binance", "malformed") >= 1, 10, "the message counted as malformed")
    times = data_again(d, ["binance", "okx"])
    h.check(restarts_of(d, "okx-g") == 0, "okx-g restarted:\n" + d.tail())
    print("    oversized message refused; data again: %s" % times)


@test
def a_refused_subscription_fails_the_task_with_the_venues_words():
    """OKX answers the subscribe with an error: the task fails with OKX's message as its cause (it used to stay
    ready forever, kept alive by pongs), the group restarts with backoff and subscribes again."""
    h.need_servers()
    fx = fakex(venue="okx", symbols=STREAM_SYMS, rate=40, sets={"sub_error": 1})
    d = tickd(fx, [h.group("okx", STREAM_SYMS)])
    h.wait_until(lambda: log_count(d, r"group=okx-g .*venue refused the subscription: Wrong URL or channel"), 10,
                 "the task to fail with OKX's words")
    h.wait_until(lambda: restarts_of(d, "okx-g"), 10, "okx-g to restart")
    h.wait_until(lambda: recv_ts(d, "okx", "BTC-USDT"), 10, "a quote once the subscription is taken")
    status = d.status()
    h.check("venue refused the subscription" in status, "the last error is not in tickd status:\n" + status)
    fx.set("okx", sub_error=1000000)  # every subscription refused: the group keeps failing, never ready
    fx.set("okx", close_all=1)
    before = restarts_of(d, "okx-g")
    h.wait_until(lambda: restarts_of(d, "okx-g") >= before + 2, 15, "okx-g to fail again on each subscription")


@test
def okx_quiet_market_with_a_short_stale_after_stays_up():
    """OKX sends no heartbeats; a quiet market sends nothing. Its ping must come within a third of stale_after
    (it came only after 20 s idle, so stale_after 5s restarted a healthy quiet feed every few seconds); a feed whose
    pings go unanswered still goes stale."""
    h.need_servers()
    fx, d = streaming(["okx"], stale_after="5s")
    fx.set("okx", heartbeats_only=1)  # quiet: no ticks, the connection stays open
    time.sleep(20)
    h.check(log_count(d, r"group=okx-g .*feed stale") == 0, "a quiet okx feed was taken for stale:\n" + d.tail())
    h.check(restarts_of(d, "okx-g") == 0, "the quiet okx group restarted:\n" + d.tail())
    fx.set("okx", heartbeats_only=0, stall=1)  # nothing answers now, not even "ping"
    h.wait_until(lambda: log_count(d, r"group=okx-g .*feed stale"), 15, "okx stale once stalled")


@test
def a_new_connection_that_delivers_nothing_does_not_darken_the_feed():
    """Make before break with a standby whose subscription is silently dropped (fakex mutes the next connection):
    the old connection is let go only once the new one delivered a tick, so here the switch fails after
    min(stale_after, 10 s), the old connection keeps serving, and a later switch succeeds. Every update fakex sent
    in between reaches RabbitMQ (the old code switched at once, to the mute connection, and lost them)."""
    h.need_servers()
    venues = ("binance", "okx")
    tap = h.AmqpTap()
    fx, d = streaming(venues, max_age="2s", stale_after="3s")

    def frozen_counts():
        return frozen_market_counts(fx, tap, venues)

    before = frozen_counts()
    fx.set("all", mute_next=1, heartbeats_only=0)
    for v in venues:
        h.wait_until(lambda: log_count(d, r"msg=\"switch failed, keeping the connection\" group=%s-g " % v), 20,
                     "%s's switch to the mute connection to fail" % v)
    switched = {v: log_count(d, r"msg=\"switched connection\" group=%s-g " % v) for v in venues}
    for v in venues:
        h.wait_until(lambda: log_count(d, r"msg=\"switched connection\" group=%s-g " % v) > switched[v], 20,
                     "%s to switch once the connections deliver again" % v)
    after = frozen_counts()
    for v in venues:
        h.check(restarts_of(d, v + "-g") == 0, "%s-g restarted:\n%s" % (v, d.tail()))
        h.check(source_stat(d, v, "failed_switches") >= 1, "%s: no failed switch in the stats line" % v)
        for s in STREAM_SYMS:
            sent = after[(v, s)][0] - before[(v, s)][0]
            got = after[(v, s)][1] - before[(v, s)][1]
            h.check(sent > 0 and got == sent, "%s %s: fakex sent %d updates across the failed switch, RabbitMQ got %d"
                    % (v, s, sent, got))
    print("    mute standby: %s" % ", ".join("%s %s %d/%d" % (v, s, after[(v, s)][1] - before[(v, s)][1],
                                                          after[(v, s)][0] - before[(v, s)][0])
                                          for v in venues for s in STREAM_SYMS))


@test
def a_failure_while_a_replaced_connection_drains_leaves_nothing_behind():
    """After a switch the old connection still delivers for a moment before it closes. A task that fails then (the
    venue drops everything) must take it along: it used to be left pointing at the freed task (a use after free
    under the sanitizer build once its close came in). The group restarts and data flows again."""
    h.need_servers()
    fx, d = streaming(["binance"], max_age="1s")
    for round in range(3):
        seen = log_count(d, r"msg=\"switched connection\" group=binance-g ")
        h.wait_until(lambda: log_count(d, r"msg=\"switched connection\" group=binance-g ") > seen, 15,
                     "switch %d" % (round + 1))
        fx.set("binance", close_all=1)  # within the 500 ms the replaced connection drains
        h.wait_until(lambda: restarts_of(d, "binance-g") > round, 10, "restart %d" % (round + 1))
    print("    failures during drains; data again: %s" % data_again(d, ["binance"]))


def frozen_quotes_match(fx, d, venues):
    """Freezes fakex's market and waits until Redis holds, for every symbol, the bid and ask fakex sent last.
    Returns the (venue, symbol) pairs that never got there (empty when all did)."""
    fx.set("all", heartbeats_only=1)
    time.sleep(0.5)
    rep = fx.report()["venues"]
    want = {(v, s): (rep[v]["symbols"][s]["bid"], rep[v]["symbols"][s]["ask"]) for v in venues for s in STREAM_SYMS}

    def differing():
        out = []
        for (v, s), w in want.items():
            q = quote(d, v, s)
            if (q.get("bid"), q.get("ask")) != w:
                out.append((v, s, w, (q.get("bid"), q.get("ask"), q.get("seq"))))
        return out

    try:
        h.wait_until(lambda: not differing(), 5, "Redis to hold fakex's last quotes")
    except h.CheckFailed:
        pass
    stuck = differing()  # before the market moves again: after, Redis rightly holds newer quotes than `want`
    fx.set("all", heartbeats_only=0)
    return stuck


def summary_counter(d, name):
    lines = d.log_lines(r"component=stats msg=summary .*\b%s=" % name)
    m = re.search(r"\b%s=(\d+)" % name, lines[-1]) if lines else None
    return int(m.group(1)) if m else 0


@test
def one_frame_from_the_far_future_does_not_freeze_a_quote():
    """Each venue sends one update per symbol with a sequence of 10^18 and a time in the year 9999 (Binance u,
    OKX ts, Kraken timestamp, Coinbase sequence and time), then its true ones again. Every later update must
    still reach Redis: an out-of-bounds time is not believed, and a sequence that jumped is reset by the next
    frame of the same connection. Before, each symbol froze at the bad frame, in memory and in Redis."""
    h.need_servers()
    fx, d = streaming(h.VENUES)
    fx.set("all", poison=len(STREAM_SYMS))
    time.sleep(1.5)
    stuck = frozen_quotes_match(fx, d, h.VENUES)
    h.check(not stuck, "quotes frozen by the bad frame: %s" % stuck)
    h.wait_until(lambda: summary_counter(d, "resets") > 0, 5, "a reset counted in the stats")
    for v in h.VENUES:
        for s in STREAM_SYMS:
            q = quote(d, v, s)
            h.check(len(q.get("seq", "")) < 19 and not q.get("ts", "").startswith("2534"),
                    "%s %s keeps the bad frame's order: %s" % (v, s, q))
    print("    after one poisoned frame per symbol: resets=%d bad_time=%d"
          % (summary_counter(d, "resets"), summary_counter(d, "bad_time")))


@test
def a_venue_that_restarts_its_sequence_is_followed_after_reconnecting():
    """Binance and Coinbase restart their update ids (maintenance) and drop the connections: the new
    connection's ids start at 1, below what the quote holds. Once the old connection is gone (and its linger,
    TICK_RUN_LINGER_US) they are a new ordering of the stream, not stale updates: Redis follows the venue
    again -- even when the market goes still before the linger ends, so no later update comes to reset the
    quote (the merge's held ticks)."""
    h.need_servers()
    venues = ("binance", "coinbase")
    fx, d = streaming(venues)
    time.sleep(1.0)  # sequences well above the first few ids of the new connection
    before = {(v, s): int(quote(d, v, s).get("seq") or 0) for v in venues for s in STREAM_SYMS}
    connects = {v: fx.report()["venues"][v]["ws_connects"] for v in venues}
    fx.set("all", seq_restart=1, close_all=1)
    for v in venues:
        h.wait_until(lambda: fx.report()["venues"][v]["ws_connects"] > connects[v], 10, "%s to reconnect" % v)
    time.sleep(1.0)  # the new connections deliver, within the old ones' linger: still below the stored ids
    stuck = frozen_quotes_match(fx, d, venues)  # the market stills; the linger ends within its 5 s wait
    h.check(not stuck, "quotes frozen at the old sequence: %s" % stuck)
    for (v, s), old in before.items():
        seq = int(quote(d, v, s).get("seq") or 0)
        h.check(0 < seq < old, "%s %s: Redis holds seq %d, not below %d from before the restart" % (v, s, seq, old))
    print("    after a sequence restart and a still market: resets=%d" % summary_counter(d, "resets"))


@test
def a_poisoned_key_in_redis_is_overcome_after_a_restart():
    """A tickd stopped right after one bad frame leaves Redis holding a key no real update outranks (epoch 0,
    position 10^18). The next tickd starts with an empty merge: Redis refuses its first writes, the merge adopts
    the key Redis holds, and the live stream resets over it once the key is older than the reorder window."""
    h.need_servers()
    venues = ("binance", "okx")
    fx = fakex(symbols=STREAM_SYMS, rate=40)
    groups = [h.group(v, STREAM_SYMS) for v in venues]
    d = tickd(fx, groups)
    for v in venues:
        h.wait_until(lambda: recv_ts(d, v, "BTC-USDT"), 10, "a first %s quote" % v)
    prefix = d.prefix
    h.check(d.stop() == 0, "tickd did not stop cleanly")
    r = h.Redis()
    for v in venues:
        for s in STREAM_SYMS:
            key = "%s:quote:%s:%s" % (prefix, v, s)
            r.cmd("HSET", key, "order", "0000000000-01000000000000000000-%020d-1" % int(time.time() * 1e6),
                  "bid", "666")
    sup = dict(SUPERVISOR)
    d2 = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=sup))
    d2.prefix = prefix
    _procs.append(("tickd", d2.log, d2))
    d2.wait_ready(30)
    time.sleep(3.0)  # past the reorder window (MERGE_REORDER_WINDOW_US)
    stuck = frozen_quotes_match(fx, d2, venues)
    h.check(not stuck, "quotes still held by the poisoned key: %s" % stuck)
    h.wait_until(lambda: summary_counter(d2, "adopted") >= len(venues) * len(STREAM_SYMS), 5,
                 "every poisoned key adopted")
    print("    after a restart over poisoned keys: adopted=%d resets=%d"
          % (summary_counter(d2, "adopted"), summary_counter(d2, "resets")))


@test
def planned_close_switches_connections_without_losing_a_message():
    """No gap, precisely: with the market frozen before and after, every update fakex generated for a symbol in
    between reached RabbitMQ exactly once (the merge drops what both connections deliver during the overlap)."""
    h.need_servers()
    venues = ("binance", "okx")
    tap = h.AmqpTap()
    fx, d = streaming(venues)

    def frozen_counts():
        return frozen_market_counts(fx, tap, venues)

    before = frozen_counts()
    fx.set("all", heartbeats_only=0)
    fx.set("all", announce=3000)  # serverShutdown / 64008, closed by fakex 3 s later
    for v in venues:
        h.wait_until(lambda: log_count(d, r"msg=\"switched connection\" group=%s-g " % v), 10, "%s to switch" % v)
    time.sleep(3.5)  # past fakex's own close of the old connections
    after = frozen_counts()
    for v in venues:
        h.check(restarts_of(d, v + "-g") == 0, "%s-g restarted on a planned close:\n%s" % (v, d.tail()))
        for s in STREAM_SYMS:
            sent = after[(v, s)][0] - before[(v, s)][0]
            got = after[(v, s)][1] - before[(v, s)][1]
            h.check(sent > 0 and got == sent, "%s %s: fakex sent %d updates across the switch, RabbitMQ got %d"
                    % (v, s, sent, got))
    print("    planned close: %s" % ", ".join("%s %s %d/%d" % (v, s, after[(v, s)][1] - before[(v, s)][1],
                                                           after[(v, s)][0] - before[(v, s)][0])
                                           for v in venues for s in STREAM_SYMS))


@test
def short_lived_connections_restart_and_data_flows():
    """The 24 h cut, sooner (fakex closes each websocket 2 s after it opened). tickd's max age is 23 h and has no
    config key, so it cannot switch first: the task fails and the group restarts."""
    h.need_servers()
    fx = fakex(venue="coinbase", symbols=STREAM_SYMS, rate=40)
    d = tickd(fx, [h.group("coinbase", STREAM_SYMS)])
    h.wait_until(lambda: recv_ts(d, "coinbase", "BTC-USDT"), 10, "a first quote")
    fx.set("coinbase", close_in_ms=2000)
    h.wait_until(lambda: restarts_of(d, "coinbase-g") >= 2, 15, "two restarts")
    fx.set("coinbase", close_in_ms=0)
    t = time.time()
    ms = wait_new_value(d, "coinbase", "BTC-USDT", t)
    print("    short-lived connections: %d restarts; data %.0f ms after the fault ended"
          % (restarts_of(d, "coinbase-g"), ms))


@test
def okx_and_kraken_streams_follow_every_change_of_the_top_of_book():
    """OKX streams subscribe to bbo-tbt (tickers is throttled to one push per 100 ms) and order by its seqId;
    Kraken's ticker is subscribed with event_trigger "bbo" (left at its default, trades, it pushes on trades only:
    fakex records such a subscription as a violation). Quotes flow from both and end exact; an OKX quote's seq is
    fakex's seqId, and it has no last price (bbo-tbt sends none)."""
    h.need_servers()
    venues = ("okx", "kraken")
    fx, d = streaming(venues)
    fx.set("all", heartbeats_only=1)
    time.sleep(0.5)
    rep = fx.report()["venues"]

    def differing():
        out = []
        for v in venues:
            for s in STREAM_SYMS:
                want, got = rep[v]["symbols"][s], quote(d, v, s)
                fields = ("bid", "bid_qty", "ask", "ask_qty") + (("seq",) if v == "okx" else ("last",))
                out += ["%s %s %s: redis %r, fakex sent %r" % (v, s, f, got.get(f), str(want[f]))
                        for f in fields if got.get(f) != str(want[f])]
        return out

    try:
        h.wait_until(lambda: not differing(), 5, "Redis to hold fakex's last quotes")
    except h.CheckFailed:
        pass
    h.check(not differing(), "quotes differ:\n  " + "\n  ".join(differing()))
    for s in STREAM_SYMS:
        h.check(not quote(d, "okx", s).get("last"), "okx %s: a last price from bbo-tbt: %r" % (s, quote(d, "okx", s)))
    bad = violations(fx, "kraken", ("ticker_on_trades",))
    h.check(not bad, "Kraken's ticker subscribed without event_trigger bbo: %s" % bad[:2])
    h.check(not violations(fx, "okx"), "okx violations: %s" % violations(fx, "okx")[:3])
    print("    okx bbo-tbt seq %s, kraken on bbo: exact" % [quote(d, "okx", s).get("seq") for s in STREAM_SYMS])


# ---- 5. a restart storm stays within the connect windows ----

@test
def restart_storm_stays_within_connect_limits():
    h.need_servers()
    syms = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]
    fx = fakex(venue="okx", symbols=syms, rate=20)  # OKX: 3 connects per second
    d = tickd(fx, [h.group("okx", [s], name="okx-%d" % i) for i, s in enumerate(syms)],
              supervisor={"backoff_min": "1ms", "backoff_max": "20ms"})
    for s in syms:
        h.wait_until(lambda: recv_ts(d, "okx", s), 10, "a first %s quote" % s)
    c0 = fx.report()["venues"]["okx"]["connects"]
    fx.set("okx", refuse=1)
    fx.set("okx", close_all=1)
    time.sleep(5)
    fx.set("okx", refuse=0)
    t = time.time()
    c1 = fx.report()["venues"]["okx"]["connects"]
    times = [wait_new_value(d, "okx", s, t) for s in syms]
    restarts = sum(restarts_of(d, "okx-%d" % i) for i in range(len(syms)))
    print("    storm: %d restarts, %d connects in 5 s (%.1f/s, limit 3/s); data %.0f ms after the fault ended"
          % (restarts, c1 - c0, (c1 - c0) / 5.0, max(times)))
    h.check(restarts >= 6, "too few restarts for a storm: %d" % restarts)
    bad = violations(fx, "okx", ("connect_rate",))
    h.check(not bad, "connect window exceeded: %s" % bad[:5])


@test
def connections_waiting_for_the_connect_limit_are_not_stale():
    """A group with more connections than the connect window lets through within stale_after: the last ones wait
    for their turn, which is not a stale feed (50k instruments over OKX take 125 connections at 3 a second)."""
    h.need_servers()
    syms = ["S%05d-USDT" % i for i in range(12)]
    fx = fakex(venue="okx", symbols=syms, rate=240)
    d = tickd(fx, [h.group("okx", syms, stale_after="2s")], limits={"okx": {"ws_streams_per_connection": 1}})
    for s in syms:  # 12 connections at 3 a second: the last opens about 4 s after the first
        h.wait_until(lambda: recv_ts(d, "okx", s), 20, "a first %s quote" % s)
    h.check(log_count(d, r"feed stale") == 0, "a task waiting for its connect went stale:\n%s" % d.tail())
    h.check(restarts_of(d, "okx-g") == 0, "the group restarted:\n%s" % d.tail())
    h.check(not violations(fx, "okx", ("connect_rate",)), "connect window exceeded")


@test
def a_subscription_in_several_messages_is_paced_and_complete():
    """400 Binance symbols on one connection: the SUBSCRIBE goes out in several 4 KB messages, at most 5 a second
    (Binance's limit per connection), and every symbol then delivers."""
    h.need_servers()
    syms = ["S%05d-USDT" % i for i in range(400)]
    fx = fakex(venue="binance", symbols=syms, rate=4000)
    d = tickd(fx, [h.group("binance", syms)])
    h.wait_until(lambda: all(recv_ts(d, "binance", s) for s in syms), 20, "a first quote of all 400 symbols")
    h.check(log_count(d, r"msg=subscribed .*symbols=400") == 1, "one connection, all 400 subscribed:\n%s" % d.tail())
    h.check(not violations(fx, "binance"), "venue limits exceeded: %s" % violations(fx, "binance")[:3])


suite.run()
