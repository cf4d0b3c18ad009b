"""bench.py -- tickd's benchmark scenarios (run by scripts/bench.sh, which starts the servers first).

Each scenario starts fakex and tickd through tests/integration/harness.py (the same classes the integration
tests use), measures, stops them, and adds rows to one table: figure, value, target, verdict, and the command
that reproduces it. The table is printed and written to bench/results/<date>.md.

Environment: BUILD (build dir), BENCH_ONLY=name,name (scenarios to run), BENCH_SCALE_SECONDS (how long the scale
scenario watches RSS; 30 by default, 600 for the issue's ten minutes), BENCH_STEP_SECONDS (measuring window of a
throughput or latency step, 5 by default).
"""
import datetime
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
import harness as h  # noqa: E402

STEP = float(os.environ.get("BENCH_STEP_SECONDS", "5"))
SCALE_SECONDS = float(os.environ.get("BENCH_SCALE_SECONDS", "30"))
ONLY = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
BENCH_BIN = os.path.join(h.BUILD, "bench")

rows = []  # (figure, value, target, verdict, command)


def row(figure, value, target="", ok=None, command=""):
    verdict = "" if ok is None else ("meets" if ok else "MISSES")
    rows.append((figure, value, target, verdict, command))
    print("  %-44s %-28s %-14s %-6s" % (figure, value, target, verdict), flush=True)


def cleanup():
    while h._cleanups:
        try:
            h._cleanups.pop()()
        except Exception as e:  # a failed stop must not end the run
            print("bench: cleanup: %s" % e, file=sys.stderr)


def cpu_s(pid, tid=None):
    """utime + stime of a process (all its threads), or of its thread tid, in seconds."""
    with open("/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def symbols(n):
    return ["S%05d-USDT" % i for i in range(n)]


def start(venues, nsym, rate, poll=None, stream=True, limits=None, fx_args=(), channel=None):
    """fakex serving `venues` with nsym symbols at `rate` messages/s per venue, tickd subscribed to all (to
    `channel`, bbo when None)."""
    syms = symbols(nsym)
    # Every scenario's fakex starts its sequences afresh: a quote an earlier scenario left in Redis would hold a
    # greater ordering key, and tickd's compare-and-set would rightly refuse the new, "older" ticks.
    h.Redis().flush()
    fx = h.Fakex(venue=",".join(venues), symbols=syms, rate=rate, args=list(fx_args))
    groups = [h.group(v, syms, stream=stream, poll=poll, channel=channel) for v in venues]
    d = h.Tickd(h.config(fx, groups, limits=limits, stats="1s", extra='\n'))
    d.wait_ready(timeout=180)
    return fx, d


def counters(fx, d, venue):
    """(fakex sent, fakex dropped, tickd frames, tickd redis writes, tickd cpu seconds, time)."""
    rep = fx.report()["venues"][venue]
    st = d.status()
    frames = sum(int(x) for x in re.findall(r"frames=(\d+)", st.split("groups:")[0]))
    writes = int(re.search(r"redis +ready=\w+ writes=(\d+)", st).group(1))
    return dict(sent=rep["messages_sent"], dropped=rep.get("dropped", 0), frames=frames, writes=writes,
                cpu=cpu_s(d.proc.pid), t=time.monotonic())


def window(fx, d, venue, seconds):
    a = counters(fx, d, venue)
    time.sleep(seconds)
    b = counters(fx, d, venue)
    dt = b["t"] - a["t"]
    return {k: (b[k] - a[k]) / dt for k in ("sent", "dropped", "frames", "writes", "cpu")}, b


def fakex_cmd(venue, nsym, rate):
    return "fakex --venue %s --symbols-count %d --rate %s" % (venue, nsym, rate)


# ---- scenarios ----

def scenario_hotpath():
    """Parse + merge per frame for each venue's common frame, with the fast paths and with jansson alone."""
    for venue in ("binance", "coinbase", "okx", "kraken"):
        figures = []
        for extra, frames in (([], "2000000"), (["--jansson"], "300000")):
            out = subprocess.run([os.path.join(BENCH_BIN, "hotpath"), "--venue", venue, "--frames", frames] + extra,
                                 capture_output=True, text=True).stdout
            m = re.search(r"parse\+merge=(\d+) frames per CPU-second \((\d+) ns", out)
            figures.append(m.groups() if m else ("?", "?"))
        row("parse+merge, %s (no I/O)" % venue, "%s ns (jansson only: %s ns)" % (figures[0][1], figures[1][1]),
            "", None, "%s/bench/hotpath --venue %s [--jansson]" % (h.BUILD, venue))


def scenario_startup():
    times = []
    for _ in range(5):
        fx = h.Fakex(venue="binance", symbols=symbols(10), rate=10)
        t0 = time.monotonic()
        d = h.Tickd(h.config(fx, [h.group("binance", symbols(10))]))
        d.wait_ready(timeout=30)
        times.append((time.monotonic() - t0) * 1000)
        cleanup()
    times.sort()
    row("start-up: exec to READY=1 (median of 5)", "%.0f ms (max %.0f)" % (times[2], times[-1]), "< 100 ms",
        times[2] < 100, "bench.py startup: Popen(tickd) until READY=1 on NOTIFY_SOCKET, servers up")


def server_pids():
    """The private redis-server's and rabbitmq-server's (Erlang VM's) pids, from tests/lib/servers.sh's pid files."""
    out = []
    for f in ("redis/redis.pid", "rabbit/rabbit.pid"):
        try:
            with open(os.path.join(os.environ["TICKD_TEST_SERVERS_DIR"], f)) as fh:
                out.append(int(fh.read().split()[0]))
        except (OSError, ValueError, IndexError):
            pass
    return out


def pin(pids, cpus):
    """Every thread of each process onto `cpus` (threads made later inherit their creator's set)."""
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                try:
                    os.sched_setaffinity(int(tid), cpus)
                except OSError:  # a thread that ended meanwhile
                    pass
        except OSError:
            pass


class CpuShare:
    """CPU used by tickd, fakex, redis-server and rabbitmq-server between construction and read(), as % of a core."""

    def __init__(self, tickd_pid, fakex_pid):
        servers = server_pids() + [-1, -1]
        self.pids = [("tickd", tickd_pid), ("Redis", servers[0]), ("RabbitMQ", servers[1]), ("fakex", fakex_pid)]
        self.pids = [(name, pid) for name, pid in self.pids if pid > 0]
        self.t0, self.c0 = time.monotonic(), [cpu_s(pid) for _, pid in self.pids]

    def read(self):
        dt = time.monotonic() - self.t0
        return [(name, 100 * (cpu_s(pid) - c) / dt) for (name, pid), c in zip(self.pids, self.c0)]


def scenario_throughput():
    # "On one core" taken literally: tickd's threads on the last CPU, fakex and both servers on the others, so
    # tickd's figure is one core's and neither the scheduler's migrations nor the servers' bursts are in it.
    ncpu = os.cpu_count() or 1
    tickd_cpu = {ncpu - 1}
    others = set(range(ncpu - 1)) or tickd_cpu
    pinned = ncpu > 1
    where = "tickd pinned to CPU %d, fakex and the servers to the others" % (ncpu - 1) if pinned else "one CPU"
    best, best_at = 0, ""
    try:
        for rate in (50000, 100000, 200000, 300000, 400000, 450000, 500000, 600000):
            fx, d = start(["binance"], 100, rate)
            if pinned:
                pin([d.proc.pid], tickd_cpu)
                pin([fx.proc.pid] + server_pids(), others)
            time.sleep(1.5)
            skip = len(stats_lines(d, "redis"))
            w, _ = window(fx, d, "binance", STEP)
            lag = worst_interval(d, skip, "lag")
            behind = w["dropped"] > 0 or w["frames"] < 0.97 * w["sent"]
            print("  rate %d: fakex sent %.0f/s dropped %.0f/s, tickd %.0f frames/s, %.0f redis writes/s, cpu %.0f%%, "
                  "receive→Redis answer p99 %.2f ms" % (rate, w["sent"], w["dropped"], w["frames"], w["writes"],
                                                       100 * w["cpu"], lag[2] / 1000), flush=True)
            if rate == 50000:
                row("CPU of tickd at 50k ticks/s (binance)", "%.0f%% of a core (%.0f writes/s)" % (100 * w["cpu"],
                    w["writes"]), "", None, fakex_cmd("binance", 100, rate) + "; /proc/PID/stat utime+stime; " + where)
            cleanup()
            if behind:
                row("stream throughput at the first rate tickd fell behind",
                    "offered %d/s: took %.0f ticks/s at %.0f%% of a core (%.0f per CPU-second)"
                    % (rate, w["frames"], 100 * w["cpu"], w["frames"] / max(w["cpu"], 1e-9)), "", None, "same")
                break
            if w["frames"] > best:
                best, best_at = w["frames"], "at %.0f%% of a core, receive→Redis answer p99 %.2f ms" % (
                    100 * w["cpu"], lag[2] / 1000)
    finally:
        if pinned:
            pin(server_pids(), set(range(ncpu)))
    row("stream throughput into Redis, sustained on one core", "%.0f ticks/s (%s)" % (best, best_at), ">= 400k/s",
        best >= 400000,
        fakex_cmd("binance", 100, "R") + ", R stepped until tickd falls behind; " + where)


def scenario_overload():
    fx, d = start(["binance"], 100, 0)
    time.sleep(1)
    a = counters(fx, d, "binance")
    worst = 0
    for _ in range(5):
        t0 = time.monotonic()
        ok = "tickd" in d.status()
        worst = max(worst, (time.monotonic() - t0) * 1000 if ok else 1e9)
        time.sleep(STEP / 5)
    b = counters(fx, d, "binance")
    dt = b["t"] - a["t"]
    offered = (b["sent"] - a["sent"] + b["dropped"] - a["dropped"]) / dt
    taken = (b["frames"] - a["frames"]) / dt
    # fakex moves a symbol even when it drops the message for a full socket, so its report is "last sent" only
    # once nothing is dropped: stop, let tickd drain, send a calm round that reaches every symbol, stop again.
    fx.set(stall=1)
    time.sleep(3)
    fx.set(rate=500, stall=0)
    time.sleep(1.5)
    fx.set(stall=1)
    time.sleep(1.5)
    r = h.Redis()
    rep = fx.report()["venues"]["binance"]["symbols"]
    wrong = 0
    for sym, q in rep.items():
        got = r.hgetall("tickd:quote:binance:%s" % sym)
        if (got.get("bid"), got.get("ask"), got.get("bid_qty"), got.get("ask_qty")) != (
                q["bid"], q["ask"], q["bid_qty"], q["ask_qty"]):
            wrong += 1
    row("overload: offered / taken by tickd", "%.0f / %.0f ticks/s" % (offered, taken), "1M/s offered", None,
        fakex_cmd("binance", 100, 0) + " (load mode)")
    row("overload: `tickd status` worst answer", "%.0f ms" % worst, "responsive", worst < 1000, "tickd status -s SOCK")
    row("overload: Redis equals fakex's last values", "%d of %d symbols differ" % (wrong, len(rep)), "exact",
        wrong == 0, "after the overload, a calm round at 500/s, then stall=1: HGETALL vs /_fakex/report")
    cleanup()


def probe(cmd, seconds, skip):
    p = subprocess.Popen(cmd + [str(seconds), str(skip)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    p.stderr.readline()  # "ready"
    return p


def probe_result(p, name):
    out = p.communicate(timeout=120)[0]
    m = re.search(name + r" samples=(\d+) per_s=\d+ p50_us=(-?\d+) p99_us=(-?\d+) p999_us=(-?\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else (0, -1, -1, -1)


def fmt_lat(r):
    return "p50 %.2f / p99 %.2f / p999 %.2f ms" % (r[1] / 1000, r[2] / 1000, r[3] / 1000)


def worst_interval(d, skip, prefix):
    """(intervals, p50, p99, p999) in µs: the worst of each quantile over the stats lines after `skip`."""
    lines = stats_lines(d, "redis")[skip:]
    worst = [max(int(re.search(r"\b%s_%s_us=(\d+)" % (prefix, q), l).group(1)) for l in lines) if lines else -1
             for q in ("p50", "p99", "p999")]
    return (len(lines), worst[0], worst[1], worst[2])


def redis_window(fx, d, venue):
    """One STEP of a running stream, seen from Redis's side: the window's rates, each process's CPU, the script's
    µs per written record (INFO commandstats: EVALSHA's run time over the records it wrote), and the worst
    one-second interval of tickd's event_lag and lag figures."""
    skip = len(stats_lines(d, "redis"))
    redis = h.Redis()
    redis.cmd("CONFIG", "RESETSTAT")
    cpu = CpuShare(d.proc.pid, fx.proc.pid)
    w, _ = window(fx, d, venue, STEP)
    shares = cpu.read()
    script = re.search(r"cmdstat_evalsha:calls=(\d+),usec=(\d+)", redis.cmd("INFO", "commandstats"))
    per_record = int(script.group(2)) / max(w["writes"] * STEP, 1) if script else -1
    return dict(w=w, shares=shares, per_record=per_record, per_burst=per_record * w["writes"] / 1000,
                event_lag=worst_interval(d, skip, "event_lag"), lag=worst_interval(d, skip, "lag"))


def scenario_latency():
    amqp = os.environ["TICKD_TEST_AMQP_URL"]
    # Coinbase frames carry fakex's send time in microseconds ("time"), which tickd keeps as the tick's event
    # time: its stats lines time each written quote from there to Redis's answer (event_lag) and from its own
    # receive to that answer (lag), without a probe loading Redis (MONITOR would echo every command). The worst
    # one-second interval of the window is reported. Then a consumer on tickd's queue times frame → delivery.
    for rate, target_redis, target_amqp in ((10000, None, None), (30000, None, 10000), (50000, 500, None),
                                            (100000, 1000, None)):
        fx, d = start(["coinbase"], 100, rate)
        time.sleep(1.5)
        r = redis_window(fx, d, "coinbase")
        w, ev, rv = r["w"], r["event_lag"], r["lag"]
        pa = probe([os.path.join(BENCH_BIN, "amqp_latency"), amqp, "tickd"], STEP, 1.5)
        wa, _ = window(fx, d, "coinbase", STEP + 1.5)
        a = probe_result(pa, "frame_to_consumer")
        row("frame→Redis answer at %dk/s (coinbase)" % (rate // 1000),
            fmt_lat(ev) + " (worst of %d one-second intervals; tickd took %.0f of %.0f frames/s)"
            % (ev[0], w["frames"], w["sent"]),
            "p99 < %.1f ms" % (target_redis / 1000) if target_redis else "",
            (0 <= ev[2] < target_redis) if target_redis else None,
            fakex_cmd("coinbase", 100, rate) + "; tickd's stats lines (event_lag_p50_us, _p99_us, _p999_us)")
        row("  of which receive→Redis answer", fmt_lat(rv) + " (%.0f writes/s)" % w["writes"], "", None,
            "same (lag_p50_us, lag_p99_us, lag_p999_us)")
        # Why the p99 is what it is on this machine: fakex sends a burst every millisecond, and each frame is two
        # records (the quote and its symbol's BBO) that Redis's script takes in turn, while all four processes
        # share the cores.
        row("  CPU of each process (% of one core)", ", ".join("%s %.0f%%" % kv for kv in r["shares"])
            + "; Redis script %.1f µs per record, %.0f µs per 1 ms burst" % (r["per_record"], r["per_burst"]),
            "", None, "/proc/PID/stat over the frame→Redis window; INFO commandstats (cmdstat_evalsha usec)")
        row("frame→consumer at %dk/s (coinbase)" % (rate // 1000),
            fmt_lat(a) + " (tickd took %.0f of %.0f frames/s)" % (wa["frames"], wa["sent"]),
            "p99 < 10 ms" if target_amqp else "", (0 <= a[2] < target_amqp) if target_amqp else None,
            fakex_cmd("coinbase", 100, rate) + "; bench/amqp_latency")
        cleanup()


def scenario_latency_floor():
    # The best this machine allows the frame→Redis figure: Redis alone on CPU 0, tickd and fakex on the other(s),
    # and no RabbitMQ work at all (tickd's broker URL is a closed port, so it publishes nothing). What is left is
    # tickd, Redis's script and the hops between the processes. If the target is missed here, no change to
    # tickd's publishing or to the scheduling of the shared cores can meet it on this machine.
    ncpu = os.cpu_count() or 1
    if ncpu < 2:
        row("frame→Redis floor", "skipped: one CPU", "", None, "")
        return
    saved = os.environ["TICKD_TEST_AMQP_URL"]
    os.environ["TICKD_TEST_AMQP_URL"] = "amqp://guest:guest@127.0.0.1:1/%2f"
    try:
        for rate in (10000, 50000, 100000):
            fx, d = start(["coinbase"], 100, rate)
            pin(server_pids()[:1], {0})
            pin([d.proc.pid, fx.proc.pid] + server_pids()[1:], set(range(1, ncpu)))
            time.sleep(1.5)
            r = redis_window(fx, d, "coinbase")
            row("frame→Redis floor at %dk/s (coinbase)" % (rate // 1000),
                fmt_lat(r["event_lag"]) + "; tickd %.0f%%, Redis %.0f%% (script %.1f µs per record, %.0f µs per 1 ms "
                "burst)" % (r["shares"][0][1], r["shares"][1][1], r["per_record"], r["per_burst"]), "", None,
                fakex_cmd("coinbase", 100, rate) + "; Redis alone on CPU 0, tickd and fakex on the rest, "
                "tickd's RabbitMQ URL a closed port")
            cleanup()
    finally:
        os.environ["TICKD_TEST_AMQP_URL"] = saved
        pin(server_pids(), set(range(ncpu)))


def stats_lines(d, name):
    with open(d.log) as f:
        return [line for line in f if "component=stats msg=%s " % name in line]


def scenario_polling():
    nsym = 200
    limits = {"coinbase": {"weight_per_minute": 1000000, "requests_per_second": 5000}}
    # A poll plan holds a bounded number of requests (Coinbase asks one per product): 4 groups of 50 symbols.
    syms = symbols(nsym)
    fx = h.Fakex(venue="coinbase", symbols=syms, rate=1, args=["--set", "rest_limit=0"])
    groups = [h.group("coinbase", syms[i:i + 50], name="poll-%d" % i, stream=False, poll="200ms")
              for i in range(0, nsym, 50)]
    d = h.Tickd(h.config(fx, groups, limits=limits, stats="1s"))
    d.wait_ready(timeout=60)
    time.sleep(2)

    def reqs():
        return fx.report()["venues"]["coinbase"]["http_requests"], cpu_s(d.proc.pid), time.monotonic()
    a = reqs()
    time.sleep(STEP * 2)
    b = reqs()
    rate = (b[0] - a[0]) / (b[2] - a[2])
    cpu = (b[1] - a[1]) / (b[2] - a[2])
    per = cpu / rate * 1e6 if rate else -1
    row("polling: HTTP requests/s answered", "%.0f req/s" % rate, "1,000 req/s", rate >= 950,
        "fakex --venue coinbase --set rest_limit=0; 200 symbols, poll every 200ms")
    row("polling: CPU of tickd", "%.1f%% of a core (%.0f µs/request)" % (100 * cpu, per), "< 25%", cpu < 0.25 and rate >= 950,
        "same; /proc/PID/stat utime+stime")
    cleanup()


def machine_busy_s():
    """CPU time the whole machine spent busy (user, nice, system, irq, softirq of all CPUs; /proc/stat), seconds."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:8]]
    return (v[0] + v[1] + v[2] + v[5] + v[6]) / TICKS_PER_S


def stats_round(d, timeout=5):
    """Waits for tickd's next stats round (the summary line is its last) and returns the moment it was seen and that
    round's rabbitmq, redis and summary figures."""
    n = len(stats_lines(d, "summary"))
    h.wait_until(lambda: len(stats_lines(d, "summary")) > n, timeout, "a stats round", interval=0.01)
    t = time.monotonic()
    figs = {}
    for name in ("rabbitmq", "redis", "summary"):
        lines = stats_lines(d, name)
        figs[name] = {k: int(v) for k, v in re.findall(r"\b(\w+)=(\d+)\b", lines[-1])} if lines else {}
    return t, figs


PUBLISH_VENUES = ["binance", "okx"]
# Per venue. Binance's combined stream path names every symbol (s00000usdt@bookTicker/...) and a websocket URL's path
# holds at most 1023 bytes (ws.c), so a Binance bbo group of these names connects only up to about 45 symbols.
PUBLISH_SYMBOLS = 40


def publish_run(kind, rate):
    """tickd streaming `kind` ("trades" or "bbo") of PUBLISH_SYMBOLS symbols on Binance and OKX, fakex at `rate` per venue (0: load
    mode, as fast as tickd reads), both sinks on the private servers (RabbitMQ with publisher confirms; no queue is
    bound, so the broker routes, drops and confirms; trades go to RabbitMQ only, [redis] trade_history being 0). One STEP window between two of tickd's stats rounds: the rates
    from its counters, tickd's CPU per item (/proc/PID/stat utime+stime over the window) and every process's CPU."""
    trades = kind == "trades"
    # trades: one trade with each quote update (the quotes go nowhere, no bbo task); bbo: no trades at all.
    fx, d = start(PUBLISH_VENUES, PUBLISH_SYMBOLS, rate, fx_args=["--trade-rate", "0" if trades else "-1"],
                  channel="trades" if trades else None)
    time.sleep(2)
    t0, a = stats_round(d)
    cpu = CpuShare(d.proc.pid, fx.proc.pid)
    busy0, fa = machine_busy_s(), fx.report()["venues"]
    tc0 = cpu_s(d.proc.pid)
    time.sleep(max(STEP - 0.5, 0.5))
    t1, b = stats_round(d)
    tc1 = cpu_s(d.proc.pid)
    shares, busy1, fb = cpu.read(), machine_busy_s(), fx.report()["venues"]
    cleanup()
    dt = t1 - t0

    def rate_of(sink, key):
        return (b[sink].get(key, 0) - a[sink].get(key, 0)) / dt

    sent = sum(fb[v]["trades_sent" if trades else "messages_sent"] - fa[v]["trades_sent" if trades else
               "messages_sent"] for v in PUBLISH_VENUES) / dt
    fx_dropped = sum(fb[v].get("dropped", 0) - fa[v].get("dropped", 0) for v in PUBLISH_VENUES) / dt
    taken = rate_of("summary", "trades_new" if trades else "accepted")
    known = sum(x for _, x in shares)
    busy = 100 * (busy1 - busy0) / dt
    shares += [("other work", max(busy - known, 0)), ("idle", max(100 * (os.cpu_count() or 1) - busy, 0))]
    return dict(sent=sent, fx_dropped=fx_dropped, taken=taken,
                confirmed=rate_of("rabbitmq", "trades_confirmed" if trades else "confirmed"),
                amqp_dropped=rate_of("rabbitmq", "trades_dropped" if trades else "dropped"),
                redis=rate_of("redis", "trades" if trades else "writes"),
                depth=b["rabbitmq"].get("trade_depth" if trades else "depth", 0),
                us_per=1e6 * (tc1 - tc0) / max(taken * dt, 1), cpu=100 * (tc1 - tc0) / dt, shares=shares)


def publish_rows(kind, rates):
    item = "trade" if kind == "trades" else "tick"
    for rate in rates:
        r = publish_run(kind, rate)
        offered = "load mode" if rate == 0 else "%dk/s per venue" % (rate // 1000)
        what = "trades → RabbitMQ" if kind == "trades" else "bbo ticks → Redis + RabbitMQ (comparison)"
        cmd = "fakex --venue binance,okx --symbols-count %d --rate %d --trade-rate %s; tickd %s stream tasks" % (
            PUBLISH_SYMBOLS, rate, "0" if kind == "trades" else "-1", "trades" if kind == "trades" else "bbo")
        if kind == "trades":
            value = ("%.0f confirmed/s (fakex sent %.0f/s, tickd took %.0f/s, its buffer dropped %.0f/s, %d "
                     "waiting at the end)" % (r["confirmed"], r["sent"], r["taken"], r["amqp_dropped"], r["depth"]))
        else:
            value = ("%.0f ticks/s taken (fakex sent %.0f/s); Redis %.0f writes/s, RabbitMQ %.0f confirmed/s "
                     "(conflated)" % (r["taken"], r["sent"], r["redis"], r["confirmed"]))
        row("%s, %s (binance+okx, %d symbols each)" % (what, offered, PUBLISH_SYMBOLS), value, "", None,
            cmd + "; stats lines over %.0f s" % STEP)
        row("  CPU of tickd per %s" % item, "%.1f µs (%.0f%% of a core)" % (r["us_per"], r["cpu"]), "", None,
            "/proc/PID/stat utime+stime over the window / %ss taken" % item)
        row("  where the %d cores go (%% of one core)" % (os.cpu_count() or 1), ", ".join("%s %.0f%%" % kv for kv in r["shares"]), "", None,
            "/proc/PID/stat of each (RabbitMQ: beam.smp), /proc/stat for the rest")


def scenario_trades():
    publish_rows("trades", (0, 10000))


def scenario_trades_bbo():
    publish_rows("bbo", (0, 10000))


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def scenario_scale():
    venues = ["binance", "coinbase", "kraken", "okx"]
    limits = None  # each venue's own limits (Binance: 5 client messages a second per connection)
    for total in (1000, 10000, 50000):
        per = total // 4
        t0 = time.monotonic()
        try:
            fx, d = start(venues, per, 2000, limits=limits)
        except h.CheckFailed as e:
            row("scale %dk instruments: READY" % (total // 1000), "not ready: %s" % str(e)[:60], "", False, "")
            cleanup()
            continue
        ready_s = time.monotonic() - t0
        # READY comes when every group has started; subscriptions (50 messages/s per venue here) and the
        # first tick of every instrument still follow. "Flat" is judged after that warm-up, a third of the way.
        r0 = rss_kb(d.proc.pid)
        time.sleep(SCALE_SECONDS / 3)
        warm = rss_kb(d.proc.pid)
        time.sleep(SCALE_SECONDS * 2 / 3)
        r1 = rss_kb(d.proc.pid)
        ok = r1 < 64 * 1024 and r1 <= warm * 1.05 + 1024
        row("scale %dk instruments: RSS at READY → +%.0fs → +%.0fs" % (total // 1000, SCALE_SECONDS / 3, SCALE_SECONDS),
            "%.1f → %.1f → %.1f MiB (ready in %.0f s)" % (r0 / 1024, warm / 1024, r1 / 1024, ready_s),
            "< 64 MiB, flat", ok, "fakex --venue all --symbols-count %d --rate 2000; tickd over 4 venues" % per)
        cleanup()


def quote_keys(r, prefix):
    """How many quote hashes tickd has written under prefix (SCAN: KEYS would stall Redis at 50k)."""
    n, cursor = 0, "0"
    while True:
        cursor, keys = r.cmd("SCAN", cursor, "MATCH", "%s:quote:*" % prefix, "COUNT", 10000)
        n += len(keys)
        if cursor == "0":
            return n


def scenario_instruments():
    """symbols = ["*"] on each venue, 12,500 instruments each: the time from start to every instrument quoted in
    Redis (the lists loaded, the patterns resolved, every connection subscribed within the venues' connect and
    message limits, a first tick of each), and the RSS with the instruments' metadata held."""
    venues = ["binance", "coinbase", "kraken", "okx"]
    per = 12500
    h.Redis().flush()
    fx = h.Fakex(venue=",".join(venues), symbols=symbols(per), rate=2000)
    prefix = "bi%d" % int(time.monotonic())
    groups = [h.group(v, ["*"], name="all-%s" % v) for v in venues]
    t0 = time.monotonic()
    d = h.Tickd(h.config(fx, groups, prefix=prefix, stats="1s", extra="\n"))
    r = h.Redis()
    total, seen, deadline = per * len(venues), 0, t0 + 600
    while time.monotonic() < deadline:
        seen = quote_keys(r, prefix)
        if seen >= total:
            break
        time.sleep(1)
    took = time.monotonic() - t0
    rss = rss_kb(d.proc.pid)
    listed = sum(int(m) for m in re.findall(r"msg=\"instrument list loaded\" source=\w+ instruments=(\d+)",
                                             open(d.log).read()))
    cmd = "fakex --venue all --symbols-count %d --rate 2000; tickd, symbols = [\"*\"] on each venue" % per
    row("instruments: start → every one of %dk quoted in Redis, symbols = [\"*\"] over 4 venues" % (total // 1000),
        "%.0f s (%d of %d quoted; %d listed)" % (took, seen, total, listed), "", seen >= total, cmd)
    time.sleep(SCALE_SECONDS)
    r1 = rss_kb(d.proc.pid)
    row("instruments: RSS with %dk instruments' metadata, then +%.0f s" % (total // 1000, SCALE_SECONDS),
        "%.1f → %.1f MiB" % (rss / 1024, r1 / 1024), "< 64 MiB", r1 < 64 * 1024, cmd)
    cleanup()


# ---- books ----

BOOK_DEPTH = 20
# Diff messages a second per symbol: fakex batches each book's changes once per the venue's book interval
# (Binance and OKX 100 ms, Coinbase and Kraken 50 ms), one diff per batch that holds a change.
BOOK_DIFFS_PER_SYMBOL = {"binance": 10, "okx": 10, "coinbase": 20, "kraken": 20}
BOOK_APPLY_FRAMES = "100000"


def scenario_book_apply():
    """bench/book: a venue's diff frames parsed and applied by the sync state machine on one core, no I/O; then
    the memory of books held as a connection holds them."""
    book = os.path.join(BENCH_BIN, "book")
    for venue, changes in (("binance", 10), ("coinbase", 10), ("okx", 10), ("kraken", 10), ("binance", 1),
                           ("binance", 50)):
        r = subprocess.run([book, "--venue", venue, "--frames", BOOK_APPLY_FRAMES, "--changes", str(changes)],
                           capture_output=True, text=True)
        m = re.search(r"parse\+apply=(\d+) level changes per CPU-second \((\d+) ns/change, (\d+) ns/frame\).*"
                      r"resyncs=(\d+)", r.stdout)
        if not m or r.returncode != 0:
            row("book parse+apply, %s" % venue, "failed: %s" % (r.stdout + r.stderr).strip()[-80:], ">= 1M/s", False,
                "")
            continue
        rate, ns, ns_frame, resyncs = (int(x) for x in m.groups())
        row("book parse+apply, %s, %d change%s a diff (no I/O)" % (venue, changes, "" if changes == 1 else "s"),
            "%.2fM level changes/CPU-s (%d ns a change, %.1f µs a diff)" % (rate / 1e6, ns, ns_frame / 1000),
            ">= 1M/s", rate >= 1e6 and resyncs == 0,
            "%s/bench/book --venue %s --frames %s --changes %d" % (h.BUILD, venue, BOOK_APPLY_FRAMES, changes))
    for books, levels, target, what in ((1000, 1000, 128, "1,000 books of 1,000 levels a side"),
                                        (50000, 20, None, "50,000 books of 20 levels a side"),
                                        (50000, 100, None, "50,000 Binance depth-20 books (100 levels a side "
                                                           "kept: the snapshot's)")):
        r = subprocess.run([book, "--memory", "--books", str(books), "--levels", str(levels)], capture_output=True,
                           text=True)
        m = re.search(r"rss_added=([\d.]+) MiB \(([\d.]+) bytes per level\)", r.stdout)
        mib = float(m.group(1)) if m else -1
        row("book memory: %s" % what, "%.1f MiB (%s bytes a level)" % (mib, m.group(2) if m else "?"),
            "< %d MiB" % target if target else "", (0 <= mib < target) if target else None,
            "%s/bench/book --memory --books %d --levels %d" % (h.BUILD, books, levels))


def books_lines(d):
    """{source: {field: int}} of each source's last `msg=books` stats line."""
    out = {}
    for line in stats_lines(d, "books"):
        m = re.search(r"\bsource=(\S+)", line)
        if m:
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"\b(\w+)=(\d+)\b", line)}
    return out


RESYNC_FIELDS = ("resyncs_gap", "resyncs_checksum", "resyncs_crossed", "resyncs_reconnect", "resyncs_overflow")


def books_start(venues, nsym, book_rate):
    """fakex serving `venues`' books of nsym symbols each at book_rate level changes a second per symbol, tickd with
    one book group per venue at depth BOOK_DEPTH, the venues' REST limits out of the way (a Binance book syncs from
    a REST snapshot; thousands of them would wait minutes in the venue's own weight window); once every book is
    live."""
    syms = symbols(nsym)
    h.Redis().flush()
    fx = h.Fakex(venue=",".join(venues), symbols=syms, rate=1,
                 args=["--book-rate", str(book_rate), "--set", "rest_limit=0"])
    limits = {v: {"weight_per_minute": 10000000, "requests_per_second": 100000} for v in venues if v == "binance"}
    groups = [h.group(v, syms, channel="book", depth=BOOK_DEPTH) for v in venues]
    d = h.Tickd(h.config(fx, groups, limits=limits, stats="1s", extra="\n"))
    d.wait_ready(timeout=180)
    total = nsym * len(venues)
    h.wait_until(lambda: sum(b.get("live", 0) for b in books_lines(d).values()) >= total, 300,
                 "every book live (%d)" % total, interval=0.5)
    return fx, d


def books_round(d):
    """The moment of tickd's next stats round and that round's figures: the books lines summed over the sources,
    and the redis and rabbitmq lines."""
    t, figs = stats_round(d)
    books = {}
    for fields in books_lines(d).values():
        for k, v in fields.items():
            books[k] = books.get(k, 0) + v
    figs["books"] = books
    return t, figs


def books_window(fx, d, venues, seconds, extra_pids=()):
    """One window between two of tickd's stats rounds: fakex's book figures (changes made, diffs sent, dropped for
    a full socket, owed but not made), tickd's (diffs and level changes applied, resyncs, Redis book writes,
    RabbitMQ books published), tickd's CPU, every process's CPU and what is left of the machine."""
    t0, a = books_round(d)
    cpu = CpuShare(d.proc.pid, fx.proc.pid)
    extra0 = [cpu_s(p) for _, p in extra_pids]
    busy0, fa = machine_busy_s(), fx.report()["venues"]
    tc0, loop0, cs0 = cpu_s(d.proc.pid), cpu_s(d.proc.pid, d.proc.pid), ctx_switches(d.proc.pid, d.proc.pid)
    time.sleep(max(seconds - 0.5, 0.5))
    t1, b = books_round(d)
    tc1, loop1, cs1 = cpu_s(d.proc.pid), cpu_s(d.proc.pid, d.proc.pid), ctx_switches(d.proc.pid, d.proc.pid)
    shares, busy1, fb = cpu.read(), machine_busy_s(), fx.report()["venues"]
    dt = t1 - t0
    shares += [(name, 100 * (cpu_s(p) - c) / dt) for (name, p), c in zip(extra_pids, extra0)]
    known = sum(x for _, x in shares)
    busy = 100 * (busy1 - busy0) / dt
    shares += [("other work", max(busy - known, 0)), ("idle", max(100 * (os.cpu_count() or 1) - busy, 0))]

    def fx_rate(key):
        return sum(fb[v]["book"][key] - fa[v]["book"][key] for v in venues) / dt

    def rate(sink, key):
        return (b[sink].get(key, 0) - a[sink].get(key, 0)) / dt

    changes = rate("books", "level_changes")
    return dict(fx_changes=fx_rate("changes"), fx_diffs=fx_rate("messages"), fx_dropped=fx_rate("dropped"),
                fx_behind=fx_rate("behind"), diffs=rate("books", "updates"), changes=changes,
                resyncs=sum(b["books"].get(k, 0) - a["books"].get(k, 0) for k in RESYNC_FIELDS),
                live=b["books"].get("live", 0), redis_books=rate("redis", "books"),
                redis_quotes=rate("redis", "writes"), books_pending=b["redis"].get("books_pending", 0),
                amqp_books=rate("rabbitmq", "books_published"), cpu=100 * (tc1 - tc0) / dt,
                loop=100 * (loop1 - loop0) / dt, idle=shares[-1][1], loop_waits=(cs1[0] - cs0[0]) / dt,
                loop_preempted=(cs1[1] - cs0[1]) / dt,
                ns_per_change=1e9 * (tc1 - tc0) / max(changes * dt, 1), shares=shares, rss=rss_kb(d.proc.pid))


def ctx_switches(pid, tid):
    """(voluntary, involuntary) context switches of a thread so far: it waited for something / it was preempted."""
    with open("/proc/%d/task/%d/status" % (pid, tid)) as f:
        text = f.read()
    return (int(re.search(r"\nvoluntary_ctxt_switches:\s+(\d+)", text).group(1)),
            int(re.search(r"\nnonvoluntary_ctxt_switches:\s+(\d+)", text).group(1)))


def fmt_shares(shares):
    return ", ".join("%s %.0f%%" % kv for kv in shares)


BOOKS_VENUES = ["binance", "okx"]
BOOKS_SYMBOLS = 250  # per venue
# Level changes a second per symbol, stepped: 500 books in all, so 50k to 1.5M changes a second offered, always
# 5,000 diffs a second (10 per book), each of a tenth of a book's changes a second.
BOOKS_RATES = (100, 200, 600, 1000, 1500, 2000, 3000, 4000)


def scenario_books():
    """Books end to end: fakex's Binance and OKX diffs into tickd's books (depth 20) and out to Redis and RabbitMQ,
    the offered rate raised over one running pair until tickd falls behind (diffs missed, resyncs) or fakex stops
    meeting the rate, in two windows running. fakex makes book_rate changes a second per book and sends each
    book's changes of 100 ms as one diff, one entry per level touched: at high rates a diff touches a level more
    than once, so tickd applies fewer level changes than fakex made."""
    venues, nsym = BOOKS_VENUES, BOOKS_SYMBOLS
    nbooks = nsym * len(venues)
    fx, d = books_start(venues, nsym, BOOKS_RATES[0])
    cmd = ("fakex --venue binance,okx --symbols-count %d --book-rate R; tickd: a book group per venue, depth %d"
           % (nsym, BOOK_DEPTH))

    def measure(per_symbol):
        w = books_window(fx, d, venues, STEP)
        print("  book_rate %d: fakex made %.0f changes/s in %.0f diffs/s (dropped %.0f/s, behind %.0f/s); tickd "
              "applied %.0f level changes/s from %.0f diffs/s, %d resyncs, %d live, cpu %.0f%% (loop thread %.0f%%, "
              "waited %.0f/s, preempted %.0f/s; %.0f ns a change), RSS %.1f MiB; Redis %.0f books/s + %.0f "
              "quotes/s (%d pending), RabbitMQ %.0f books/s; %s"
              % (per_symbol, w["fx_changes"], w["fx_diffs"], w["fx_dropped"], w["fx_behind"], w["changes"],
                 w["diffs"], w["resyncs"], w["live"], w["cpu"], w["loop"], w["loop_waits"], w["loop_preempted"],
                 w["ns_per_change"], w["rss"] / 1024, w["redis_books"], w["redis_quotes"], w["books_pending"],
                 w["amqp_books"], fmt_shares(w["shares"])), flush=True)
        behind = (w["fx_dropped"] > 0 or w["resyncs"] > 0 or w["diffs"] < 0.97 * w["fx_diffs"]
                  or w["live"] < nbooks)
        # fakex short of the rate: its own loop (or the machine) is the limit before tickd is.
        short = w["fx_behind"] > 0 or w["fx_diffs"] < 0.9 * nbooks * BOOK_DIFFS_PER_SYMBOL["binance"]
        return w, behind, short

    best, limit = None, None
    for per_symbol in BOOKS_RATES:
        fx.set("all", book_rate=per_symbol)
        time.sleep(1.5)
        w, behind, short = measure(per_symbol)
        if behind or short:  # once more: a burst of other work on the shared cores can spoil one window
            w, behind, short = measure(per_symbol)
        if per_symbol == 1000:
            row("books → Redis + RabbitMQ, %d changes/s a book (binance+okx, %d symbols each)" % (per_symbol, nsym),
                "applied %.0f level changes/s (%.0f diffs/s) at %.0f%% of a core, %.0f ns CPU a change; Redis "
                "%.0f book writes/s" % (w["changes"], w["diffs"], w["cpu"], w["ns_per_change"], w["redis_books"]),
                "", None, cmd.replace(" R;", " %d;" % per_symbol) + "; tickd's msg=books and msg=redis stats lines")
            row("  where the %d cores go (%% of one core)" % (os.cpu_count() or 1), fmt_shares(w["shares"]), "",
                None, "/proc/PID/stat of each (RabbitMQ: beam.smp), /proc/stat for the rest")
        if behind or short:
            limit = (per_symbol, w, short)
            break
        best = (per_symbol, w)
    cleanup()
    if best:
        per_symbol, w = best
        row("books → Redis, depth 20, sustained (binance+okx, %d symbols each)" % nsym,
            "%.0f level changes/s applied (%.0f diffs/s; fakex made %.0f changes/s) at %.0f%% of a core (%.0f ns a "
            "change); Redis %.0f book writes/s, RabbitMQ %.0f books/s"
            % (w["changes"], w["diffs"], w["fx_changes"], w["cpu"], w["ns_per_change"], w["redis_books"],
               w["amqp_books"]),
            ">= 300k/s", w["changes"] >= 300000, cmd.replace(" R;", " %d;" % per_symbol) + ", R stepped %s"
            % "/".join(str(r) for r in BOOKS_RATES))
        row("  where the %d cores go (%% of one core)" % (os.cpu_count() or 1), fmt_shares(w["shares"]), "", None,
            "same")
    if limit:
        per_symbol, w, short = limit
        why = []
        if w["fx_dropped"] > 0:
            why.append("fakex dropped %.0f diffs/s for a full socket" % w["fx_dropped"])
        if w["resyncs"]:
            why.append("%d resyncs" % w["resyncs"])
        if w["diffs"] < 0.97 * w["fx_diffs"]:
            why.append("tickd took %.0f of %.0f diffs/s" % (w["diffs"], w["fx_diffs"]))
        if short:
            why.append("fakex sent %.0f of %d diffs/s" % (w["fx_diffs"], nbooks * BOOK_DIFFS_PER_SYMBOL["binance"]))
        # A loop thread that hardly ever waits (for data, a timer) is CPU-bound: a whole core's worth of work
        # for it, whether or not it got the core.
        busy = w["loop_waits"] < 100
        who = []
        if short:
            who.append("fakex (its book timer ran late)")
        if busy and w["loop"] >= 90:
            who.append("tickd's loop thread, a whole core")
        elif busy:
            who.append("the machine: tickd's loop thread never waited (%.0f waits/s, preempted %.0f/s) yet got %.0f%% "
                       "of a core, the two cores shared with the other processes" % (w["loop_waits"],
                                                                                     w["loop_preempted"], w["loop"]))
        elif not short:
            who.append("neither tickd's loop (%.0f%% busy, it waited %.0f/s) nor fakex: the delivery between them"
                       % (w["loop"], w["loop_waits"]))
        who = "; ".join(who)
        row("books: the first rate not kept up with", "%d changes/s a book (fakex made %.0f changes/s): %s; tickd "
            "%.0f%% of a core (loop thread %.0f%%), %.0f level changes/s applied; limit: %s"
            % (per_symbol, w["fx_changes"], "; ".join(why), w["cpu"], w["loop"], w["changes"], who),
            "", None, "same")
        row("  where the %d cores go (%% of one core)" % (os.cpu_count() or 1), fmt_shares(w["shares"]), "", None,
            "same")


def book_probe(d, keys, seconds, skip):
    p = subprocess.Popen([os.path.join(BENCH_BIN, "book_latency"), os.environ["TICKD_TEST_REDIS_PORT"],
                          str(seconds), str(skip)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    p.stdin.write("".join(k + "\n" for k in keys))
    p.stdin.close()
    p.stdin = None  # communicate() must not flush it
    line = p.stderr.readline()
    h.check(line.strip() == "ready", "book_latency did not start: %r" % line)
    return p


def book_probe_result(p):
    out = p.communicate(timeout=120)[0]
    res = {}
    for name in ("frame_to_redis_book", "recv_to_redis_book"):
        m = re.search(name + r" samples=(\d+) per_s=\d+ p50_us=(-?\d+) p99_us=(-?\d+) p999_us=(-?\d+)", out)
        res[name] = tuple(int(x) for x in m.groups()) if m else (0, -1, -1, -1)
    m = re.search(r"superseded=(\d+)", out)
    res["superseded"] = int(m.group(1)) if m else -1
    return res


# A sample of the books is enough, and keeps the probe's reads of Redis near 10k a second at any rate.
BOOK_PROBE_SAMPLES_PER_S = 10000


def book_latency_run(venue, diffs, floor=False):
    """One frame → Redis book measurement (rows) of `venue`'s diffs at `diffs` a second, two level changes each.
    floor: Redis alone on CPU 0, tickd and fakex on the rest, tickd's RabbitMQ URL a closed port (as
    latency_floor does for the quotes)."""
    per = BOOK_DIFFS_PER_SYMBOL[venue]
    nsym = diffs // per
    book_rate = 2 * per
    ncpu = os.cpu_count() or 1
    saved = os.environ["TICKD_TEST_AMQP_URL"]
    if floor:
        os.environ["TICKD_TEST_AMQP_URL"] = "amqp://guest:guest@127.0.0.1:1/%2f"
    try:
        fx, d = books_start([venue], nsym, book_rate)
        if floor:
            pin(server_pids()[:1], {0})
            pin([d.proc.pid, fx.proc.pid] + server_pids()[1:], set(range(1, ncpu)))
        time.sleep(1.5)
        every = max(1, diffs // BOOK_PROBE_SAMPLES_PER_S)
        keys = ["tickd:book:%s:%s" % (venue, s) for s in symbols(nsym)[::every]]
        skip = 1.0
        p = book_probe(d, keys, STEP, skip)
        if floor:
            pin([p.pid], set(range(1, ncpu)))
        time.sleep(skip)
        w = books_window(fx, d, [venue], STEP, extra_pids=[("probe", p.pid)])
        r = book_probe_result(p)
    finally:
        os.environ["TICKD_TEST_AMQP_URL"] = saved
        if floor:
            pin(server_pids(), set(range(ncpu)))
    ev, rv = r["frame_to_redis_book"], r["recv_to_redis_book"]
    kept = w["diffs"] >= 0.97 * w["fx_diffs"] and w["fx_diffs"] >= 0.9 * diffs and not w["resyncs"]
    cmd = ("fakex --venue %s --symbols-count %d --book-rate %d (%d diffs/s of 2 changes); tickd depth %d; "
           "bench/book_latency on %s" % (venue, nsym, book_rate, diffs, BOOK_DEPTH,
                                         "every %dth book" % every if every > 1 else "every book"))
    if floor:
        cmd += "; Redis alone on CPU 0, tickd and fakex on the rest, tickd's RabbitMQ URL a closed port"
    row("frame→Redis book%s at %dk diffs/s (%s)" % (" floor" if floor else "", diffs // 1000, venue),
        fmt_lat(ev) + " (%d samples; fakex sent %.0f diffs/s, tickd took %.0f/s, %d resyncs%s)"
        % (ev[0], w["fx_diffs"], w["diffs"], w["resyncs"], "" if kept else "; NOT KEPT UP WITH"), "", None, cmd)
    row("  of which receive→Redis book", fmt_lat(rv) + " (Redis %.0f book writes/s, %d superseded)"
        % (w["redis_books"], r["superseded"]), "", None, "same (the book's recv_ts)")
    row("  CPU of each process (% of one core)", fmt_shares(w["shares"]) + "; tickd %.1f µs a diff (loop thread "
        "%.0f%%)" % (w["cpu"] * 1e4 / max(w["diffs"], 1), w["loop"]), "", None,
        "/proc/PID/stat over the window, /proc/stat for the rest")
    cleanup()


def scenario_book_latency():
    """Frame → book readable in Redis at 10k, 25k and 50k diffs a second, beside the quotes' frame → Redis rows:
    fakex's event time in each diff, a probe told of each sampled book's write by Redis (keyspace notifications),
    reading the written book's ts and recv_ts (bench/book_latency.c). Coinbase first: its diffs carry a µs time,
    as its quotes do; then Binance, the issue's diffs, whose E is in ms (up to 1 ms early: its frame rows read up
    to 1 ms high, its receive rows are exact). A rate tickd or the machine does not keep up with is marked: its
    frame figure is then the backlog's age. Last, 50k Coinbase diffs at this machine's best: Redis on a core of
    its own and nothing published to RabbitMQ."""
    for venue in ("coinbase", "binance"):
        for diffs in (10000, 25000, 50000):
            book_latency_run(venue, diffs)
    if (os.cpu_count() or 1) > 1:
        book_latency_run("coinbase", 50000, floor=True)


SCENARIOS = [("hotpath", scenario_hotpath), ("startup", scenario_startup), ("throughput", scenario_throughput),
             ("overload", scenario_overload), ("latency", scenario_latency),
             ("latency_floor", scenario_latency_floor), ("polling", scenario_polling),
             ("trades", scenario_trades), ("trades_bbo", scenario_trades_bbo), ("scale", scenario_scale),
             ("instruments", scenario_instruments),
             ("book_apply", scenario_book_apply), ("books", scenario_books), ("book_latency", scenario_book_latency)]


def main():
    if not os.environ.get("TICKD_TEST_REDIS_PORT"):
        print("bench: no servers (run through scripts/bench.sh)", file=sys.stderr)
        return 2
    started = datetime.datetime.now()
    for name, fn in SCENARIOS:
        if ONLY and name not in ONLY:
            continue
        print("bench: %s" % name, flush=True)
        try:
            fn()
        except Exception as e:  # one broken scenario must not lose the others' figures
            row("%s: did not complete" % name, str(e).splitlines()[0][:80] if str(e) else type(e).__name__, "",
                False, "")
        finally:
            cleanup()
    load = open("/proc/loadavg").read().split()[:3]
    lines = ["# tickd benchmark, %s" % started.strftime("%Y-%m-%d %H:%M"), "",
             "Machine: %d cores, load average at the end %s (other work shares the cores). Build: %s. "
             "Step window %.0f s, scale window %.0f s." % (os.cpu_count(), " ".join(load), h.BUILD, STEP,
                                                           SCALE_SECONDS), "",
             "| figure | value | target | verdict | command |", "|---|---|---|---|---|"]
    lines += ["| %s |" % " | ".join(r) for r in rows]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    out_dir = os.path.join(h.ROOT, "bench", "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, started.strftime("%Y-%m-%d-%H%M") + ".md")
    with open(path, "w") as f:
        f.write(text)
    print("bench: table written to %s" % path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
