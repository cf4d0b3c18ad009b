"""Instrument lists against fakex over real sockets: the real tickd, fakex, Redis and RabbitMQ.

  patterns      on each venue, a group of "*-USDT" subscribes what the venue lists, not the others; a listing fakex adds while
                tickd runs is subscribed within one refresh on a new connection, and no other connection is
                touched (fakex counts the connects); a delisting is unsubscribed (fakex counts its subscribers), its
                quote hash gets status=delisted and its quote leaves the best bid and offer; a halt and its end
  failure       a refresh that fails (HTTP 500, a cut answer) keeps the last good list: nothing is unsubscribed
  waiting       a pattern group whose venue does not answer its list waits, then starts with the first good one
  unlisted      an explicit name the venue does not list is warned about with the closest names, counted, and
                not subscribed until the venue lists it
  redis         <prefix>:instruments:<venue> holds every instrument's metadata, exact

Every test ends by stopping tickd (exit status 0) and fails when tickd's or fakex's log holds a sanitizer report.
"""
import json
import re
import time

import harness as h

suite = h.Suite("instruments")
_procs = []
test = h.checked_test(suite, _procs)

SYMS = ("BTC-USDT", "ETH-USDT", "SOL-USDT", "BTC-USD")
REFRESH = "1s"


def start(venue, groups, fx_syms=SYMS, refresh=REFRESH, ready=True):
    fx = h.Fakex(venue=venue, symbols=fx_syms, rate=20)
    _procs.append(("fakex", fx.log, None))
    prefix = "in%d" % int(time.monotonic() * 1000)
    d = h.Tickd(h.config(fx, groups, prefix=prefix, sources={venue: {"instruments_refresh": refresh}}))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    if ready:
        d.wait_ready(30)
    return fx, d


def quote(r, d, venue, symbol):
    return r.hgetall("%s:quote:%s:%s" % (d.prefix, venue, symbol))


def subscribers(fx, venue, symbol):
    """Connections fakex serves the symbol's quotes to (0 for a symbol it does not list)."""
    return fx.report()["venues"][venue]["symbols"].get(symbol, {}).get("subscribers", 0)


def updates_flow(r, d, venue, symbol, timeout=10):
    first = quote(r, d, venue, symbol).get("seq")
    h.wait_until(lambda: quote(r, d, venue, symbol).get("seq") not in (None, first), timeout,
                 "%s %s quotes flow" % (venue, symbol))


@test
def a_pattern_group_follows_listings_halts_and_delistings():
    r = h.Redis()
    for venue in ("binance", "okx", "kraken", "coinbase"):
        fx, d = start(venue, [h.group(venue, ["*-USDT"], name="usdt")])
        for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
            updates_flow(r, d, venue, s)
        h.check(not quote(r, d, venue, "BTC-USD"), "%s: BTC-USD matched *-USDT" % venue)
        h.check(subscribers(fx, venue, "BTC-USD") == 0, "%s: BTC-USD subscribed" % venue)
        connects = fx.report()["venues"][venue]["ws_connects"]

        # a listing: subscribed within a refresh, on one new connection; the group's own is not touched
        fx.set(venue, list=1, symbol="NEW-USDT")
        h.wait_until(lambda: quote(r, d, venue, "NEW-USDT"), 10, "%s: the listing's quote in Redis" % venue)
        h.check(fx.report()["venues"][venue]["ws_connects"] == connects + 1,
                "%s: connects %s -> %s, want one more" % (venue, connects, fx.report()["venues"][venue]["ws_connects"]))
        h.check(not d.log_lines(r"group=usdt .*msg=(\"switching connection\"|\"connection lost\")"),
                "%s: the group's connection was touched" % venue)
        h.check(d.log_lines(r"msg=\"new listings subscribed\" group=usdt as=usdt\+1 symbols=1 first=NEW-USDT"),
                "%s: no companion group logged" % venue)
        updates_flow(r, d, venue, "NEW-USDT")

        # a delisting: unsubscribed on the live connection, out of the best bid and offer, status in its hash
        h.check(r.cmd("HGET", "%s:bbo:ETH-USDT" % d.prefix, "bid_venue") == venue, "%s: no bbo for ETH-USDT" % venue)
        fx.set(venue, delist=1, symbol="ETH-USDT")
        h.wait_until(lambda: subscribers(fx, venue, "ETH-USDT") == 0, 10, "%s: ETH-USDT unsubscribed" % venue)
        h.wait_until(lambda: r.cmd("HGET", "%s:bbo:ETH-USDT" % d.prefix, "bid_venue") in (None, ""), 5,
                     "%s: ETH-USDT's quote out of the best bid and offer" % venue)
        h.check(fx.report()["venues"][venue]["ws_connects"] == connects + 1, "%s: a delisting reconnected" % venue)
        h.check(subscribers(fx, venue, "BTC-USDT") == 1, "%s: BTC-USDT left" % venue)
        updates_flow(r, d, venue, "BTC-USDT")

        # a halt and its end: unsubscribed, then subscribed again on the same connection
        fx.set(venue, halt=1, symbol="SOL-USDT")
        h.wait_until(lambda: subscribers(fx, venue, "SOL-USDT") == 0, 10, "%s: SOL-USDT unsubscribed" % venue)
        fx.set(venue, halt=0, symbol="SOL-USDT")
        h.wait_until(lambda: subscribers(fx, venue, "SOL-USDT") == 1, 10, "%s: SOL-USDT subscribed again" % venue)
        updates_flow(r, d, venue, "SOL-USDT")
        h.check(fx.report()["venues"][venue]["ws_connects"] == connects + 1, "%s: a halt reconnected" % venue)
        d.stop()
        fx.stop()


def instrument_messages(tap, venue, symbol):
    key = "instrument.%s.%s" % (venue, symbol)
    return [m["body"] for m in list(tap.messages) if m.get("routing_key") == key]


@test
def the_instruments_hash_holds_the_metadata_and_statuses():
    r = h.Redis()
    tap = h.AmqpTap("instrument.#")
    fx, d = start("binance", [h.group("binance", ["BTC-USDT", "ETH-USDT"], name="majors")])
    key = "%s:instruments:binance" % d.prefix
    h.wait_until(lambda: r.cmd("HLEN", key) == len(SYMS), 10, "every instrument in %s" % key)
    btc = json.loads(r.cmd("HGET", key, "BTC-USDT"))
    h.check(btc["venue"] == "binance" and btc["symbol"] == "BTC-USDT" and btc["venue_symbol"] == "BTCUSDT" and
            btc["status"] == "trading" and btc["venue_status"] == "TRADING", "BTC-USDT: %s" % btc)
    h.check(btc["base"] == "BTC" and btc["quote"] == "USDT", "BTC-USDT's assets: %s" % btc)
    h.check(re.fullmatch(r"\d+\.\d+", btc["tick_size"] or "") is not None, "tick size: %s" % btc)
    updates_flow(r, d, "binance", "ETH-USDT")  # its quote hash exists: the status goes there
    fx.set("binance", halt=1, symbol="ETH-USDT")
    h.wait_until(lambda: json.loads(r.cmd("HGET", key, "ETH-USDT"))["status"] == "halted", 10, "ETH-USDT halted in the hash")
    h.wait_until(lambda: quote(r, d, "binance", "ETH-USDT").get("status") == "halted", 10,
                 "ETH-USDT's quote hash status")
    h.wait_until(lambda: subscribers(fx, "binance", "ETH-USDT") == 0, 10, "a halted explicit name unsubscribed")
    fx.set("binance", halt=0, symbol="ETH-USDT")
    h.wait_until(lambda: quote(r, d, "binance", "ETH-USDT").get("status") == "trading", 10, "trading again")
    updates_flow(r, d, "binance", "ETH-USDT")
    # RabbitMQ: every instrument listed at start, then ETH-USDT's two status changes, in order
    h.wait_until(lambda: len(instrument_messages(tap, "binance", "ETH-USDT")) >= 3, 10, "ETH-USDT's messages")
    eth = instrument_messages(tap, "binance", "ETH-USDT")
    h.check([(m["change"], m["status"]) for m in eth] == [("listed", "trading"), ("status", "halted"),
                                                         ("status", "trading")], "ETH-USDT's messages: %s" % eth)
    h.check(eth[0]["venue_symbol"] == "ETHUSDT" and eth[0]["symbol"] == "ETH-USDT", "message: %s" % eth[0])
    for s in SYMS:
        h.check(instrument_messages(tap, "binance", s), "no instrument.binance.%s" % s)


@test
def a_failed_refresh_keeps_the_last_good_list():
    r = h.Redis()
    fx, d = start("binance", [h.group("binance", ["*-USDT"], name="usdt")])
    for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
        updates_flow(r, d, "binance", s)
    fx.set("binance", instruments_status=500)
    h.wait_until(lambda: d.log_lines(r"msg=\"cannot load the instrument list: the last good one stays\""), 10,
                 "the failed refresh logged")
    fx.set("binance", instruments_status=0, instruments_malformed=2)
    h.wait_until(lambda: len(d.log_lines(r"cannot load the instrument list.*malformed")) >= 2, 15,
                 "the cut answers refused")
    for s in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
        h.check(subscribers(fx, "binance", s) == 1, "%s unsubscribed by a failed refresh" % s)
        updates_flow(r, d, "binance", s)
    h.check(not d.log_lines(r"msg=\"instrument list changed\".*delisted=[1-9]"), "a failed refresh delisted")


@test
def a_pattern_group_waits_for_its_first_list():
    r = h.Redis()
    fx = h.Fakex(venue="okx", symbols=SYMS, rate=20, sets={"instruments_status": 503})
    _procs.append(("fakex", fx.log, None))
    prefix = "in%d" % int(time.monotonic() * 1000)
    d = h.Tickd(h.config(fx, [h.group("okx", ["*-USDT"], name="usdt")], prefix=prefix,
                         sources={"okx": {"instruments_refresh": REFRESH}}))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    h.wait_until(lambda: d.log_lines(r"msg=\"cannot load the instrument list: patterns wait for it\""), 15,
                 "the wait logged")
    h.check(not quote(r, d, "okx", "BTC-USDT"), "a quote before the list")
    fx.set("okx", instruments_status=0)
    h.wait_until(lambda: d.log_lines(r"msg=\"patterns resolved: group started\" group=usdt as=usdt symbols=3"), 15,
                 "the group started with its first list")
    updates_flow(r, d, "okx", "SOL-USDT")


@test
def an_unlisted_name_is_warned_with_the_closest():
    r = h.Redis()
    fx, d = start("coinbase", [h.group("coinbase", ["BTC-USDT", "BTC-USTD"], name="typo")])
    h.wait_until(lambda: d.log_lines(r"msg=\"the venue does not list this symbol.*symbol=BTC-USTD "
                                     r"closest=\"?BTC-USD,BTC-USDT\"?$"), 15, "the warning with the closest names")
    h.check(subscribers(fx, "coinbase", "BTC-USTD") == 0, "an unlisted name subscribed")
    h.wait_until(lambda: d.log_lines(r"component=stats msg=source source=coinbase .*\bunlisted=1\b"), 10,
                 "unlisted counted")
    h.check(re.search(r"^    instruments listed=4 unlisted=1 loads=\d+ failures=0 loaded_s_ago=\d+$", d.status(), re.M),
            "status: %s" % d.status())
    updates_flow(r, d, "coinbase", "BTC-USDT")
    fx.set("coinbase", list=1, symbol="BTC-USTD")
    h.wait_until(lambda: d.log_lines(r"msg=\"the venue lists it now\" source=coinbase symbol=BTC-USTD"), 10,
                 "its listing noticed")
    updates_flow(r, d, "coinbase", "BTC-USTD")



@test
def a_group_added_by_a_reload_follows_the_list():
    """The list held when a reload adds a group applies to it at once: its halted symbol is not subscribed, its
    unlisted name is warned about (and not subscribed: Coinbase would refuse the whole subscription)."""
    import signal
    r = h.Redis()
    fx, d = start("coinbase", [h.group("coinbase", ["BTC-USDT"], name="a")])
    updates_flow(r, d, "coinbase", "BTC-USDT")
    fx.set("coinbase", halt=1, symbol="ETH-USDT")
    h.wait_until(lambda: d.log_lines(r"msg=\"instrument list changed\".*status=1"), 10, "the halt in the list")
    groups = [h.group("coinbase", ["BTC-USDT"], name="a"), h.group("coinbase", ["ETH-USDT", "SOL-USDX"], name="b")]
    d.write_config(h.config(fx, groups, prefix=d.prefix, sources={"coinbase": {"instruments_refresh": REFRESH}}))
    d.signal(signal.SIGHUP)
    h.wait_until(lambda: d.log_lines(r"msg=reloaded groups_added=1"), 10, "the reload")
    h.wait_until(lambda: d.log_lines(r"msg=\"the venue does not list this symbol.*group=b symbol=SOL-USDX "
                                     r"closest=\"?SOL-USDT"), 10, "the new group's unlisted name warned")
    h.wait_until(lambda: d.log_lines(r"msg=subscribed group=b "), 10, "group b subscribed")
    time.sleep(1.5)
    h.check(subscribers(fx, "coinbase", "ETH-USDT") == 0, "a halted symbol subscribed by the new group")
    h.check(not d.log_lines(r"msg=restart group=b\b"), "group b restarted: %s" % d.log_lines(r"group=b .*restart"))
    fx.set("coinbase", halt=0, symbol="ETH-USDT")
    h.wait_until(lambda: subscribers(fx, "coinbase", "ETH-USDT") == 1, 10, "ETH-USDT subscribed once it trades")
    updates_flow(r, d, "coinbase", "ETH-USDT")


if __name__ == "__main__":
    suite.run()
