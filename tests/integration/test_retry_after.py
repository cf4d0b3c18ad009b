"""A venue's Retry-After against the real tickd, the real fakex, real Redis and RabbitMQ.

  huge        a ban answered with Retry-After: 9000000000 (285 years) paused the whole source for that long; with
              10000000000 the pause end overflowed and the answer was ignored. The pause is now capped by
              [[source]] limits.max_pause, the log line says what was asked, and polling resumes once the ban ends.

Checks assert outcomes and lower bounds, never a speed.
"""
import os
import re
import time

import harness as h

suite = h.Suite("retry_after")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def recv_ts(d, venue, symbol):
    return int(h.Redis().hgetall("%s:quote:%s:%s" % (d.prefix, venue, symbol)).get("recv_ts") or 0)


def start(fx, max_pause):
    prefix = "ra%d" % int(time.monotonic() * 1000)
    text = h.config(fx, [h.group("binance", ["BTC-USDT"], stream=False, poll="100ms")], prefix=prefix)
    ws = 'ws_url = "ws://127.0.0.1:%d"' % fx.ports["binance"]
    text = text.replace(ws, '%s\nlimits.max_pause = "%s"' % (ws, max_pause))
    d = h.Tickd(text)
    d.prefix = prefix
    h.on_cleanup(lambda: d.stop())
    d.wait_ready(30)
    return d


def paused_lines(d):
    return d.log_lines(r"msg=\"source paused\".*source=binance")


def no_sanitizer_report(*logs):
    for log in logs:
        text = open(log, errors="replace").read() if os.path.exists(log) else ""
        for mark in SANITIZER_MARKS:
            at = text.find(mark)
            h.check(at < 0, "%s holds a sanitizer report:\n%s" % (log, text[max(0, at - 200):at + 3000]))


@suite.test
def huge_retry_after_is_capped_by_max_pause_and_polling_resumes():
    h.need_servers()
    fx = h.Fakex(venue="binance", symbols=["BTC-USDT"], rate=20)
    h.on_cleanup(fx.stop)
    d = start(fx, "2s")
    h.wait_until(lambda: recv_ts(d, "binance", "BTC-USDT"), 10, "a first quote")
    for asked_s in (9000000000, 10000000000):
        before = len(paused_lines(d))
        fx.set("binance", ban=asked_s * 1000)  # 418 with Retry-After: asked_s
        h.wait_until(lambda: len(paused_lines(d)) > before, 10, "the pause line for Retry-After: %d" % asked_s)
        line = paused_lines(d)[before]
        h.check("reason=\"http 418 banned\"" in line, "not the ban's pause: %s" % line)
        h.check(" asked_ms=%d max_pause_ms=2000" % (asked_s * 1000) in line, "asked and cap not logged: %s" % line)
        for_ms = int(re.search(r"for_ms=(\d+)", line).group(1))
        h.check(0 < for_ms <= 2000, "paused for %d ms, more than max_pause" % for_ms)
        # Still banned when the capped pause ends: tickd asks again, meets the ban, pauses again (capped again).
        h.wait_until(lambda: len(paused_lines(d)) > before + 1, 10, "a second capped pause")
        fx.set("binance", clear=1)
        t = time.time()
        h.wait_until(lambda: recv_ts(d, "binance", "BTC-USDT") > t * 1e6, 10, "a quote after the ban was lifted")
    rep = fx.report()["venues"]["binance"]
    print("    binance: %d answers 418 with Retry-After 9e9 and 1e10 s; every pause capped at 2 s; polling resumed"
          % rep["rejected_418"])
    h.check(d.stop() == 0, "tickd exit status")
    no_sanitizer_report(d.log, fx.log)


suite.run()
