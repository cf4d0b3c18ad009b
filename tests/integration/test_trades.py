"""Trades (channel = "trades") against fakex over real sockets: the real tickd, fakex, Redis and RabbitMQ.

  once, in order   every venue: each trade fakex sent reaches RabbitMQ exactly once (message id
                   <venue>:<symbol>:<trade id>, routing key trade.<venue>.<symbol>), in id order per instrument,
                   across a make-before-break switch and a venue that repeats a trade
  holes            a hole in a venue's dense trade ids is counted (trade_gaps) and logged with the ids missed
  history          with [redis] trade_history, the capped stream <prefix>:trades:<venue>:<symbol> holds the trades

Every test ends by stopping tickd (exit status 0) and fails when tickd's or fakex's log holds a sanitizer report.
"""
import os
import re
import time

import harness as h

suite = h.Suite("trades")
VENUES = ("binance", "coinbase", "kraken", "okx")
DENSE = ("binance", "coinbase", "kraken")  # OKX trade ids grow with skips
SYMS = ("BTC-USDT", "ETH-USDT")
SUPERVISOR = {"backoff_min": "50ms", "backoff_max": "500ms", "max_restarts": 64, "restart_window": "1s"}

_procs = []


test = h.checked_test(suite, _procs)


def start(venues, rate=40, max_age=None, stream=True, poll=None, **kw):
    """fakex, and tickd with one trades group per venue (a stream task, a poll task or both), once READY."""
    fx = h.Fakex(symbols=SYMS, rate=rate)
    _procs.append(("fakex", fx.log, None))
    prefix = "trd%d" % int(time.monotonic() * 1000)
    groups = [h.group(v, SYMS, channel="trades", max_age=max_age, stream=stream, poll=poll) for v in venues]
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=SUPERVISOR, **kw))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(30)
    return fx, d


def trades_of(tap, venue, symbol):
    key = "trade.%s.%s" % (venue, symbol)
    return [m for m in list(tap.messages) if m.get("routing_key") == key]


def still(fx, tap, venues):
    """Stills fakex's market, then waits until the tap's count has stopped moving for a second."""
    fx.set("all", heartbeats_only=1)
    last, since, deadline = -1, time.monotonic(), time.monotonic() + 15
    while time.monotonic() - since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.1)
        n = len(tap.messages)
        if n != last:
            last, since = n, time.monotonic()
    return fx.report()["venues"]


def summary_counter(d, name):
    lines = d.log_lines(r"component=stats msg=summary .*\b%s=" % name)
    m = re.search(r"\b%s=(\d+)" % name, lines[-1]) if lines else None
    return int(m.group(1)) if m else 0


def check_once_in_order(tap, rep, venues, dense_allowed_holes=False):
    """Per instrument: ids strictly increasing, each message id once and well formed, the last one fakex's
    last; for dense venues no hole. Returns {(venue, symbol): count}."""
    counts = {}
    for v in venues:
        for s in SYMS:
            msgs = trades_of(tap, v, s)
            h.check(msgs, "no %s %s trade reached RabbitMQ" % (v, s))
            ids = [int(m["body"]["id"]) for m in msgs]
            h.check(all(a < b for a, b in zip(ids, ids[1:])), "%s %s: ids not strictly increasing: %s"
                    % (v, s, [(a, b) for a, b in zip(ids, ids[1:]) if a >= b][:5]))
            for m in msgs:
                h.check(m.get("message_id") == "%s:%s:%s" % (v, s, m["body"]["id"]),
                        "%s %s: message id %r" % (v, s, m.get("message_id")))
                b = m["body"]
                h.check(b["venue"] == v and b["symbol"] == s and b["side"] in ("buy", "sell")
                        and float(b["price"]) > 0 and float(b["qty"]) > 0 and b["recv_us"] > 0,
                        "%s %s: body %s" % (v, s, b))
            want_last = rep[v]["symbols"][s]["last_trade_id"]
            h.check(str(ids[-1]) == str(want_last), "%s %s: last trade %s, fakex sent %s" % (v, s, ids[-1], want_last))
            if v in DENSE and not dense_allowed_holes:
                holes = [(a, b) for a, b in zip(ids, ids[1:]) if b != a + 1]
                h.check(not holes, "%s %s: trades missing between %s" % (v, s, holes[:5]))
            counts[(v, s)] = len(ids)
    return counts


@test
def every_trade_reaches_rabbitmq_once_and_in_order():
    """Four venues; their connections reach max_age and are replaced (make before break: both connections
    deliver the same trades for a while) and fakex repeats each symbol's last trade. Once still, every trade from
    the first one tickd saw to the last fakex sent is on RabbitMQ exactly once, in id order, with no hole."""
    h.need_servers()
    tap = h.AmqpTap(binding="trade.#")
    fx, d = start(VENUES, max_age="3s")
    for v in VENUES:
        h.wait_until(lambda: trades_of(tap, v, "BTC-USDT"), 10, "a first %s trade" % v)
    for v in VENUES:
        h.wait_until(lambda: d.log_lines(r'msg="switched connection" group=%s-g ' % v), 10, "%s to switch" % v)
    fx.set("all", trade_dup=1)
    time.sleep(1.0)
    rep = still(fx, tap, VENUES)
    counts = check_once_in_order(tap, rep, VENUES)
    dups = summary_counter(d, "trade_duplicates")
    h.check(dups > 0, "the overlap and the repeat were not seen as duplicates (trade_duplicates=0)")
    print("    trades once and in order: %s; duplicates dropped: %d"
          % (", ".join("%s %s %d" % (v, s, n) for (v, s), n in sorted(counts.items())), dups))


@test
def polled_trades_alone_and_merged_with_the_stream_are_each_published_once():
    """Each venue's recent-trades endpoint: a poll-only group publishes every trade once and in order (the poll
    is faster than the trades fill its answer, so no hole); a group polling and streaming the same symbols
    publishes each trade once, whichever path brought it first."""
    h.need_servers()
    tap = h.AmqpTap(binding="trade.#")
    fx = h.Fakex(symbols=SYMS, rate=40)
    _procs.append(("fakex", fx.log, None))
    prefix = "trp%d" % int(time.monotonic() * 1000)
    groups = [h.group(v, SYMS, name="%s-poll" % v, channel="trades", stream=False, poll="500ms") for v in VENUES[:2]]
    groups += [h.group(v, SYMS, name="%s-both" % v, channel="trades", poll="300ms") for v in VENUES[2:]]
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=SUPERVISOR))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(30)
    for v in VENUES:
        for s in SYMS:
            h.wait_until(lambda: len(trades_of(tap, v, s)) >= 20, 15, "%s %s trades" % (v, s))
    rep = still(fx, tap, VENUES)
    # the poll's last answer may come after the market stilled: give it one interval
    time.sleep(1.0)
    counts = check_once_in_order(tap, rep, VENUES)
    origins = {(v, m["body"]["origin"]) for v in VENUES for s in SYMS for m in trades_of(tap, v, s)}
    for v in VENUES[:2]:
        h.check((v, "rest") in origins and (v, "stream") not in origins, "%s: poll-only origins %s" % (v, origins))
    print("    polled trades: %s; origins %s"
          % (", ".join("%s %s %d" % (v, s, n) for (v, s), n in sorted(counts.items())), sorted(origins)))


@test
def trades_missed_while_a_connection_was_down_come_from_the_poll_in_order():
    """Binance, Coinbase, Kraken with a trades stream and a trades poll: the connections are dropped twice while
    trades come fast. The trades made while a connection was down reach RabbitMQ from the poll's answers, before
    the new connection's (held meanwhile): every id once, in order, no hole."""
    h.need_servers()
    venues = ("binance", "coinbase", "kraken")
    tap = h.AmqpTap(binding="trade.#")
    fx, d = start(venues, rate=60, poll="300ms")  # Kraken answers 1 request a second: 100 trades reach 3 s back
    for v in venues:
        for s in SYMS:
            h.wait_until(lambda: len(trades_of(tap, v, s)) >= 10, 10, "%s %s trades" % (v, s))
    for _ in range(2):
        connects = {v: fx.report()["venues"][v]["ws_connects"] for v in venues}
        fx.set("all", close_all=1)
        for v in venues:
            h.wait_until(lambda: fx.report()["venues"][v]["ws_connects"] > connects[v], 10, "%s to reconnect" % v)
        time.sleep(1.0)
    rep = still(fx, tap, venues)
    time.sleep(1.0)  # the last poll answer, and the held trades' release
    counts = check_once_in_order(tap, rep, venues)
    filled = summary_counter(d, "trades_filled")
    h.check(filled > 0, "no trade filled a hole (trades_filled=0): the drops lost nothing to fill?")
    h.check(summary_counter(d, "trade_gaps") == 0, "gaps counted: %d" % summary_counter(d, "trade_gaps"))
    print("    after two drops: %s; filled from the poll: %d"
          % (", ".join("%s %s %d" % (v, s, n) for (v, s), n in sorted(counts.items())), filled))


@test
def a_poll_of_more_than_64_symbols_covers_them_all():
    """One request per symbol (Coinbase): a poll group of 80 symbols is not cut at 64 requests."""
    h.need_servers()
    syms = ["S%d-USD" % i for i in range(80)]
    tap = h.AmqpTap(binding="trade.coinbase.#")
    fx = h.Fakex(venue="coinbase", symbols=syms, rate=400)
    _procs.append(("fakex", fx.log, None))
    prefix = "trw%d" % int(time.monotonic() * 1000)
    groups = [h.group("coinbase", syms, channel="trades", stream=False, poll="1s")]
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=SUPERVISOR))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(30)

    def covered():
        return {m["body"]["symbol"] for m in list(tap.messages)}
    h.wait_until(lambda: len(covered()) == len(syms), 40, "trades of every symbol (%d so far)" % len(covered()))


@test
def a_hole_in_dense_trade_ids_is_counted_and_logged():
    """fakex skips three ids on each symbol: tickd publishes what came, counts one gap per symbol and logs the
    ids missed; OKX's ids are not dense, so its skips are no gap."""
    h.need_servers()
    tap = h.AmqpTap(binding="trade.#")
    fx, d = start(("binance", "kraken"))
    for v in ("binance", "kraken"):
        for s in SYMS:
            h.wait_until(lambda: len(trades_of(tap, v, s)) >= 3, 10, "%s %s trades" % (v, s))
    fx.set("all", trade_gap=3)
    h.wait_until(lambda: summary_counter(d, "trade_gaps") >= 4, 10, "a gap counted per symbol")
    h.check(summary_counter(d, "trades_missing") >= 12, "missing=%d" % summary_counter(d, "trades_missing"))
    lines = d.log_lines(r'msg="trade ids skipped: trades missed" venue=(binance|kraken) .* missing=3 ')
    h.check(lines, "no log line names the hole:\n%s" % d.tail())
    rep = still(fx, tap, ("binance", "kraken"))
    check_once_in_order(tap, rep, ("binance", "kraken"), dense_allowed_holes=True)


@test
def trades_land_in_the_redis_stream_when_asked():
    """[redis] trade_history = 50: the capped stream holds the latest trades with exact fields, in order."""
    h.need_servers()
    tap = h.AmqpTap(binding="trade.#")
    fx, d = start(("okx",), redis={"trade_history": 50})
    h.wait_until(lambda: len(trades_of(tap, "okx", "BTC-USDT")) >= 60, 20, "60 okx trades")
    rep = still(fx, tap, ("okx",))
    r = h.Redis()
    key = "%s:trades:okx:BTC-USDT" % d.prefix
    n = int(r.cmd("XLEN", key))
    h.check(50 <= n < 200, "XLEN %s = %d (MAXLEN ~ 50)" % (key, n))
    entries = r.cmd("XRANGE", key, "-", "+")
    fields = [dict(zip(e[1][0::2], e[1][1::2])) for e in entries]
    ids = [int(f["id"]) for f in fields]
    h.check(all(a < b for a, b in zip(ids, ids[1:])), "stream ids out of order")
    h.check(str(ids[-1]) == str(rep["okx"]["symbols"]["BTC-USDT"]["last_trade_id"]), "last stream entry")
    published = {m["body"]["id"]: m["body"] for m in trades_of(tap, "okx", "BTC-USDT")}
    for f in fields:
        b = published.get(f["id"])
        h.check(b and f["price"] == b["price"] and f["qty"] == b["qty"] and f["side"] == b["side"],
                "stream entry %s differs from the published trade %s" % (f, b))


suite.run()
