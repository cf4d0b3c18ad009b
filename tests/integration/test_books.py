"""Order books (channel = "book") against fakex over real sockets: the real tickd, fakex, Redis and RabbitMQ.

  exact          every venue: once fakex's market stands still, each Redis book hash <prefix>:book:<venue>:<symbol>
                 holds fakex's book level by level (the exact texts, best first, `depth` levels a side), state live,
                 and the venue's quote is the book's top
  faults         a dropped, repeated or reordered message, a wrong checksum, a crossed book, a stale snapshot:
                 the affected symbol alone resyncs (its `resyncs` counts, the other symbol's does not), and its
                 book is exact again
  snapshots      429 and 418 on the snapshot endpoint are honoured (the source pauses); 200 symbols resyncing at
                 once stay within the limiter (fakex sees no request over its limit)
  switch         a make-before-break switch keeps every book live: no resync but the new connection's own sync;
                 a lost connection marks its books resyncing until the next connection's are live
  messages       RabbitMQ book.<venue>.<symbol> carries the top levels with seq and state; with book_deltas, the
                 snapshot and deltas on bookdelta.<venue>.<symbol> rebuild fakex's book exactly

Every test ends by stopping tickd (exit status 0) and fails when tickd's or fakex's log holds a sanitizer report.
"""
import json
import re
import time

import harness as h

suite = h.Suite("books")
VENUES = ("binance", "coinbase", "kraken", "okx")
SYMS = ("BTC-USDT", "ETH-USDT")
DEPTH = 10
SUPERVISOR = {"backoff_min": "50ms", "backoff_max": "500ms", "max_restarts": 64, "restart_window": "1s"}

_procs = []

test = h.checked_test(suite, _procs)


def start(venues, symbols=SYMS, depth=DEPTH, book_rate=40, max_age=None, book_deltas=None, limits=None, fx_args=(),
          ready_timeout=30, fx_set=None):
    """fakex (fx_set: {venue: settings} before tickd starts), and tickd with one book group per venue, once
    READY."""
    fx = h.Fakex(symbols=symbols, rate=5, args=fx_args)
    _procs.append(("fakex", fx.log, None))
    fx.set("all", book_rate=book_rate)
    for venue, settings in (fx_set or {}).items():
        fx.set(venue, **settings)
    prefix = "bk%d" % int(time.monotonic() * 1000)
    groups = [h.group(v, symbols, channel="book", depth=depth, max_age=max_age, book_deltas=book_deltas)
              for v in venues]
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=SUPERVISOR, limits=limits))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(ready_timeout)
    return fx, d


def redis_book(r, d, venue, symbol):
    return r.hgetall("%s:book:%s:%s" % (d.prefix, venue, symbol))


def fakex_book(fx, venue, symbol, depth=DEPTH):
    return fx.url("/_fakex/book?venue=%s&symbol=%s&depth=%d" % (venue, symbol, depth))


def wait_live(r, d, venues, symbols=SYMS, timeout=30):
    def all_live():
        for v in venues:
            for s in symbols:
                if redis_book(r, d, v, s).get("state") != "live":
                    return False
        return True
    h.wait_until(all_live, timeout, "every book live in Redis")


def levels(text):
    return [tuple(l) for l in json.loads(text)] if text else []


def books_equal(r, d, fx, venue, symbol, depth=DEPTH):
    """(equal, why): Redis's book against fakex's, level by level, exact texts."""
    mine = redis_book(r, d, venue, symbol)
    theirs = fakex_book(fx, venue, symbol, depth)
    if mine.get("state") != "live":
        return False, "state %r" % mine.get("state")
    for side in ("bids", "asks"):
        a, b = levels(mine.get(side)), [tuple(l) for l in theirs[side]]
        if a != b:
            return False, "%s %s %s: redis %s != fakex %s" % (venue, symbol, side, a[:4], b[:4])
    return True, ""


def still_and_compare(r, d, fx, venues, symbols=SYMS, depth=DEPTH, timeout=15):
    """Stills fakex's books, then waits until every Redis book equals fakex's."""
    fx.set("all", book_rate=0)
    why = [""]

    def equal():
        for v in venues:
            for s in symbols:
                ok, why[0] = books_equal(r, d, fx, v, s, depth)
                if not ok:
                    return False
        return True
    try:
        h.wait_until(equal, timeout, "Redis books equal to fakex's")
    except h.CheckFailed:
        raise h.CheckFailed("books differ: %s" % why[0])


def books_stat(d, source, name):
    lines = d.log_lines(r"component=stats msg=books source=%s .*\b%s=" % (source, name))
    m = re.search(r"\b%s=(\d+)" % name, lines[-1]) if lines else None
    return int(m.group(1)) if m else 0


@test
def every_venue_book_is_exact_in_redis():
    r = h.Redis()
    fx, d = start(VENUES)
    wait_live(r, d, VENUES)
    time.sleep(1.0)  # a second of diffs applied on top of the snapshots
    still_and_compare(r, d, fx, VENUES)
    for v in VENUES:
        for s in SYMS:
            book = redis_book(r, d, v, s)
            quote = r.hgetall("%s:quote:%s:%s" % (d.prefix, v, s))
            bids, asks = levels(book["bids"]), levels(book["asks"])
            h.check(len(bids) == DEPTH and len(asks) == DEPTH, "%s %s: %d/%d levels, want %d"
                    % (v, s, len(bids), len(asks), DEPTH))
            h.check(quote.get("bid") == bids[0][0] and quote.get("ask") == asks[0][0],
                    "%s %s: quote %s/%s is not the book's top %s/%s" % (v, s, quote.get("bid"), quote.get("ask"),
                                                                          bids[0][0], asks[0][0]))
            h.check(book.get("resyncs") == "0", "%s %s resynced %s times in a clean run" % (v, s, book.get("resyncs")))
    status = d.status()
    h.check(re.search(r"books syncing=0 live=2 resyncing=0 stale=0", status), "status: %s" % status)


# (venue, fault, the stats counter of the resync it causes, or None when the fault must not cause one)
FAULTS = [
    ("binance", "book_drop", "resyncs_gap"),
    ("binance", "book_dup", None),
    ("binance", "book_reorder", "resyncs_gap"),
    ("binance", "book_stale_snapshot", None),
    ("binance", "book_cross", "resyncs_crossed"),
    ("okx", "book_drop", "resyncs_gap"),
    ("okx", "book_dup", None),
    ("okx", "book_reorder", "resyncs_gap"),
    ("okx", "book_bad_checksum", "resyncs_checksum"),
    ("okx", "book_stale_snapshot", None),
    ("kraken", "book_drop", "resyncs_checksum"),
    ("kraken", "book_bad_checksum", "resyncs_checksum"),
    ("kraken", "book_cross", None),  # a crossed level beyond the top 10 may be caught by the checksum instead
    ("coinbase", "book_cross", "resyncs_crossed"),
    ("coinbase", "book_dup", None),
]


@test
def each_fault_resyncs_only_its_symbol():
    r = h.Redis()
    venues = sorted({f[0] for f in FAULTS})
    fx, d = start(venues)
    wait_live(r, d, venues)
    for venue, fault, counter in FAULTS:
        before = {s: int(redis_book(r, d, venue, s).get("resyncs", "0")) for s in SYMS}
        stat_before = books_stat(d, venue, counter) if counter else 0
        if fault == "book_stale_snapshot":  # the next REST snapshot is stale: make one be asked for, by a gap
            fx.set(venue, book_stale_snapshot=1, symbol="BTC-USDT")
            fx.set(venue, book_drop=1, symbol="BTC-USDT")
        else:
            fx.set(venue, **{fault: 1, "symbol": "BTC-USDT"})
        if counter:
            h.wait_until(lambda: books_stat(d, venue, counter) > stat_before, 15,
                         "%s %s: %s counted" % (venue, fault, counter))
            h.wait_until(lambda: int(redis_book(r, d, venue, "BTC-USDT").get("resyncs", "0")) > before["BTC-USDT"],
                         10, "%s %s: BTC-USDT's resyncs in Redis" % (venue, fault))
        else:
            time.sleep(1.5)
        wait_live(r, d, [venue])
        after = {s: int(redis_book(r, d, venue, s).get("resyncs", "0")) for s in SYMS}
        h.check(after["ETH-USDT"] == before["ETH-USDT"], "%s %s: ETH-USDT resynced too (%s -> %s)"
                % (venue, fault, before["ETH-USDT"], after["ETH-USDT"]))
        if fault in ("book_dup",):
            h.check(after["BTC-USDT"] == before["BTC-USDT"], "%s: a repeated message caused a resync" % venue)
        still_and_compare(r, d, fx, [venue])
        fx.set("all", book_rate=40)
    h.check(books_stat(d, "binance", "snapshots") >= 3, "binance: the resyncs took no snapshot")
    h.check(books_stat(d, "okx", "snapshots") >= 3, "okx: the resyncs took no REST snapshot")


@test
def okx_books_sync_from_rest_when_the_stream_sends_no_snapshot():
    """OKX's announced change: subscribing brings updates only. Each book is synced from REST (its seqId bridges
    the updates held meanwhile) and is exact; a gap resyncs it from REST. When the REST book has no seqId, tickd
    falls back to resubscribing, which brings the stream's snapshot while OKX sends one."""
    r = h.Redis()
    fx, d = start(["okx"], fx_set={"okx": {"book_no_snapshot": 1}})
    wait_live(r, d, ["okx"])
    rep = fx.report()["venues"]["okx"]["book"]
    h.check(rep["snapshots"] == 0, "fakex sent stream snapshots: %s" % rep)
    h.check(rep["depth_requests"] >= len(SYMS), "no REST snapshot was asked for: %s" % rep)
    still_and_compare(r, d, fx, ["okx"])
    fx.set("all", book_rate=40)
    before = int(redis_book(r, d, "okx", "ETH-USDT").get("resyncs", "0"))
    fx.set("okx", book_drop=1, symbol="BTC-USDT")
    h.wait_until(lambda: books_stat(d, "okx", "resyncs_gap") >= 1, 15, "the gap counted")
    wait_live(r, d, ["okx"])
    h.check(int(redis_book(r, d, "okx", "ETH-USDT").get("resyncs", "0")) == before, "ETH-USDT resynced too")
    h.check(books_stat(d, "okx", "resubscribes") == 0, "a resync resubscribed, not fetched from REST")
    still_and_compare(r, d, fx, ["okx"])
    fx.set("all", book_rate=40)
    # the REST book without its seqId: it cannot be bridged, so the stream's snapshot resyncs the book
    fx.set("okx", book_no_snapshot=0, book_rest_no_seq=1)
    fx.set("okx", book_drop=1, symbol="ETH-USDT")
    h.wait_until(lambda: d.log_lines(r"REST book has no sequence"), 15, "the fallback logged")
    h.wait_until(lambda: books_stat(d, "okx", "resubscribes") >= 1, 15, "the book resubscribed")
    wait_live(r, d, ["okx"])
    still_and_compare(r, d, fx, ["okx"])


@test
def snapshot_429_and_418_are_honoured():
    r = h.Redis()
    fx, d = start(["binance"])
    wait_live(r, d, ["binance"])
    fx.set("binance", snapshot_status=429, snapshot_count=2)
    fx.set("binance", book_drop=1, symbol="BTC-USDT")
    h.wait_until(lambda: d.log_lines(r"component=limiter .*(429|paus)"), 10, "the source paused after a 429")
    wait_live(r, d, ["binance"], timeout=20)
    fx.set("binance", snapshot_status=418, snapshot_count=1)
    fx.set("binance", book_drop=1, symbol="ETH-USDT")
    h.wait_until(lambda: redis_book(r, d, "binance", "ETH-USDT").get("state") in ("resyncing", "stale"), 10,
                 "ETH-USDT out of sync after the ban")
    rep = fx.report()["venues"]["binance"]
    h.check(rep["book"]["depth_requests"] >= 5 and rep["book"]["depth_refused"] == 3,
            "snapshots asked: %s" % rep["book"])
    h.check(redis_book(r, d, "binance", "BTC-USDT").get("state") == "live", "BTC-USDT left live during the ban")


@test
def two_hundred_symbols_resync_within_the_limiter():
    r = h.Redis()
    syms = ["S%03d-USDT" % i for i in range(200)]
    # 200 first syncs (weight 5 each: 1000) and 200 resyncs (1000 more) do not fit in one minute's 1500: the
    # limiter holds a third of the resyncs until the window moves on, and fakex, counting the same limit, must see
    # no request over it.
    limit = {"weight_per_minute": 1500}
    fx, d = start(["binance"], symbols=syms, book_rate=2, limits={"binance": limit}, ready_timeout=60)
    fx.set("binance", rest_limit=1500, rest_window_ms=60000)  # fakex counts weight as Binance does
    wait_live(r, d, ["binance"], symbols=syms, timeout=90)
    first = books_stat(d, "binance", "snapshot_weight")
    dropped = time.monotonic()
    fx.set("binance", book_drop=1)  # every symbol at once
    h.wait_until(lambda: books_stat(d, "binance", "resyncs_gap") >= 200, 30, "200 resyncs counted")
    wait_live(r, d, ["binance"], symbols=syms, timeout=120)
    h.check(time.monotonic() - dropped > 15, "every resync went at once: the limiter held none back")
    rep = fx.report()["venues"]["binance"]
    h.check(rep.get("rejected_429", 0) == 0, "fakex answered 429: %s" % rep.get("rejected_429"))
    h.check(rep["book"]["depth_requests"] >= 400, "depth requests: %s" % rep["book"])
    # the stats line comes each second: the last resyncs' snapshots are in the next one
    h.wait_until(lambda: books_stat(d, "binance", "snapshot_weight") - first >= 200 * 5, 5,
                 "the resyncs' weight counted")


@test
def a_make_before_break_switch_keeps_every_book_live():
    r = h.Redis()
    fx, d = start(VENUES, max_age="4s")
    wait_live(r, d, VENUES)
    states = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for v in VENUES:
            for s in SYMS:
                states.add(redis_book(r, d, v, s).get("state"))
        time.sleep(0.05)
    h.check(states == {"live"}, "a book left live during the switches: %s" % states)
    for v in VENUES:
        h.check(books_stat(d, v, "resyncs_reconnect") >= 2, "%s: no switch synced a new connection" % v)
        h.check(books_stat(d, v, "resyncs_gap") == 0 and books_stat(d, v, "resyncs_checksum") == 0,
                "%s: a switch caused a gap or a checksum failure" % v)
    h.check(len(d.log_lines(r"msg=\"switched connection\"")) >= 4, "no switch happened")
    still_and_compare(r, d, fx, VENUES)


@test
def a_lost_connection_marks_its_books_until_the_next_one_syncs():
    r = h.Redis()
    venues = ("binance", "okx")
    fx, d = start(venues)
    wait_live(r, d, venues)
    seen = set()
    fx.set("all", close_after=1)  # every connection closes after its next message
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not {"binance", "okx"} <= seen:
        for v in venues:
            if redis_book(r, d, v, "BTC-USDT").get("state") != "live":
                seen.add(v)
        time.sleep(0.01)
    fx.set("all", close_after=0)
    h.check(seen == set(venues), "a lost connection left its books live in Redis: %s" % (set(venues) - seen))
    wait_live(r, d, venues, timeout=30)
    still_and_compare(r, d, fx, venues)


def rebuild(messages):
    """A consumer's book from bookdelta messages: a snapshot replaces, a delta sets (qty 0 removes)."""
    book = {"bids": {}, "asks": {}}
    for m in messages:
        b = m["body"]
        if b["type"] == "snapshot":
            book = {"bids": {}, "asks": {}}
        for side in ("bids", "asks"):
            for p, q in b[side]:
                if re.fullmatch(r"0*\.?0*", q):
                    book[side].pop(p, None)
                else:
                    book[side][p] = q
    return book


@test
def rabbitmq_books_and_deltas_rebuild_the_book():
    r = h.Redis()
    books_tap = h.AmqpTap("book.#")
    deltas_tap = h.AmqpTap("bookdelta.#")
    venues = ("binance", "okx")
    fx, d = start(venues, book_deltas=True)
    wait_live(r, d, venues)
    time.sleep(1.0)
    still_and_compare(r, d, fx, venues)
    time.sleep(1.0)  # the last messages reach the taps
    for v in venues:
        for s in SYMS:
            theirs = fakex_book(fx, v, s, 1000)
            msgs = [m for m in list(books_tap.messages) if m.get("routing_key") == "book.%s.%s" % (v, s)]
            h.check(msgs, "no book.%s.%s message" % (v, s))
            last = msgs[-1]["body"]
            h.check(last["state"] == "live" and last["venue"] == v and last["symbol"] == s, "last book: %s" % last)
            h.check([tuple(l) for l in last["bids"]] == [tuple(l) for l in theirs["bids"][:DEPTH]],
                    "%s %s: book message bids differ" % (v, s))
            h.check(msgs[-1].get("message_id") == "%s:%s:%s" % (v, s, last["seq"]), "message id %r"
                    % msgs[-1].get("message_id"))
            deltas = [m for m in list(deltas_tap.messages) if m.get("routing_key") == "bookdelta.%s.%s" % (v, s)]
            h.check(deltas and deltas[0]["body"]["type"] == "snapshot", "%s %s: deltas do not start with a snapshot"
                    % (v, s))
            seqs = [m["body"]["seq"] for m in deltas if m["body"]["type"] == "delta"]
            h.check(all(a < b for a, b in zip(seqs, seqs[1:])), "%s %s: deltas out of order" % (v, s))
            mine = rebuild(deltas)
            for side in ("bids", "asks"):
                want = {p: q for p, q in theirs[side]}
                got = mine[side]
                top = sorted(got.items(), key=lambda kv: float(kv[0]), reverse=side == "bids")[:DEPTH]
                h.check(top == [tuple(l) for l in theirs[side][:DEPTH]],
                        "%s %s %s: rebuilt from deltas %s != fakex %s" % (v, s, side, top[:3], theirs[side][:3]))
                h.check(len(got) >= min(len(want), DEPTH), "%s %s: rebuilt book too short" % (v, s))


if __name__ == "__main__":
    suite.run()
