"""Trades across a RabbitMQ outage: the real tickd, fakex, Redis and a real rabbitmq-server stopped and started.

  nothing lost     the broker stops for 10 s and starts again: with the default trade_buffer every trade fakex
                   sent from the first one tickd published is in the consumer's queue, in id order per instrument
                   (a trade seen twice after the reconnect is allowed: the sink documents at-least-once delivery and
                   its message id tells; the test reports how many)
  oldest dropped   trade_buffer = 65536 and a high trade rate: the outage overflows the buffer; the trades missing
                   from the consumer are exactly trades_dropped (and the sum of the drop log lines), and they are the
                   oldest of the outage (the drop lines' time range covers each of them, every trade delivered after
                   them is newer)

The consumer: amqp_tap's queue is exclusive and auto-delete, so it dies with the broker and whatever tickd publishes
before a new tap binds is routed nowhere -- it could not tell a trade tickd lost from one the test missed. Here a
DURABLE named queue is declared and bound to trade.# before tickd starts (through a minimal AMQP 0-9-1 client below,
standard library only); tickd's exchange is durable and its messages persistent, so the queue, its binding and every
message the broker confirmed survive the restart, and the queue is drained once the market is still and tickd's
trade buffer is empty.

Every test ends by stopping tickd (exit status 0) and fails when tickd's or fakex's log holds a sanitizer report.
"""
import json
import os
import re
import socket
import struct
import threading
import time
import urllib.request

import harness as h

suite = h.Suite("trades_broker")
DENSE = ("binance", "coinbase", "kraken")  # OKX trade ids grow with skips: a missing one cannot be told
SYMS = ("BTC-USDT", "ETH-USDT")
SUPERVISOR = {"backoff_min": "50ms", "backoff_max": "500ms", "max_restarts": 64, "restart_window": "1s"}
OUTAGE_S = 10

_procs = []


test = h.checked_test(suite, _procs)


# ---- a minimal AMQP 0-9-1 client: a durable queue that outlives the broker's restart ----

def _shortstr(s):
    b = s.encode()
    return struct.pack("!B", len(b)) + b


def _longstr(b):
    return struct.pack("!I", len(b)) + b


class Amqp:
    """One connection, one channel (1): enough to declare, bind, count, drain (basic.get) and delete a queue."""

    def __init__(self, url=None):
        m = re.match(r"amqp://([^:]*):([^@]*)@([^:/]+):(\d+)/", url or os.environ["TICKD_TEST_AMQP_URL"])
        h.check(m, "cannot read the AMQP URL %r" % url)
        user, password, host, port = m.group(1), m.group(2), m.group(3), int(m.group(4))
        self.sock = socket.create_connection((host, port), timeout=10)
        self.buf = b""
        self.sock.sendall(b"AMQP\x00\x00\x09\x01")
        self._expect(0, 10, 10)  # connection.start
        self._method(0, 10, 11, struct.pack("!I", 0) + _shortstr("PLAIN")
                     + _longstr(b"\0" + user.encode() + b"\0" + password.encode()) + _shortstr("en_US"))
        args = self._expect(0, 10, 30)  # connection.tune
        channel_max, frame_max, _ = struct.unpack("!HIH", args[:8])
        self.frame_max = min(frame_max or 131072, 131072)
        self._method(0, 10, 31, struct.pack("!HIH", channel_max, self.frame_max, 0))  # no heartbeats
        self._method(0, 10, 40, _shortstr("/") + _shortstr("") + b"\0")
        self._expect(0, 10, 41)
        self._method(1, 20, 10, _shortstr(""))
        self._expect(1, 20, 11)

    # frames
    def _send(self, kind, channel, payload):
        self.sock.sendall(struct.pack("!BHI", kind, channel, len(payload)) + payload + b"\xce")

    def _method(self, channel, cls, meth, args):
        self._send(1, channel, struct.pack("!HH", cls, meth) + args)

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self):
        while True:
            kind, channel, size = struct.unpack("!BHI", self._read(7))
            payload = self._read(size + 1)[:-1]
            if kind == 8:  # heartbeat
                continue
            return kind, channel, payload

    def _expect(self, channel, cls, meth):
        kind, ch, payload = self._frame()
        got = struct.unpack("!HH", payload[:4]) if kind == 1 else None
        if got in ((10, 50), (20, 40)):  # connection.close, channel.close: code, text
            code = struct.unpack("!H", payload[4:6])[0]
            raise RuntimeError("broker closed: %d %s" % (code, payload[7:7 + payload[6]].decode(errors="replace")))
        h.check(kind == 1 and ch == channel and got == (cls, meth),
                "AMQP: expected %d.%d on channel %d, got frame %d on %d: %r" % (cls, meth, channel, kind, ch, got))
        return payload[4:]

    # methods
    def exchange_declare(self, exchange, kind="topic"):
        # durable, not auto-delete: as tickd declares it
        self._method(1, 40, 10, struct.pack("!H", 0) + _shortstr(exchange) + _shortstr(kind) + b"\x02"
                     + struct.pack("!I", 0))
        self._expect(1, 40, 11)

    def queue_declare(self, queue, passive=False):
        """Durable, neither exclusive nor auto-delete. Returns the messages it holds."""
        bits = 0x02 | (0x01 if passive else 0)
        self._method(1, 50, 10, struct.pack("!H", 0) + _shortstr(queue) + bytes([bits]) + struct.pack("!I", 0))
        args = self._expect(1, 50, 11)
        n = args[0]
        return struct.unpack("!I", args[1 + n:5 + n])[0]

    def queue_bind(self, queue, exchange, key):
        self._method(1, 50, 20, struct.pack("!H", 0) + _shortstr(queue) + _shortstr(exchange) + _shortstr(key)
                     + b"\0" + struct.pack("!I", 0))
        self._expect(1, 50, 21)

    def queue_delete(self, queue):
        self._method(1, 50, 40, struct.pack("!H", 0) + _shortstr(queue) + b"\0")
        self._expect(1, 50, 41)

    def get(self, queue):
        """basic.get with no-ack: a message as amqp_tap prints it (routing_key, message_id, body), or None."""
        self._method(1, 60, 70, struct.pack("!H", 0) + _shortstr(queue) + b"\x01")
        kind, ch, payload = self._frame()
        cls, meth = struct.unpack("!HH", payload[:4])
        if (cls, meth) == (60, 72):
            return None
        h.check((cls, meth) == (60, 71), "AMQP: basic.get answered %d.%d" % (cls, meth))
        p = 4 + 8 + 1  # delivery tag, redelivered
        p += 1 + payload[p]  # exchange
        key = payload[p + 1:p + 1 + payload[p]].decode()
        kind, ch, header = self._frame()
        size, flags = struct.unpack("!QH", header[4:14])
        props, q = {}, 14
        for bit, name, t in ((15, "content_type", "s"), (14, "content_encoding", "s"), (13, "headers", "t"),
                             (12, "delivery_mode", "o"), (11, "priority", "o"), (10, "correlation_id", "s"),
                             (9, "reply_to", "s"), (8, "expiration", "s"), (7, "message_id", "s"),
                             (6, "timestamp", "q")):
            if not flags & (1 << bit):
                continue
            if t == "s":
                props[name] = header[q + 1:q + 1 + header[q]].decode()
                q += 1 + header[q]
            elif t == "t":
                q += 4 + struct.unpack("!I", header[q:q + 4])[0]
            elif t == "o":
                props[name] = header[q]
                q += 1
            else:
                props[name] = struct.unpack("!Q", header[q:q + 8])[0]
                q += 8
        body = b""
        while len(body) < size:
            kind, ch, chunk = self._frame()
            body += chunk
        m = {"routing_key": key, "body": json.loads(body)}
        m.update(props)
        return m

    def drain(self, queue):
        out = []
        while True:
            m = self.get(queue)
            if m is None:
                return out
            out.append(m)

    def close(self):
        try:
            self._method(0, 10, 50, struct.pack("!HH", 200, 0) + _shortstr("bye") + struct.pack("!HH", 0, 0))
            self._expect(0, 10, 51)
        except Exception:
            pass
        self.sock.close()


class DurableQueue:
    """A durable named queue bound to the tickd exchange, declared before tickd starts and deleted when the test
    ends. Nobody consumes it until drain()."""

    def __init__(self, binding="trade.#", exchange="tickd"):
        self.name = "it-trades-broker-%d-%d" % (os.getpid(), int(time.monotonic() * 1000))
        self.exchange = exchange
        a = Amqp()
        try:
            a.exchange_declare(exchange)
            a.queue_declare(self.name)
            a.queue_bind(self.name, exchange, binding)
        finally:
            a.close()
        h.on_cleanup(self.delete)

    def depth(self):
        try:
            a = Amqp()
        except OSError:
            return -1
        try:
            return a.queue_declare(self.name, passive=True)
        finally:
            a.close()

    def drain(self):
        a = Amqp()
        try:
            return a.drain(self.name)
        finally:
            a.close()

    def delete(self):
        try:
            a = Amqp()
            a.queue_delete(self.name)
            a.close()
        except Exception:
            pass  # the broker is down: the next run uses another name


# ---- helpers (as test_trades.py's) ----

def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=1).close()
        return True
    except OSError:
        return False


def stats(d, what):
    """The newest stats line of `what` (rabbitmq, summary) as a dict of its key=value pairs."""
    lines = [l for l in d.log_lines(r'component=stats msg="?%s"? ' % what)]
    out = {}
    for word in (lines[-1].split() if lines else []):
        if "=" in word:
            k, v = word.split("=", 1)
            out[k] = v.strip('"')
    return out


def stat_int(d, what, key):
    try:
        return int(stats(d, what).get(key, "0"))
    except ValueError:
        return 0


def start(venues, rate, **kw):
    fx = h.Fakex(symbols=SYMS, rate=rate)
    _procs.append(("fakex", fx.log, None))
    prefix = "trb%d" % int(time.monotonic() * 1000)
    groups = [h.group(v, SYMS, channel="trades") for v in venues]
    d = h.Tickd(h.config(fx, groups, prefix=prefix, supervisor=SUPERVISOR, **kw))
    d.prefix = prefix
    _procs.append(("tickd", d.log, d))
    d.wait_ready(30)
    return fx, d


def outage(seconds, before_start=None):
    """Stops the broker, waits `seconds` from the moment it is down (then calls before_start, if any), starts it
    again. Returns the times (wall µs) at which it was stopped and answered again."""
    h.servers("rabbit_stop")
    h.on_cleanup(lambda: None if port_open(os.environ["TICKD_TEST_AMQP_PORT"]) else h.servers("rabbit_start"))
    down_us = int(time.time() * 1e6)
    time.sleep(seconds)
    if before_start:
        before_start()
    h.servers("rabbit_start")
    return down_us, int(time.time() * 1e6)


def still_and_settled(fx, d, q):
    """Stills fakex's market, then waits until tickd holds no trade (trade_depth=0 in a stats line written after
    the market stilled) and the queue's count has stopped moving for a second. Returns fakex's report."""
    fx.set("all", heartbeats_only=1)
    mark = len(d.log_lines(r"component=stats msg=rabbitmq "))
    h.wait_until(lambda: len(d.log_lines(r"component=stats msg=rabbitmq ")) > mark + 1
                 and stat_int(d, "rabbitmq", "trade_depth") == 0 and stats(d, "rabbitmq").get("connected") == "yes",
                 60, "tickd's trade buffer empty after the outage (%s)" % stats(d, "rabbitmq"))
    last, since, deadline = -2, time.monotonic(), time.monotonic() + 30
    while time.monotonic() - since < 1.0 and time.monotonic() < deadline:
        time.sleep(0.2)
        n = q.depth()
        if n != last:
            last, since = n, time.monotonic()
    return fx.report()["venues"]


def by_instrument(msgs, venues):
    """{(venue, symbol): [message, ...]} in the queue's order, each message checked for its key, id and body."""
    out = {(v, s): [] for v in venues for s in SYMS}
    for m in msgs:
        b = m["body"]
        v, s = b.get("venue"), b.get("symbol")
        h.check((v, s) in out, "a trade of an unexpected instrument: %r" % m)
        h.check(m["routing_key"] == "trade.%s.%s" % (v, s), "routing key %r for %s %s" % (m["routing_key"], v, s))
        h.check(m.get("message_id") == "%s:%s:%s" % (v, s, b["id"]), "%s %s: message id %r" % (v, s, m.get("message_id")))
        h.check(m.get("delivery_mode") == 2, "%s %s: delivery mode %r (not persistent)" % (v, s, m.get("delivery_mode")))
        h.check(b["side"] in ("buy", "sell") and float(b["price"]) > 0 and float(b["qty"]) > 0 and b["recv_us"] > 0,
                "%s %s: body %s" % (v, s, b))
        out[(v, s)].append(m)
    return out


def first_copies(msgs):
    """The messages with each message id's first copy only, and how many copies came again."""
    seen, out = set(), []
    for m in msgs:
        if m["message_id"] not in seen:
            seen.add(m["message_id"])
            out.append(m)
    return out, len(msgs) - len(out)


def binance_recent_trades(fx, symbol):
    """fakex's last 1000 Binance trades of `symbol`: {id: time in µs} (the REST time is in ms, as the stream's)."""
    url = "http://127.0.0.1:%d/api/v3/trades?symbol=%s&limit=1000" % (fx.ports["binance"], symbol.replace("-", ""))
    with urllib.request.urlopen(url, timeout=5) as r:
        return {int(t["id"]): int(t["time"]) * 1000 for t in json.loads(r.read())}


# ---- 1. nothing lost ----

@test
def a_broker_restart_loses_no_trade():
    """The broker stops for 10 s while fakex keeps trading on three venues. tickd holds the trades (default
    trade_buffer, 64 MiB) and publishes them once the broker is back: the durable queue holds every trade from the
    first one tickd published to the last fakex sent, per instrument in id order, no hole; nothing dropped."""
    h.need_servers()
    q = DurableQueue()
    fx, d = start(DENSE, rate=100)
    h.wait_until(lambda: stats(d, "rabbitmq").get("connected") == "yes" and stat_int(d, "rabbitmq", "trades_confirmed")
                 >= 50, 15, "trades confirmed before the outage (%s)" % stats(d, "rabbitmq"))
    time.sleep(1.0)
    before = stats(d, "rabbitmq")
    down_us, up_us = outage(OUTAGE_S)
    during = [l for l in d.log_lines(r"component=stats msg=rabbitmq connected=no")]
    h.check(during, "no stats line showed tickd disconnected during the outage")
    held = max(int(re.search(r"\btrade_depth=(\d+)", l).group(1)) for l in during)
    h.wait_until(lambda: stat_int(d, "rabbitmq", "reconnects") >= 1, 45, "tickd reconnected to RabbitMQ")
    time.sleep(1.0)  # fresh trades through the new connection
    rep = still_and_settled(fx, d, q)
    msgs = q.drain()
    after = stats(d, "rabbitmq")
    inst = by_instrument(msgs, DENSE)
    counts, dups_total = {}, 0
    for (v, s), ms in sorted(inst.items()):
        h.check(ms, "no %s %s trade reached the queue" % (v, s))
        firsts, dups = first_copies(ms)
        dups_total += dups
        ids = [int(m["body"]["id"]) for m in firsts]
        h.check(all(a < b for a, b in zip(ids, ids[1:])), "%s %s: ids not strictly increasing: %s"
                % (v, s, [(a, b) for a, b in zip(ids, ids[1:]) if a >= b][:5]))
        holes = [(a, b) for a, b in zip(ids, ids[1:]) if b != a + 1]
        h.check(not holes, "%s %s: trades lost between %s (%d missing)"
                % (v, s, holes[:5], sum(b - a - 1 for a, b in holes)))
        want_last = int(rep[v]["symbols"][s]["last_trade_id"])
        h.check(ids[-1] == want_last, "%s %s: last trade %s, fakex sent %s" % (v, s, ids[-1], want_last))
        counts[(v, s)] = len(ids)
    in_outage = sum(1 for m in msgs if down_us <= m["body"]["event_us"] <= up_us)
    print("    trades in the queue: %s (%d from the outage, %d held by tickd at most); copies seen twice after the "
          "reconnect: %d" % (", ".join("%s %s %d" % (v, s, n) for (v, s), n in sorted(counts.items())), in_outage,
                             held, dups_total))
    print("    rabbitmq before: trades_confirmed=%s; after: trades=%s trades_confirmed=%s trades_dropped=%s "
          "reconnects=%s" % (before.get("trades_confirmed"), after.get("trades"), after.get("trades_confirmed"),
                              after.get("trades_dropped"), after.get("reconnects")))
    h.check(in_outage > 0 and held > 0, "no trade was held during the outage (held %d, %d in the outage window)"
            % (held, in_outage))
    h.check(stat_int(d, "rabbitmq", "trades_dropped") == 0, "trades dropped with the default buffer: %s" % after)
    h.check(not d.log_lines(r'msg="trades dropped'), "a drop was logged with the default buffer")


# ---- 2. a tiny buffer drops the oldest, and says so exactly ----

@test
def a_full_trade_buffer_drops_the_oldest_and_counts_them_exactly():
    """trade_buffer = 65536 (a few hundred trades) and fakex at 400 trades a second on Binance: the broker stops
    for 4 s, the buffer overflows; the market stills before the broker starts again. Once the broker is back and the
    trades published, the trades missing from the
    durable queue are as many as trades_dropped and as the drop lines' dropped= summed; each missing trade's time
    (from fakex's recent-trades ring, sampled through the outage) lies in a drop line's range; every trade
    delivered after the hole is at least as new as every missing one, every one before it at most as new."""
    h.need_servers()
    q = DurableQueue()
    fx, d = start(("binance",), rate=400, rabbitmq={"trade_buffer": 65536})
    times, stop = {s: {} for s in SYMS}, threading.Event()

    def sample():
        while not stop.is_set():
            for s in SYMS:
                try:
                    times[s].update(binance_recent_trades(fx, s))
                except OSError:
                    pass
            stop.wait(1.0)  # 200 trades a second per symbol: the ring of 1000 spans 5 s
    t = threading.Thread(target=sample, daemon=True)
    t.start()
    h.on_cleanup(stop.set)
    h.wait_until(lambda: stats(d, "rabbitmq").get("connected") == "yes" and stat_int(d, "rabbitmq", "trades_confirmed")
                 >= 200, 15, "trades confirmed before the outage (%s)" % stats(d, "rabbitmq"))
    time.sleep(1.0)
    # The market stills as the outage ends: every drop is the outage's (with trades still coming while the backlog
    # is published, the unconfirmed ones fill the 64 KiB and the oldest waiting go on being dropped: other holes).
    down_us, up_us = outage(4, before_start=lambda: (fx.set("all", heartbeats_only=1), time.sleep(0.3)))
    h.wait_until(lambda: stat_int(d, "rabbitmq", "reconnects") >= 1, 45, "tickd reconnected to RabbitMQ")
    time.sleep(1.0)
    rep = still_and_settled(fx, d, q)
    stop.set()
    t.join(5)
    for s in SYMS:
        times[s].update(binance_recent_trades(fx, s))
    msgs = q.drain()
    dropped_stat = stat_int(d, "rabbitmq", "trades_dropped")
    rc = d.stop()  # the sink's end logs what the drop lines' rate limit held back
    h.check(rc == 0, "tickd exited with %s; log:\n%s" % (rc, d.tail()))
    lines = d.log_lines(r'msg="trades dropped, the trade buffer is full"')
    ranges = []
    for l in lines:
        m = re.search(r"\bdropped=(\d+) from_us=(-?\d+) to_us=(-?\d+) trades_dropped=(\d+)", l)
        h.check(m, "a drop line without its fields: %s" % l)
        ranges.append(tuple(int(x) for x in m.groups()))
    dropped_lines = sum(r[0] for r in ranges)
    final_stat = int(re.search(r"\btrades_dropped=(\d+)", lines[-1]).group(1)) if lines else 0

    inst = by_instrument(msgs, ("binance",))
    missing, delivered, dups_total = {}, {}, 0
    for (v, s), ms in sorted(inst.items()):
        h.check(ms, "no %s %s trade reached the queue" % (v, s))
        firsts, dups = first_copies(ms)
        dups_total += dups
        ids = [int(m["body"]["id"]) for m in firsts]
        h.check(all(a < b for a, b in zip(ids, ids[1:])), "%s %s: ids not strictly increasing: %s"
                % (v, s, [(a, b) for a, b in zip(ids, ids[1:]) if a >= b][:5]))
        want_last = int(rep[v]["symbols"][s]["last_trade_id"])
        h.check(ids[-1] == want_last, "%s %s: last trade %s, fakex sent %s" % (v, s, ids[-1], want_last))
        have = set(ids)
        missing[s] = [i for i in range(ids[0], want_last + 1) if i not in have]
        delivered[s] = {int(m["body"]["id"]): int(m["body"]["event_us"]) for m in firsts}
        holes = [(a, b) for a, b in zip(ids, ids[1:]) if b != a + 1]
        h.check(len(holes) <= 1, "%s %s: the missing trades are not one run: holes %s" % (v, s, holes[:5]))
    n_missing = sum(len(x) for x in missing.values())
    print("    trades in the queue: %s; missing %d (%s); trades_dropped %d (stats), %d in %d drop line(s) "
          "(last says %d); copies seen twice: %d"
          % (", ".join("%s %d" % (s, len(delivered[s])) for s in SYMS), n_missing,
             ", ".join("%s %d" % (s, len(missing[s])) for s in SYMS), dropped_stat, dropped_lines, len(ranges),
             final_stat, dups_total))
    h.check(dropped_stat > 0, "the buffer did not overflow: %s" % stats(d, "rabbitmq"))
    # Delivered trades that a drop line's range takes in: what tickd counted dropped although the broker had it
    # (a trade in flight when the connection died comes back to the buffer unconfirmed, and may be dropped there).
    lo_drop, hi_drop = min(r[1] for r in ranges), max(r[2] for r in ranges)
    inside = sorted((t, s, i) for s in SYMS for i, t in delivered[s].items() if lo_drop <= t <= hi_drop)
    edge = ["%s %d..%d" % (s, missing[s][0] - 3, missing[s][0] - 1) for s in SYMS if missing[s]]
    print("    drop range %d..%d; delivered trades inside it: %d %s; delivered before each hole: %s; "
          "their times %s" % (lo_drop, hi_drop, len(inside), inside[:8], edge,
                              [(s, i, delivered[s].get(i)) for s in SYMS if missing[s]
                               for i in range(missing[s][0] - 3, missing[s][0])]))
    print("    rabbitmq stats lines around the stop: %s"
          % [re.sub(r".*(connected=\S+).*(trades_confirmed=\d+).*(trades_dropped=\d+ trade_depth=\d+).*"
                    r"(trade_inflight=\d+).*", r"\1 \2 \3 \4", l.strip())
             for l in d.log_lines(r"component=stats msg=rabbitmq ")][:12])
    h.check(n_missing == dropped_stat, "%d trades missing from the queue, trades_dropped=%d: %d delivered trades lie in "
            "the drop range (the oldest in flight when the connection died: requeued unconfirmed, then dropped and "
            "counted although the broker had them): %s" % (n_missing, dropped_stat, len(inside), inside[:8]))
    h.check(dropped_lines == dropped_stat == final_stat, "the drop lines sum to %d (the last says trades_dropped=%d), "
            "the stats say %d" % (dropped_lines, final_stat, dropped_stat))
    # the missing ones: their times, from fakex's ring
    unknown = [(s, i) for s in SYMS for i in missing[s] if i not in times[s]]
    h.check(not unknown, "%d missing trades not in fakex's sampled ring (e.g. %s)" % (len(unknown), unknown[:5]))
    outside = [(s, i, times[s][i]) for s in SYMS for i in missing[s]
               if not any(lo <= times[s][i] <= hi for _, lo, hi, _ in ranges)]
    h.check(not outside, "%d missing trades outside every drop line's time range %s: %s"
            % (len(outside), [(lo, hi) for _, lo, hi, _ in ranges], outside[:5]))
    miss_times = [times[s][i] for s in SYMS for i in missing[s]]
    lo_miss, hi_miss = min(miss_times), max(miss_times)
    before = [t for s in SYMS for i, t in delivered[s].items() if missing[s] and i < missing[s][0]]
    after = [t for s in SYMS for i, t in delivered[s].items() if missing[s] and i > missing[s][-1]]
    h.check(max(before) <= lo_miss, "a trade delivered before the hole (%d) is newer than a missing one (%d)"
            % (max(before), lo_miss))
    h.check(min(after) >= hi_miss, "a trade delivered after the hole (%d) is older than a missing one (%d)"
            % (min(after), hi_miss))
    print("    outage %.1f s (broker down at %d, up at %d); missing trades' times %d..%d; drop lines' ranges %s; "
          "delivered before the hole up to %d, after it from %d"
          % ((up_us - down_us) / 1e6, down_us, up_us, lo_miss, hi_miss, [(lo, hi) for _, lo, hi, _ in ranges],
             max(before), min(after)))
    h.check(down_us - 2000000 <= lo_miss and hi_miss <= up_us + 30000000, "the missing trades are not of the outage")


suite.run()
