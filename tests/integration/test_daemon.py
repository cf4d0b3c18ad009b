"""The daemon as an operator runs it: the sd_notify protocol, SIGHUP reload, SIGTERM under load, stats lines,
`tickd status`, the systemd unit, `make install`, and what happens when Redis or RabbitMQ is down at start.

Every check asserts an outcome or an order, never a speed: the machine is shared."""
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time

import harness as h

suite = h.Suite("daemon")
SYMBOLS = ["BTC-USDT", "ETH-USDT"]


def tickd(config_text, env=None, status_args=None, stderr_pipe=False):
    """h.Tickd whose notify socket is read all the time, as systemd does. A unix datagram socket queues only a
    few messages (net.unix.max_dgram_qlen, 10 by default); sd_notify() blocks when the queue is full, and with it
    tickd's loop. So a test that does not read for a while (one STATUS a second) would hang the daemon."""
    d = h.Tickd(config_text, env=env, status_args=status_args, stderr_pipe=stderr_pipe)
    lock = threading.Lock()
    read = d.poll_notify
    done = threading.Event()

    def poll():
        with lock:
            try:
                return read()
            except OSError:  # closed by stop()
                return d.messages

    def drain():
        while not done.is_set() and d.proc.poll() is None:
            poll()
            time.sleep(0.1)

    d.poll_notify = poll
    threading.Thread(target=drain, daemon=True).start()
    h.on_cleanup(done.set)
    return d


def unique_prefix(name):
    """A key prefix of this run alone: Redis keeps keys across runs, and its compare-and-set rightly refuses a
    new run's lower sequence numbers under an old run's keys."""
    return "%s%d-%d" % (name, os.getpid(), int(time.time() * 1000) % 1000000)


def logfmt(line):
    """The key=value pairs of one logfmt line (quoted values unquoted)."""
    return {k: v.strip('"') for k, v in re.findall(r'(\w+)=("[^"]*"|\S+)', line)}


def stats_lines(d, msg):
    return [logfmt(l) for l in d.log_lines(r"component=stats msg=%s\b" % msg)]


def sanitizer_clean(d):
    """Under SANITIZE=1 a report goes to the daemon's stderr, which is its log."""
    text = open(d.log).read()
    h.check("AddressSanitizer" not in text and "runtime error" not in text and "LeakSanitizer" not in text,
            "sanitizer report in tickd's log:\n" + d.tail(80))


def signal_and_wait(d, sig, timeout=30):
    """Sends sig and waits for tickd to exit; returns its exit status. The notify socket stays open (stop()
    closes it), so the messages sent up to the end can still be read."""
    d.signal(sig)
    try:
        return d.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise h.CheckFailed("tickd did not exit within %ds of signal %d; log:\n%s" % (timeout, sig, d.tail()))


def stop_clean(d, timeout=20):
    rc = d.stop(timeout)
    h.check(rc == 0, "tickd exit status %r, not 0; log:\n%s" % (rc, d.tail()))
    sanitizer_clean(d)


def limiter_used(status_text, source, kind):
    """`used` of the first limiter window of that kind under the source in `tickd status`."""
    block = re.search(r"^  %s .*?(?=^  \S|^\S)" % re.escape(source), status_text, re.M | re.S)
    h.check(block, "source %s not in status:\n%s" % (source, status_text))
    m = re.search(r"limit %s\s+used (\d+) of (\d+)" % kind, block.group(0))
    h.check(m, "no %s window for %s in status:\n%s" % (kind, source, status_text))
    return int(m.group(1))


def venue_report(fx, venue):
    return fx.report()["venues"][venue]


# ---- sd_notify ----

@suite.test
def notify_ready_status_watchdog_reloading_stopping_in_order():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)]), env={"WATCHDOG_USEC": "400000"})
    ready = d.wait_ready()
    status = d.wait_message("STATUS=", after=ready)
    h.check(re.match(r"STATUS=groups 1 running, 0 restarting, 0 parked", d.messages[status]),
            "STATUS line: %r" % d.messages[status])
    watchdog = d.wait_message("WATCHDOG=1", after=ready)
    # A ticks/s summary arrives with the first stats line.
    tps = d.wait_message("STATUS=", after=status + 1)
    h.check("ticks/s" in d.messages[tps], "STATUS without ticks/s: %r" % d.messages[tps])
    mark = len(d.poll_notify())
    d.signal(signal.SIGHUP)
    reloading = d.wait_message("RELOADING=1", after=mark)
    ready2 = d.wait_message("READY=1", after=reloading)
    h.check(d.wait_message("WATCHDOG=1", after=ready2) > ready2, "no WATCHDOG after the reload")
    h.check(d.proc.poll() is None, "tickd exited on SIGHUP")
    h.check(signal_and_wait(d, signal.SIGTERM) == 0, "exit status not 0; log:\n" + d.tail())
    msgs = d.poll_notify()  # the datagrams stay queued on our socket after tickd exits
    stop_clean(d)
    stopping = [i for i, m in enumerate(msgs) if m.startswith("STOPPING=1")]
    h.check(stopping and stopping[0] > ready2, "STOPPING=1 not after the reload's READY: %r" % msgs[-8:])
    h.check(watchdog > ready and reloading > watchdog, "order: %r" % msgs)
    h.check(not any(m.startswith("READY=1") for m in msgs[stopping[0]:]), "READY after STOPPING: %r" % msgs)


@suite.test
def sigint_stops_like_sigterm():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    d = tickd(h.config(fx, [h.group("okx", SYMBOLS)]))
    d.wait_ready()
    rc = signal_and_wait(d, signal.SIGINT)
    h.check("STOPPING=1" in d.poll_notify(), "no STOPPING=1 on SIGINT: %r" % d.messages)
    h.check(rc == 0, "exit status %r on SIGINT; log:\n%s" % (rc, d.tail()))
    h.check(d.log_lines(r"msg=stopping reason=SIGINT") and d.log_lines(r"msg=\"sinks flushed and closed\""),
            "stop lines:\n" + d.tail())
    sanitizer_clean(d)


# ---- SIGHUP reload ----

@suite.test
def reload_adds_removes_changes_and_keeps_groups():
    h.need_servers()
    fx = h.Fakex(symbols=["BTC-USDT", "ETH-USDT", "SOL-USDT"], rate=20)
    keep_a = h.group("binance", ["BTC-USDT"], name="bn-a", poll="1s")
    keep_b = h.group("binance", ["ETH-USDT"], name="bn-b")
    gone = h.group("coinbase", ["BTC-USDT"], name="cb")
    change = h.group("kraken", ["BTC-USDT"], name="kr")
    before = [keep_a, keep_b, gone, change]
    prefix = unique_prefix("reload")
    d = tickd(h.config(fx, before, prefix=prefix))
    d.wait_ready()
    # Let the binance poller spend some weight, so the limiter has a memory to keep.
    h.wait_until(lambda: limiter_used(d.status(), "binance", "weight") >= 2, 10, "binance weight used")
    rep = fx.report()["venues"]
    h.check(rep["binance"]["ws_connects"] == 2, "binance ws connects before: %r" % rep["binance"]["ws_connects"])
    h.check(rep["coinbase"]["open_connections"] >= 1, "coinbase not connected")
    kraken_before = rep["kraken"]["ws_connects"]
    weight_before = limiter_used(d.status(), "binance", "weight")
    connects_before = limiter_used(d.status(), "binance", "connects")

    changed = dict(change, symbols=["BTC-USDT", "SOL-USDT"])
    added = h.group("okx", ["ETH-USDT"], name="ok")
    d.write_config(h.config(fx, [keep_a, keep_b, changed, added], prefix=prefix))
    mark = len(d.poll_notify())
    d.signal(signal.SIGHUP)
    d.wait_message("READY=1", after=d.wait_message("RELOADING=1", after=mark))
    h.wait_until(lambda: d.log_lines(r"msg=reloaded "), 10, "the reloaded line")
    line = logfmt(d.log_lines(r"msg=reloaded ")[-1])
    h.check((line["groups_added"], line["groups_changed"], line["groups_removed"], line["groups_kept"])
            == ("1", "1", "1", "2"), "reload summary: %r" % line)

    h.wait_until(lambda: venue_report(fx, "okx")["ws_connects"] >= 1, 15, "the new okx group to connect")
    h.wait_until(lambda: venue_report(fx, "kraken")["ws_connects"] > kraken_before, 15,
                 "the changed kraken group to reconnect")
    h.wait_until(lambda: venue_report(fx, "coinbase")["open_connections"] == 0, 15,
                 "the removed coinbase group's connections to close")
    out = h.wait_until(lambda: (lambda s: s if "group ok " in s and re.search(r"group kr\s+running\s+ready=yes", s)
                                else None)(d.status()), 15, "groups ok and kr running")
    h.check("group cb " not in out, "removed group still in status:\n" + out)
    # The kept groups were not touched: no new binance connection, and the source's limiter kept its counts.
    time.sleep(1.0)
    h.check(venue_report(fx, "binance")["ws_connects"] == 2,
            "kept binance groups reconnected: ws_connects=%d" % venue_report(fx, "binance")["ws_connects"])
    h.check(limiter_used(out, "binance", "weight") >= weight_before,
            "binance limiter reset by the reload: weight %d -> %d" % (weight_before,
                                                                      limiter_used(out, "binance", "weight")))
    h.check(limiter_used(out, "binance", "connects") >= connects_before, "binance connect window reset")
    # The changed group now serves its new symbol.
    redis = h.Redis()
    h.wait_until(lambda: redis.hgetall(prefix + ":quote:kraken:SOL-USDT").get("bid"), 10, "kraken SOL-USDT in redis")
    stop_clean(d)


@suite.test
def reload_with_an_invalid_config_keeps_everything_running():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    groups = [h.group("binance", SYMBOLS, name="bn"), h.group("okx", SYMBOLS, name="ok")]
    prefix = unique_prefix("invalid")
    good = h.config(fx, groups, prefix=prefix)
    d = tickd(good)
    d.wait_ready()
    connects = {v: venue_report(fx, v)["connects"] for v in ("binance", "okx")}
    d.write_config(good + '\n[[group]]\nname = "broken"\nsource = "nowhere"\nsymbols = ["BTC-USDT"]\nbogus = 1\n')
    mark = len(d.poll_notify())
    d.signal(signal.SIGHUP)
    d.wait_message("READY=1", after=d.wait_message("RELOADING=1", after=mark))
    refused = h.wait_until(lambda: d.log_lines(r"reload refused"), 10, "the refusal in the log")
    h.check(d.log_lines(r"component=config msg=invalid .*bogus"), "the log does not say why:\n" + d.tail())
    h.check(refused, "no refusal line")
    # Data keeps flowing through the same connections.
    redis = h.Redis()
    key = prefix + ":quote:okx:BTC-USDT"
    seq = redis.hgetall(key).get("recv_ts")
    h.wait_until(lambda: redis.hgetall(key).get("recv_ts") != seq, 10, "new okx ticks")
    h.check({v: venue_report(fx, v)["connects"] for v in ("binance", "okx")} == connects,
            "an invalid reload reconnected something: %r -> %r"
            % (connects, {v: venue_report(fx, v)["connects"] for v in ("binance", "okx")}))
    out = d.status()
    h.check("group bn " in out and "group ok " in out and "broken" not in out, "status:\n" + out)
    # The file fixed again, a SIGHUP applies it: nothing changed, every group kept.
    d.write_config(good)
    d.signal(signal.SIGHUP)
    line = h.wait_until(lambda: d.log_lines(r"msg=reloaded "), 10, "a reload of the fixed file")
    h.check("groups_kept=2" in line[-1], "reload of the same config: " + line[-1])
    stop_clean(d)


# ---- SIGTERM under load ----

@suite.test
def sigterm_under_load_flushes_the_sinks_and_exits_0():
    h.need_servers()
    redis = h.Redis()
    prefix = unique_prefix("term")
    fx = h.Fakex(symbols=SYMBOLS, rate=300)  # fakex drops frames for a client that falls behind: stay below that
    tap = h.AmqpTap()
    d = tickd(h.config(fx, [h.group(v, SYMBOLS) for v in h.VENUES], prefix=prefix))
    d.wait_ready()
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 8, 15, "a quote per venue and symbol")
    # Hold Redis writes, so that what fakex sends last is still in tickd's Redis sink when SIGTERM comes: the
    # sink must write it during shutdown. Reads still work during a WRITE pause.
    redis.cmd("CLIENT", "PAUSE", "30000", "WRITE")
    h.on_cleanup(lambda: redis.cmd("CLIENT", "UNPAUSE"))
    time.sleep(0.3)
    fx.set("all", stall=1)
    last = {(v, s): fx.last(v, s) for v in h.VENUES for s in SYMBOLS}
    fields = ("bid", "ask")  # what every venue's feed carries (Coinbase's ticker has no sizes)

    def matches(got, k):
        return all(got.get(f) == last[k][f] for f in fields)

    def amqp_final():
        final = {}
        for m in list(tap.messages):
            if "body" in m:
                final[(m["body"]["venue"], m["body"]["symbol"])] = m["body"]
        return final

    # RabbitMQ is not held: once the consumer has fakex's last values, tickd has ingested them all (a frame still
    # unread in a socket when the sources stop is rightly lost, so the test must not SIGTERM before that).
    dropped = {v: venue_report(fx, v)["dropped"] for v in h.VENUES}
    h.wait_until(lambda: all(k in amqp_final() and matches(amqp_final()[k], k) for k in last), 30,
                 "fakex's last values on RabbitMQ (frames fakex dropped for a slow client: %r)" % dropped)
    quote = lambda k: redis.hgetall("%s:quote:%s:%s" % (prefix, k[0], k[1]))
    behind = [k for k in last if not matches(quote(k), k)]
    h.check(behind, "Redis already had every last value before SIGTERM: the pause did not hold writes")
    d.signal(signal.SIGTERM)
    h.wait_until(lambda: d.log_lines(r"msg=\"sources stopped; flushing sinks\""), 20, "the sources to stop")
    redis.cmd("CLIENT", "UNPAUSE")
    try:
        rc = d.proc.wait(30)
    except subprocess.TimeoutExpired:
        raise h.CheckFailed("tickd did not exit after SIGTERM; log:\n" + d.tail())
    h.check(rc == 0, "exit status %r; log:\n%s" % (rc, d.tail()))
    sanitizer_clean(d)
    for k in last:
        h.check(matches(quote(k), k), "%s %s after stop: redis %r, fakex sent %r (behind before SIGTERM: %r)"
                % (k[0], k[1], quote(k), last[k], behind))
    tap.stop()


# ---- stats lines and tickd status ----

@suite.test
def stats_lines_per_source_and_sink_and_a_summary():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS, poll="1s"), h.group("okx", SYMBOLS)], stats="1s"))
    d.wait_ready()
    h.wait_until(lambda: len(stats_lines(d, "summary")) >= 3, 15, "three stats summaries")
    sources = {l["source"]: l for l in stats_lines(d, "source")}
    h.check(set(sources) == {"binance", "okx"}, "stats sources: %r" % sorted(sources))
    for name, l in sources.items():
        for f in ("frames", "frames_per_s", "ticks", "malformed", "requests", "rate_limited", "connects", "limiter",
                  "queued", "paused"):
            h.check(f in l, "source stats %s lacks %s: %r" % (name, f, l))
    h.check(int(sources["binance"]["frames"]) > 0 and int(sources["binance"]["requests"]) > 0,
            "binance counters: %r" % sources["binance"])
    h.check(re.match(r"weight:\d+/6000/60s", sources["binance"]["limiter"]), "headroom: %r" % sources["binance"])
    r = stats_lines(d, "redis")[-1]
    for f in ("ready", "writes", "writes_per_s", "batches", "pending", "reconnects", "errors"):
        h.check(f in r, "redis stats lacks %s: %r" % (f, r))
    h.check(r["ready"] == "yes" and int(r["writes"]) > 0, "redis stats: %r" % r)
    # How stale Redis is: an interval that wrote something has lag figures, ordered, and within reason (a
    # written tick's answer from a local Redis comes well within the 1 s interval).
    lagged = [l for l in stats_lines(d, "redis") if int(l.get("lag_max_us", 0)) > 0]
    h.check(lagged, "no redis stats line with lag figures: %r" % r)
    for l in lagged:
        q = [int(l[k]) for k in ("lag_p50_us", "lag_p99_us", "lag_p999_us", "lag_max_us")]
        h.check(0 < q[0] <= q[1] <= q[2] <= q[3] < 1000000, "redis lag figures: %r" % l)
    # From the venue's event time (fakex's OKX tickers carry one; Binance's bookTicker none) to Redis's answer.
    evented = [l for l in stats_lines(d, "redis") if int(l.get("event_lag_max_us", 0)) > 0]
    h.check(evented, "no redis stats line with event lag figures: %r" % r)
    for l in evented:
        q = [int(l[k]) for k in ("event_lag_p50_us", "event_lag_p99_us", "event_lag_p999_us", "event_lag_max_us")]
        h.check(0 < q[0] <= q[1] <= q[2] <= q[3] < 1000000, "redis event lag figures: %r" % l)
    a = stats_lines(d, "rabbitmq")[-1]
    for f in ("connected", "published", "published_per_s", "confirmed", "depth", "inflight", "window", "reconnects",
              "dropped"):
        h.check(f in a, "rabbitmq stats lacks %s: %r" % (f, a))
    h.check(8 <= int(a["window"]) <= 4096, "rabbitmq window: %r" % a)
    h.check(a["connected"] == "yes" and int(a["published"]) > 0, "rabbitmq stats: %r" % a)
    s = stats_lines(d, "summary")[-1]
    for f in ("groups", "running", "ready", "restarting", "parked", "tasks", "ticks_per_s", "ticks", "accepted",
              "stale", "duplicates"):
        h.check(f in s, "summary lacks %s: %r" % (f, s))
    h.check((s["groups"], s["running"], s["tasks"]) == ("2", "2", "3"), "summary: %r" % s)
    # One line per source and sink per interval: as many source lines of each as summaries (give or take the
    # interval in progress).
    n = len(stats_lines(d, "summary"))
    for name in sources:
        k = len([l for l in stats_lines(d, "source") if l["source"] == name])
        h.check(abs(k - n) <= 1, "%d stats lines of %s for %d summaries" % (k, name, n))
    stop_clean(d)


@suite.test
def status_shows_groups_tasks_restarts_last_error_and_headroom():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    groups = [h.group("binance", SYMBOLS, name="bn", poll="1s"),
              h.group("kraken", SYMBOLS, name="kr", stale_after="1s")]
    d = tickd(h.config(fx, groups))
    d.wait_ready()
    fx.set("kraken", stall=1)  # kraken's stream goes quiet: its task fails as stale, the group restarts
    out = h.wait_until(lambda: (lambda s: s if re.search(r"group kr .*restarts=[1-9]", s) else None)(d.status()),
                       20, "kr restarted")
    fx.set("kraken", stall=0)
    h.check(re.search(r"^tickd \S+ pid %d uptime \d+s" % d.proc.pid, out, re.M), "header:\n" + out)
    h.check(re.search(r"^  group bn\s+running\s+ready=yes restarts=0$", out, re.M), "group bn:\n" + out)
    h.check(re.search(r"^    task poll\s+running\s+ready=yes", out, re.M), "task poll:\n" + out)
    h.check(re.search(r"^    task stream\s+running\s+ready=yes", out, re.M), "task stream:\n" + out)
    h.check(re.search(r"^  group kr\s+\S+\s+ready=\S+ restarts=[1-9]\d* last_error=\S", out, re.M),
            "kr's restarts and last error:\n" + out)
    for kind in ("weight", "requests", "connects"):
        h.check(re.search(r"limit %s\s+used \d+ of \d+ per \d+ ms \(headroom \d+\)" % kind, out),
                "no %s headroom:\n%s" % (kind, out))
    h.check(re.search(r"^  redis\s+ready=yes", out, re.M) and re.search(r"^  rabbitmq connected=yes", out, re.M),
            "sinks:\n" + out)
    stop_clean(d)


# ---- the systemd unit and make install ----

def unit_copy(dest_dir, tickd):
    """The unit with /usr/local/bin/tickd pointing at the built binary (verify checks that it exists)."""
    text = open(os.path.join(h.ROOT, "systemd", "tickd.service")).read()
    path = os.path.join(dest_dir, "tickd.service")
    with open(path, "w") as f:
        f.write(text.replace("/usr/local/bin/tickd", tickd))
    return path


@suite.test
def systemd_analyze_verify_passes_on_the_unit():
    if not shutil.which("systemd-analyze"):
        h.skip("systemd-analyze is not installed (package systemd)")
    d = h.tmpdir()
    unit = unit_copy(d, h.TICKD)
    # At the default level verify hides lines it ignores (a bad value is "Invalid syntax, ignoring"): read debug.
    env = dict(os.environ, SYSTEMD_LOG_LEVEL="debug")
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True, timeout=60, cwd=d,
                       env=env)
    # systemd 252's own @system-service list names syscalls its seccomp library may not know: not our lines.
    ignored = [l for l in r.stderr.splitlines()
               if re.search(r"tickd\.service:\d+: ", l) and "Failed to parse system call" not in l]
    h.check(r.returncode == 0 and not ignored,
            "systemd-analyze verify: exit %d\n%s" % (r.returncode, "\n".join(ignored) or r.stderr[-3000:]))
    text = open(unit).read()
    for want in ("Type=notify", "WatchdogSec=", "RestartPreventExitStatus=78", "DynamicUser=yes",
                 "ExecStartPre=%s --check-config" % h.TICKD, "ExecReload=/bin/kill -HUP $MAINPID",
                 "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "UMask=0077", "LoadCredential=",
                 "SetCredential=", "Restart=on-failure", "ProtectSystem=strict", "RestrictAddressFamilies=",
                 "ProtectProc=invisible", "ProcSubset=pid", "SystemCallFilter=~@privileged @resources",
                 "PrivateUsers=yes"):
        h.check(want in text, "unit lacks %r" % want)
    # The exposure systemd-analyze gives this unit (1.1; 1.8 before ProtectProc, ProcSubset, PrivateUsers,
    # PrivateMounts and the @privileged/@resources filter): a line dropped from the unit shows here.
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", "--threshold=11", unit],
                       capture_output=True, text=True, timeout=60, cwd=d)
    h.check(r.returncode == 0, "systemd-analyze security: more exposed than 1.1\n%s" % r.stdout[-3000:])


@suite.test
def the_unit_checks_the_installed_example_config():
    """What ExecStartPre runs, on the example config: it must pass, or the unit never starts."""
    r = subprocess.run([h.TICKD, "--check-config", "-c", os.path.join(h.ROOT, "config", "tickd.toml")],
                       capture_output=True, text=True, timeout=20)
    h.check(r.returncode == 0, "example config: %s%s" % (r.stdout, r.stderr))


@suite.test
def make_install_into_destdir_keeps_an_edited_config():
    if not shutil.which("make"):
        h.skip("make is not installed")
    dest = h.tmpdir()
    build = os.path.relpath(h.BUILD, h.ROOT)

    def install():
        # -o: install the binary this run tests, never relink it (a sanitizer build would be relinked without
        # the sanitizer flags, which make does not know about).
        r = subprocess.run(["make", "-s", "-C", h.ROOT, "BUILD=%s" % build, "-o", "%s/tickd" % build, "install",
                            "DESTDIR=%s" % dest, "PREFIX=/usr/local"], capture_output=True, text=True, timeout=300)
        h.check(r.returncode == 0, "make install: %s%s" % (r.stdout, r.stderr))
        return r.stdout

    install()
    binary = os.path.join(dest, "usr/local/bin/tickd")
    unit = os.path.join(dest, "lib/systemd/system/tickd.service")
    conf = os.path.join(dest, "etc/tickd/tickd.toml")
    h.check(os.access(binary, os.X_OK), "no executable %s" % binary)
    h.check(os.path.isfile(unit), "no unit at %s" % unit)
    h.check(open(conf).read() == open(os.path.join(h.ROOT, "config", "tickd.toml")).read(), "example config")
    r = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    h.check(r.returncode == 0 and r.stdout.startswith("tickd "), "installed binary: %r" % r.stdout)
    # The unit names the binary where PREFIX put it.
    h.check("ExecStart=/usr/local/bin/tickd " in open(unit).read(), "unit ExecStart does not match PREFIX")
    # An operator's edit survives a second install.
    with open(conf, "a") as f:
        f.write("\n# edited by the operator\n")
    edited = open(conf).read()
    install()
    h.check(open(conf).read() == edited, "a second make install overwrote the edited config")
    # The config and credentials directory must not be world-readable (it holds password files).
    for cred in ("redis-password", "rabbitmq-password"):
        p = os.path.join(dest, "etc/tickd", cred)
        if os.path.exists(p):
            h.check(os.stat(p).st_mode & 0o077 == 0, "%s is readable by others" % p)


# ---- sinks down at start ----

@suite.test
def redis_down_at_start_then_up_writes_and_reports_ready():
    h.need_servers()
    redis = h.Redis()
    prefix = unique_prefix("late")
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    h.servers("redis_stop")
    h.on_cleanup(lambda: h.servers("redis_start"))
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)], prefix=prefix))
    time.sleep(2.0)
    d.poll_notify()
    h.check(d.proc.poll() is None, "tickd exited with Redis down; log:\n" + d.tail())
    h.check("READY=1" not in d.messages, "READY before Redis was there: %r" % d.messages)
    # A reload before READY must not report READY either (the startup check still owes it).
    d.signal(signal.SIGHUP)
    h.wait_until(lambda: d.log_lines(r"msg=reloaded "), 10, "the reload")
    d.wait_message("RELOADING=1")
    time.sleep(0.3)
    h.check("READY=1" not in d.poll_notify(), "READY after a reload while Redis is down: %r" % d.messages)
    h.check(re.search(r"^  redis\s+ready=no", d.status(), re.M), "status while Redis is down:\n" + d.status())
    h.servers("redis_start")
    d.wait_ready(timeout=30)
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 2, 20, "quotes written once Redis came")
    stop_clean(d)


@suite.test
def rabbitmq_down_at_start_ready_degraded_then_publishes():
    h.need_servers()
    fx = h.Fakex(symbols=SYMBOLS, rate=20)
    h.servers("rabbit_stop")
    restarted = []
    h.on_cleanup(lambda: restarted or h.servers("rabbit_start"))
    redis = h.Redis()
    prefix = unique_prefix("norabbit")
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)], prefix=prefix))
    # Redis is written at once; READY waits for RabbitMQ up to its limit, then comes degraded.
    h.wait_until(lambda: len(redis.keys(prefix + ":quote:*")) == 2, 20, "quotes in Redis without RabbitMQ")
    d.wait_ready(timeout=60)
    h.check(d.log_lines(r"msg=\"ready, degraded\" .*rabbitmq=down"), "no degraded READY line:\n" + d.tail())
    h.servers("rabbit_start")
    restarted.append(1)
    tap = h.AmqpTap()
    h.wait_until(lambda: any("body" in m for m in tap.messages), 60, "a RabbitMQ message once the broker came")
    stop_clean(d)



# ---- start failures ----

@suite.test
def a_start_failure_exits_70_without_a_crash():
    """amqps:// with a CA file that does not exist passes --check-config and fails the start: the daemon closes
    what it had made (status socket, signals, timers) and exits 70, which systemd's Restart=on-failure retries,
    rather than crash on the parts it never made."""
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=20)
    text = h.config(fx, groups=[h.group("binance", SYMBOLS)])
    text = text.replace('url = "%s"' % os.environ.get("TICKD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f"),
                        'url = "amqps://guest:guest@localhost:5671/%2f"\nca_file = "/nonexistent/tickd-ca.pem"')
    h.check("amqps://" in text, "config without amqps:\n" + text)
    d = h.Tickd(text)
    check = subprocess.run([h.TICKD, "--check-config", "-c", d.config_path], capture_output=True, text=True)
    h.check(check.returncode == 0, "--check-config refused it: %s" % check.stderr)
    try:
        rc = d.proc.wait(20)
    except subprocess.TimeoutExpired:
        raise h.CheckFailed("tickd did not exit after a failed start; log:\n" + d.tail())
    h.check(rc == 70, "exit status %r, not 70; log:\n%s" % (rc, d.tail()))
    h.check(d.log_lines(r'msg="cannot start the RabbitMQ sink" error="No such file or directory" '
                        r'ca_file=/nonexistent/tickd-ca.pem'), "no clear error about the CA file:\n" + d.tail())
    h.check(d.log_lines(r"msg=stopped exit_status=70"), "no clean stop line:\n" + d.tail())
    sanitizer_clean(d)
    h.check(not os.path.exists(d.status_socket), "status socket left behind")


# ---- the status socket ----

def quotes_flow(prefix, n=len(SYMBOLS)):
    redis = h.Redis()
    return h.wait_until(lambda: len(redis.keys("%s:quote:*" % prefix)) >= n, 20, "quotes in Redis")


def runs_without_status_socket(d, prefix, reason):
    d.wait_ready()
    quotes_flow(prefix)
    lines = d.log_lines(r'msg="status socket not available: running without it"')
    h.check(len(lines) == 1 and reason in lines[0], "not one clear line about the status socket:\n" + d.tail())
    h.check(d.proc.poll() is None, "tickd exited; log:\n" + d.tail())
    stop_clean(d)


def no_system_runtime_dir():
    if os.path.isdir("/run/tickd"):
        h.skip("/run/tickd exists here: the default path would be that one")


@suite.test
def status_socket_in_a_missing_directory_runs_without_it():
    h.need_servers()
    prefix = unique_prefix("nodir")
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=20)
    missing = os.path.join(h.tmpdir(), "no-such-dir", "status.sock")
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)], prefix=prefix), status_args=["-s", missing])
    runs_without_status_socket(d, prefix, 'error="No such file or directory"')


@suite.test
def status_socket_path_taken_by_another_listener_runs_without_it():
    """A local user who listens at the path first: the daemon neither aborts nor takes the path over."""
    h.need_servers()
    no_system_runtime_dir()
    xdg = h.tmpdir()
    os.mkdir(os.path.join(xdg, "tickd"), 0o700)
    path = os.path.join(xdg, "tickd", "status.sock")
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    squatter.bind(path)
    squatter.listen(4)
    h.on_cleanup(squatter.close)
    prefix = unique_prefix("taken")
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=20)
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)], prefix=prefix),
              env={"XDG_RUNTIME_DIR": xdg, "RUNTIME_DIRECTORY": ""}, status_args=[])
    runs_without_status_socket(d, prefix, "the path is taken")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.connect(path)  # still the other listener's
    probe.close()


@suite.test
def status_socket_by_default_in_a_private_directory():
    h.need_servers()
    no_system_runtime_dir()
    xdg = h.tmpdir()
    env = {"XDG_RUNTIME_DIR": xdg, "RUNTIME_DIRECTORY": ""}
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=20)
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)]), env=env, status_args=[])
    d.wait_ready()
    st = os.lstat(os.path.join(xdg, "tickd"))
    h.check(st.st_mode & 0o777 == 0o700, "directory mode %o, not 0700" % (st.st_mode & 0o777))
    r = subprocess.run([h.TICKD, "status"], capture_output=True, text=True, timeout=5, env=dict(os.environ, **env))
    h.check(r.returncode == 0 and "groups:" in r.stdout, "tickd status: %r %r" % (r.stdout, r.stderr))
    stop_clean(d)
    h.check(not os.path.exists(os.path.join(xdg, "tickd", "status.sock")), "socket left behind")


# ---- a stderr nobody reads ----

def stalled_stderr_daemon(prefix):
    """tickd on one venue, its stderr a pipe the test does not read (a stalled journald), with quotes flowing."""
    h.need_servers()
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=50)
    d = tickd(h.config(fx, [h.group("binance", SYMBOLS)], prefix=prefix), stderr_pipe=True)
    d.wait_ready()
    quotes_flow(prefix)
    return d


def flood_the_log(d, reloads=40):
    """Reloads a config with 300 unknown keys: each refused reload logs ~100 error lines (~13 KB), so 40 of them
    are far more than a pipe (64 KB) and tickd's log queue (256 KB) hold."""
    good = open(d.config_path).read()
    d.write_config(good.replace("[daemon]", "[daemon]\n" + "".join("bogus_key_%d = 1\n" % i for i in range(300)), 1))
    for _ in range(reloads):
        d.signal(signal.SIGHUP)
        time.sleep(0.05)
    d.write_config(good)


def answers_and_keeps_writing(d, prefix):
    """With stderr full: `tickd status` answers and quotes keep changing in Redis."""
    try:
        r = subprocess.run([h.TICKD, "status", "-s", d.status_socket], capture_output=True, text=True, timeout=10)
    except subprocess.TimeoutExpired:
        raise h.CheckFailed("tickd status did not answer while tickd's stderr was full")
    h.check(r.returncode == 0 and "groups:" in r.stdout, "tickd status: %r %r" % (r.stdout, r.stderr))
    redis = h.Redis()
    key = "%s:quote:binance:%s" % (prefix, SYMBOLS[0])
    before = redis.hgetall(key)
    h.wait_until(lambda: redis.hgetall(key) != before, 10, "the quote to change in Redis while stderr was full")


class PipeReader:
    """Reads tickd's stderr pipe in a thread from the moment it is made, as a log shipper that recovers would."""

    def __init__(self, d):
        self.data = b""
        self.thread = threading.Thread(target=self._read, args=(d.proc.stderr,), daemon=True)
        self.thread.start()

    def _read(self, f):
        while True:
            chunk = os.read(f.fileno(), 65536)
            if not chunk:
                return
            self.data += chunk

    def text(self):
        return self.data.decode("utf-8", "replace")


def check_whole_lines(text):
    """Every line a whole logfmt line: a timestamp first, a level, and the line's end."""
    h.check(text.endswith("\n"), "the output ends inside a line: %r" % text[-300:])
    for line in text.splitlines():
        h.check(re.match(r"ts=\S+ level=(error|warn|info|debug) component=\S+ msg=", line),
                "a line that is not whole: %r" % line[:300])


@suite.test
def a_stalled_stderr_never_blocks_and_dropped_lines_are_counted():
    prefix = unique_prefix("stall")
    d = stalled_stderr_daemon(prefix)
    flood_the_log(d)
    answers_and_keeps_writing(d, prefix)
    # The reader recovers: what waited arrives, then one line with how many were dropped, without tickd having
    # to log anything new (its flush timer sends them).
    reader = PipeReader(d)
    dropped = h.wait_until(lambda: re.findall(r'msg="log lines dropped[^\n]* dropped=(\d+)\n', reader.text()), 15,
                           "the count of dropped lines once stderr was read again")
    h.check(len(dropped) == 1 and int(dropped[0]) > 0, "not one count of dropped lines: %r" % dropped)
    rc = signal_and_wait(d, signal.SIGTERM)
    reader.thread.join(10)
    text = reader.text()
    h.check(rc == 0, "exit status %r; log:\n%s" % (rc, text[-3000:]))
    check_whole_lines(text)
    h.check('msg=stopped exit_status=0' in text, "the last lines were not written at exit:\n" + text[-3000:])
    h.check("AddressSanitizer" not in text and "runtime error" not in text and "LeakSanitizer" not in text,
            "sanitizer report in tickd's log:\n" + text[-5000:])


@suite.test
def sigterm_is_honoured_while_a_stalled_stderr_is_full():
    prefix = unique_prefix("stallterm")
    d = stalled_stderr_daemon(prefix)
    flood_the_log(d)
    answers_and_keeps_writing(d, prefix)
    rc = signal_and_wait(d, signal.SIGTERM, timeout=20)
    h.check(rc == 0, "exit status %r after SIGTERM with stderr full" % rc)
    reader = PipeReader(d)
    reader.thread.join(10)
    check_whole_lines(reader.text())


suite.run()
