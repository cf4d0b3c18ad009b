"""quote_age.py -- how fresh Redis is: the age of a quote when read (Redis TIME minus the quote's recv_ts).

    source tests/lib/servers.sh; servers_start
    BUILD=build python3 bench/quote_age.py [--rate 50000] [--symbols 100] [--samples 300]

No MONITOR (which slows Redis itself): a reader samples random quotes while fakex streams Binance bookTicker at
--rate across --symbols instruments. The age is receive→Redis latency plus the time since that instrument's last
update (on average half its update interval, symbols/rate), so it bounds the latency from above."""
import argparse
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness as h  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--samples", type=int, default=300)
    a = ap.parse_args()
    h.need_servers = lambda: None
    fx_proc = subprocess.Popen([h.FAKEX, "--venue", "binance", "--port", "0", "--control-port", "0",
                                "--symbols-count", str(a.symbols), "--rate", str(a.rate), "--log-level", "warn"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ports = dict(re.findall(r"(\w+)=127\.0\.0\.1:(\d+)", fx_proc.stdout.readline()))

    class Fx:
        pass
    fx = Fx()
    fx.ports = {"binance": int(ports["binance"])}
    rep = json.loads(urllib.request.urlopen("http://127.0.0.1:%s/_fakex/report" % ports["control"]).read())
    syms = list(rep["venues"]["binance"]["symbols"])
    prefix = "age%d" % os.getpid()
    d = h.Tickd(h.config(fx, [h.group("binance", syms)], prefix=prefix))
    try:
        d.wait_ready()
        time.sleep(3)
        r = h.Redis()
        ages = []
        for i in range(a.samples):
            sec, usec = r.cmd("TIME")
            q = r.hgetall("%s:quote:binance:%s" % (prefix, syms[i % len(syms)]))
            ages.append((int(sec) * 1000000 + int(usec) - int(q["recv_ts"])) / 1000.0)
            time.sleep(0.003)
        ages.sort()
        pick = lambda f: ages[min(len(ages) - 1, int(f * len(ages)))]
        print("rate=%d symbols=%d update interval per symbol %.2f ms: quote age p50 %.2f p90 %.2f p99 %.2f ms"
              % (a.rate, a.symbols, 1000.0 * a.symbols / a.rate, pick(0.5), pick(0.9), pick(0.99)))
    finally:
        d.stop()
        fx_proc.terminate()
        fx_proc.wait()
        while h._cleanups:
            h._cleanups.pop()()


if __name__ == "__main__":
    main()
