"""End to end, all four venues: stream and poll tasks against fakex, the merged state in Redis equal to what fakex
sent last (byte for byte), updates on RabbitMQ, and a clean SIGTERM."""
import os
import time

import harness as h

suite = h.Suite("e2e_smoke")
SYMBOLS = ["BTC-USDT", "ETH-USDT"]


@suite.test
def four_venues_land_exactly_in_redis_and_rabbitmq():
    h.need_servers()
    redis = h.Redis()
    prefix = "smoke%d" % os.getpid()  # a fresh key space: an earlier run's quotes must not win the compare
    fx = h.Fakex(symbols=SYMBOLS, rate=40)
    tap = h.AmqpTap()
    # Coinbase's REST ticker carries no sizes: a poll answer with a newer price than the stream's last would leave
    # the sizes unknown (""), which fakex's report cannot show. Coinbase streams only; the others stream and poll.
    groups = [h.group(v, SYMBOLS, poll=None if v == "coinbase" else "1s") for v in h.VENUES]
    d = h.Tickd(h.config(fx, groups, prefix=prefix))
    d.wait_ready()
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 8, 10, "a quote per venue and symbol")
    # Freeze the market (connections stay up, REST is still answered), then wait past one poll interval: a REST
    # answer whose request left before the last stream tick arrived is dropped by the merge rule even when fakex
    # had moved on, so only a poll sent after the freeze is sure to carry fakex's final value.
    fx.set("all", heartbeats_only=1)
    time.sleep(2.5)
    for v in h.VENUES:
        for s in SYMBOLS:
            want = fx.last(v, s)
            got = redis.hgetall("%s:quote:%s:%s" % (prefix, v, s))
            for field in ("bid", "bid_qty", "ask", "ask_qty"):
                h.check(got.get(field) == want[field], "%s %s %s: redis %r, fakex sent %r"
                        % (v, s, field, got.get(field), want[field]))
        bbo = redis.hgetall("%s:bbo:%s" % (prefix, SYMBOLS[0]))
        h.check(bbo.get("bid") and bbo.get("bid_venue") in h.VENUES, "bbo hash missing: %r" % bbo)
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n" + d.tail())
    tap.stop()
    keys = {m["routing_key"] for m in tap.messages if "routing_key" in m}
    for v in h.VENUES:
        for s in SYMBOLS:
            h.check("tick.%s.%s" % (v, s) in keys, "no RabbitMQ message for %s %s (got %s)" % (v, s, sorted(keys)))
    m = tap.messages[0]
    h.check(m.get("content_type") == "application/json", "content_type: %r" % m)
    h.check(m["body"]["venue"] in h.VENUES and "bid" in m["body"], "body: %r" % m["body"])


@suite.test
def status_socket_shows_the_tree():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=10)
    d = h.Tickd(h.config(fx, [h.group("binance", SYMBOLS, poll="1s")]))
    d.wait_ready()
    out = d.status()
    h.check("group binance-g" in out and "task stream" in out and "task poll" in out, "status:\n" + out)
    h.check("limit weight" in out, "no limiter headroom in status:\n" + out)


suite.run()
