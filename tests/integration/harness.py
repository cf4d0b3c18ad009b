"""harness.py -- what every integration test uses: the real tickd, the real fakex, the real servers.

    import harness as h
    suite = h.Suite("sources")

    @suite.test
    def stream_ticks_are_exact():
        fx = h.Fakex(symbols=["BTC-USDT"], rate=50)
        d = h.Tickd(h.config(fx, groups=[h.group("binance", ["BTC-USDT"], stream=True)]))
        d.wait_ready()
        ...
        h.check(cond, "what went wrong")      # a failed check ends the test with that message

    suite.run()   # prints "# passed=N failed=M skipped=K" (what scripts/run-tests.sh adds up)

Every process a test starts is stopped when the test ends, pass or fail. Servers come from the environment that
scripts/run-tests.sh sets up (tests/lib/servers.sh); without them a test is skipped with a message.
Python standard library only: a fresh Debian machine has python3 and nothing else.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request

ROOT = os.environ.get("TICKD_ROOT", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
TICKD = os.path.join(BUILD, "tickd")
FAKEX = os.path.join(BUILD, "fakex")
AMQP_TAP = os.path.join(BUILD, "tools", "amqp_tap")
SERVERS_SH = os.path.join(ROOT, "tests", "lib", "servers.sh")
VENUES = ("binance", "coinbase", "kraken", "okx")


class CheckFailed(Exception):
    pass


class Skip(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def skip(msg):
    raise Skip(msg)


def wait_until(fn, timeout, what, interval=0.05):
    """Polls fn() until it returns a true value (returned) or timeout seconds pass (a failed check)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise CheckFailed("timed out after %.1fs waiting for %s (last: %r)" % (timeout, what, last))


_cleanups = []


def on_cleanup(fn):
    _cleanups.append(fn)


class Suite:
    def __init__(self, name):
        self.name = name
        self.tests = []

    def test(self, fn):
        self.tests.append(fn)
        return fn

    def run(self):
        only = os.environ.get("TICKD_TEST_CASE")
        passed = failed = skipped = 0
        for fn in self.tests:
            if only and only not in fn.__name__:
                continue
            start = time.monotonic()
            try:
                fn()
                status = "ok  "
                passed += 1
            except Skip as e:
                status = "skip"
                skipped += 1
                print("    skipped: %s" % e, file=sys.stderr)
            except CheckFailed as e:
                status = "FAIL"
                failed += 1
                print("    %s" % e, file=sys.stderr)
            except Exception:
                status = "FAIL"
                failed += 1
                traceback.print_exc()
            finally:
                while _cleanups:
                    try:
                        _cleanups.pop()()
                    except Exception:
                        traceback.print_exc()
            print("%s %s (%.1fs)" % (status, fn.__name__, time.monotonic() - start), file=sys.stderr, flush=True)
        print("# passed=%d failed=%d skipped=%d" % (passed, failed, skipped), flush=True)
        sys.exit(1 if failed else 0)


def need_servers():
    if not os.environ.get("TICKD_TEST_REDIS_PORT") or not os.environ.get("TICKD_TEST_AMQP_URL"):
        skip("no test servers (run through scripts/run-tests.sh, which starts redis-server and rabbitmq-server)")


def servers(action):
    """redis_stop | redis_start | rabbit_stop | rabbit_start, on the run's private servers."""
    subprocess.run([SERVERS_SH, action], check=True, stdout=subprocess.DEVNULL)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def checked_test(suite, procs):
    """A decorator for a suite's tests that start processes: procs is the test file's list of (what, log path,
    Tickd or None), emptied before each test. After the test every tickd in it is stopped and must exit 0, and
    no log in it may hold a sanitizer report, so the same file checks the SANITIZE=1 build."""
    def deco(fn):
        def run():
            del procs[:]
            fn()
            for what, log, d in procs:
                if d is not None:
                    rc = d.stop()
                    check(rc == 0, "%s exited with %s; log:\n%s" % (what, rc, d.tail()))
            for what, log, d in procs:
                text = open(log, errors="replace").read() if os.path.exists(log) else ""
                for mark in SANITIZER_MARKS:
                    at = text.find(mark)
                    check(at < 0, "%s log holds a sanitizer report:\n%s" % (what, text[max(0, at - 200):at + 3000]))
        run.__name__ = fn.__name__
        return suite.test(run)
    return deco


def tmpdir():
    """A directory for one test's files (configs, logs), removed when the test ends unless TICKD_TEST_KEEP is set."""
    d = tempfile.mkdtemp(prefix="tickd-it-")
    if os.environ.get("TICKD_TEST_KEEP"):
        print("    kept: %s" % d, file=sys.stderr)
    else:
        on_cleanup(lambda: subprocess.run(["rm", "-rf", d]))
    return d


# ---- Redis (RESP over a plain socket) ----

class Redis:
    def __init__(self, port=None):
        self.port = int(port or os.environ["TICKD_TEST_REDIS_PORT"])

    def cmd(self, *args):
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            f = s.makefile("rb")
            return self._read(f)

    def _read(self, f):
        line = f.readline()
        if not line:
            raise ConnectionError("redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError("redis error: " + rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = f.read(n + 2)[:-2]
            return data.decode("utf-8", "replace")
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self._read(f) for _ in range(n)]
        raise RuntimeError("bad redis reply %r" % line)

    def hgetall(self, key):
        flat = self.cmd("HGETALL", key) or []
        return dict(zip(flat[0::2], flat[1::2]))

    def keys(self, pattern):
        return sorted(self.cmd("KEYS", pattern) or [])

    def flush(self):
        self.cmd("FLUSHALL")


# ---- fakex ----

class Fakex:
    """The fake exchange, all four venues (or some) on loopback ports it picks."""

    def __init__(self, venue="all", symbols=("BTC-USDT", "ETH-USDT"), rate=20, scenario=None, sets=None, args=()):
        self.dir = tmpdir()
        listed = ",".join(symbols)
        if len(listed) > 65536:  # beyond what one command-line argument may hold
            path = os.path.join(self.dir, "symbols.txt")
            with open(path, "w") as f:
                f.write("\n".join(symbols) + "\n")
            listed = "@" + path
        cmd = [FAKEX, "--venue", venue, "--port", "0", "--control-port", "0", "--rate", str(rate),
               "--symbols", listed, "--log-level", "warn"]
        if scenario:
            cmd += ["--scenario", scenario]
        if sets:
            cmd += ["--set", "&".join("%s=%s" % kv for kv in sets.items())]
        cmd += list(args)
        self.log = os.path.join(self.dir, "fakex.log")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True)
        on_cleanup(self.stop)
        line = self.proc.stdout.readline()
        m = dict(re.findall(r"(\w+)=127\.0\.0\.1:(\d+)", line))
        check("control" in m, "fakex did not start: %r; log: %s" % (line, self._tail()))
        self.control_port = int(m.pop("control"))
        self.ports = {k: int(v) for k, v in m.items()}

    def _tail(self):
        try:
            return open(self.log).read()[-2000:]
        except OSError:
            return ""

    def url(self, path, method="GET"):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control_port, path), method=method)
        with urllib.request.urlopen(req, timeout=5) as r:
            return json.loads(r.read() or b"null")

    def report(self):
        return self.url("/_fakex/report")

    def set(self, venue="all", **kv):
        q = "&".join("%s=%s" % (k, v) for k, v in kv.items())
        return self.url("/_fakex/set?venue=%s&%s" % (venue, q), method="POST")

    def last(self, venue, symbol):
        return self.report()["venues"][venue]["symbols"][symbol]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- configs ----

def group(source, symbols, name=None, stream=True, poll=None, restart="permanent", stale_after=None, max_age=None,
          channel=None, depth=None, book_deltas=None):
    """A [[group]] on `source` with a stream task and/or a poll task (poll = interval string), collecting
    `channel` (the default, bbo, when None); a book stream's depth and book_deltas when given."""
    return {"name": name or "%s-g" % source, "source": source, "symbols": list(symbols), "stream": stream,
            "poll": poll, "restart": restart, "stale_after": stale_after, "max_age": max_age, "channel": channel,
            "depth": depth, "book_deltas": book_deltas}


def config(fx, groups, prefix=None, limits=None, stats="1s", supervisor=None, extra="", redis=None, rabbitmq=None,
           sources=None):
    """TOML for tickd: one [[source]] per venue of fakex that a group uses (sources: {venue: {key: value}} added to
    its [[source]]), the test servers as sinks."""
    redis_port = os.environ.get("TICKD_TEST_REDIS_PORT", "6379")
    amqp = os.environ.get("TICKD_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f")
    out = ['[daemon]', 'log_level = "info"', 'stats_interval = "%s"' % stats, '',
           '[redis]', 'url = "redis://127.0.0.1:%s/0"' % redis_port]
    if prefix:
        out.append('key_prefix = "%s"' % prefix)
    out += ['%s = %s' % (k, json.dumps(v)) for k, v in (redis or {}).items()]
    out += ['', '[rabbitmq]', 'url = "%s"' % amqp]
    out += ['%s = %s' % (k, json.dumps(v)) for k, v in (rabbitmq or {}).items()]
    out.append('')
    sup = {"backoff_min": "50ms", "backoff_max": "500ms"}
    sup.update(supervisor or {})
    out.append("[supervisor]")
    out += ['%s = %s' % (k, json.dumps(v)) for k, v in sup.items()]
    out.append("")
    for venue in sorted({g["source"] for g in groups}):
        port = fx.ports[venue]
        out += ['[[source]]', 'name = "%s"' % venue, 'venue = "%s"' % venue,
                'rest_url = "http://127.0.0.1:%d"' % port, 'ws_url = "ws://127.0.0.1:%d"' % port]
        out += ['%s = %s' % (k, json.dumps(v)) for k, v in (sources or {}).get(venue, {}).items()]
        lim = (limits or {}).get(venue)
        if lim:
            out.append("  [source.limits]")
            out += ['  %s = %d' % kv for kv in lim.items()]
        out.append("")
    for g in groups:
        out += ['[[group]]', 'name = "%s"' % g["name"], 'source = "%s"' % g["source"],
                'restart = "%s"' % g["restart"], 'symbols = %s' % json.dumps(g["symbols"])]
        if g["stream"]:
            out += ['  [[group.task]]', '  kind = "stream"']
            if g.get("channel"):
                out.append('  channel = "%s"' % g["channel"])
            if g["stale_after"]:
                out.append('  stale_after = "%s"' % g["stale_after"])
            if g.get("max_age"):
                out.append('  max_age = "%s"' % g["max_age"])
            if g.get("depth"):
                out.append('  depth = %d' % g["depth"])
            if g.get("book_deltas") is not None:
                out.append('  book_deltas = %s' % ("true" if g["book_deltas"] else "false"))
        if g["poll"]:
            out += ['  [[group.task]]', '  kind = "poll"', '  interval = "%s"' % g["poll"]]
            if g.get("channel"):
                out.append('  channel = "%s"' % g["channel"])
        out.append("")
    return "\n".join(out) + extra


# ---- tickd ----

class Tickd:
    """The real daemon. READY is observed through a NOTIFY_SOCKET the harness listens on, as systemd would."""

    def __init__(self, config_text, env=None, name="tickd", status_args=None, stderr_pipe=False):
        """status_args replaces ["-s", <a socket in the test's directory>] (e.g. [] for the default path).
        stderr_pipe: stderr is a pipe (self.proc.stderr, binary) that the test reads, or does not, instead of a file
        (tail() and log_lines() then see nothing)."""
        self.dir = tmpdir()
        self.config_path = os.path.join(self.dir, "%s.toml" % name)
        self.write_config(config_text)
        self.log = os.path.join(self.dir, "%s.log" % name)
        self.status_socket = os.path.join(self.dir, "status.sock")
        self.notify_path = os.path.join(self.dir, "notify.sock")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        self.notify.settimeout(0.1)
        self.messages = []
        # Read the notify socket all the time, as systemd does: a full socket queue must never be what a test sees.
        self._notify_stop = False
        self._notify_thread = threading.Thread(target=self._drain_notify, daemon=True)
        self._notify_thread.start()
        e = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        e.update(env or {})
        if status_args is None:
            status_args = ["-s", self.status_socket]
        self.proc = subprocess.Popen([TICKD, "-c", self.config_path] + list(status_args),
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE if stderr_pipe else open(self.log, "w"), env=e)
        on_cleanup(self.stop)

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def _drain_notify(self):
        while not self._notify_stop:
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except (socket.timeout, BlockingIOError):
                continue
            except OSError:
                return

    def poll_notify(self):
        return self.messages

    def wait_message(self, prefix, timeout=10, after=0):
        """Waits for a notify message starting with prefix, beyond index `after`; returns its index."""
        def seen():
            self.poll_notify()
            for i, m in enumerate(self.messages[after:], after):
                if m.startswith(prefix):
                    return i + 1
            check(self.proc.poll() is None, "tickd exited (%s) while waiting for %s; log:\n%s"
                  % (self.proc.returncode, prefix, self.tail()))
            return 0
        return wait_until(seen, timeout, "%s from tickd" % prefix) - 1

    def wait_ready(self, timeout=15):
        return self.wait_message("READY=1", timeout)

    def status(self):
        r = subprocess.run([TICKD, "status", "-s", self.status_socket], capture_output=True, text=True, timeout=5)
        return r.stdout

    def signal(self, sig):
        self.proc.send_signal(sig)

    def tail(self, n=60):
        try:
            return "".join(open(self.log).readlines()[-n:])
        except OSError:
            return ""

    def log_lines(self, pattern):
        try:
            return [l for l in open(self.log) if re.search(pattern, l)]
        except OSError:
            return []

    def rss_kb(self):
        try:
            for line in open("/proc/%d/status" % self.proc.pid):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def stop(self, timeout=20):
        """SIGTERM and wait; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise CheckFailed("tickd did not stop within %ds; log:\n%s" % (timeout, self.tail()))
        self._notify_stop = True
        self._notify_thread.join(2)
        self.notify.close()
        return self.proc.returncode


class AmqpTap:
    """A consumer bound to the tickd exchange, collecting every message (as parsed JSON lines) in a thread."""

    def __init__(self, binding="tick.#", exchange="tickd"):
        self.messages = []
        self.proc = subprocess.Popen([AMQP_TAP, os.environ["TICKD_TEST_AMQP_URL"], exchange, binding],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        on_cleanup(self.stop)
        line = self.proc.stderr.readline()
        check(line.strip() == "ready", "amqp_tap did not start: %r" % line)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            try:
                m = json.loads(line)
                m["body"] = json.loads(m["body"])
                self.messages.append(m)
            except ValueError:
                self.messages.append({"raw": line})

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(5)
        self.thread.join(5)
