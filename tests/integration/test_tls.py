"""https:// and wss:// end to end: a TLS front on loopback, with a certificate from a private CA made here with
openssl, forwards each connection to fakex's plain port. With `[source] ca_file` naming that CA, the poll task
(curl) and the stream task (libwebsockets) both deliver quotes; an unknown CA or a certificate for another host
name fails the handshake on tickd's side, logged with OpenSSL's or curl's reason, and the tasks are retried while
the daemon keeps running. `--check-config` refuses a ca_file it cannot read, naming the line."""
import asyncio
import logging
import os
import re
import shutil
import signal
import ssl
import subprocess
import threading

import harness as h

suite = h.Suite("tls")
STREAM_SYMBOL, POLL_SYMBOL = "BTC-USDT", "ETH-USDT"

_pki = {}


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tickd test %s" % name,
            "-keyout", "%s.key" % name, "-out", "%s.pem" % name, cwd=d)
    return os.path.join(d, "%s.pem" % name)


def make_server_cert(d, ca, name, san):
    with open(os.path.join(d, "%s.ext" % name), "w") as f:
        f.write("subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" % san)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name, "-keyout", "%s.key" % name,
            "-out", "%s.csr" % name, cwd=d)
    openssl("x509", "-req", "-in", "%s.csr" % name, "-CA", "%s.pem" % ca, "-CAkey", "%s.key" % ca,
            "-CAcreateserial", "-days", "2", "-extfile", "%s.ext" % name, "-out", "%s.pem" % name, cwd=d)
    return os.path.join(d, "%s.pem" % name), os.path.join(d, "%s.key" % name)


def pki():
    """Made once for the file: {"ca", "other_ca", "localhost": (cert, key), "wrong": (cert, key)}."""
    if _pki:
        return _pki
    if not shutil.which("openssl"):
        h.skip("no openssl command")
    import tempfile
    d = tempfile.mkdtemp(prefix="tickd-tls-")
    _cleanup_at_exit.append(lambda: shutil.rmtree(d, ignore_errors=True))
    _pki["ca"] = make_ca(d, "ca")
    _pki["other_ca"] = make_ca(d, "other")
    _pki["localhost"] = make_server_cert(d, "ca", "localhost", "DNS:localhost,IP:127.0.0.1")
    _pki["wrong"] = make_server_cert(d, "ca", "wrong.example", "DNS:wrong.example")
    return _pki


_cleanup_at_exit = []
logging.getLogger("asyncio").setLevel(logging.ERROR)  # its eof_received warnings after start_tls are noise


class TlsFront:
    """A TLS-terminating proxy on 127.0.0.1: each accepted connection is forwarded byte for byte to fakex's plain
    port. It records the first line and the Upgrade header of what each connection asked, and every handshake
    that failed or was abandoned before a request (a client that refused our certificate)."""

    def __init__(self, backend_port, cert, key):
        self.backend_port = backend_port
        self.requests = []   # (first line, websocket upgrade?)
        self.handshake_errors = []
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self.loop.set_exception_handler(self._on_loop_error)
        started = threading.Event()

        def run():
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            started.set()
            self.loop.run_forever()
            self.server.close()
            self.loop.run_until_complete(self.server.wait_closed())
            self.loop.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        h.check(started.wait(10), "the TLS front did not start")
        h.on_cleanup(self.stop)

    def _on_loop_error(self, loop, context):
        e = context.get("exception")
        self.handshake_errors.append(str(e) if e else context.get("message", "?"))

    async def _serve(self, reader, writer):
        # The handshake here rather than in start_server, which would only debug-log a failed one.
        try:
            await writer.start_tls(self.ctx)
        except (OSError, ssl.SSLError, ConnectionError) as e:
            self.handshake_errors.append(str(e))
            writer.close()
            return
        # Under TLS 1.3 the server's side of the handshake is done before the client has checked the
        # certificate: a client that refuses it sends its alert (or just closes) where the request would be.
        try:
            first = await reader.read(65536)
        except (OSError, ssl.SSLError) as e:
            first, why = b"", str(e)
        else:
            why = "closed before a request"
        if not first:
            self.handshake_errors.append(why)
            writer.close()
            return
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.backend_port)
        except OSError:
            writer.close()
            return
        head = first.split(b"\r\n\r\n", 1)[0].decode("latin-1")
        self.requests.append((head.split("\r\n", 1)[0],
                              bool(re.search(r"^upgrade:\s*websocket", head, re.I | re.M))))
        up_w.write(first)

        async def pump(src, dst):
            try:
                while True:
                    data = await src.read(65536)
                    if not data:
                        break
                    dst.write(data)
                    await dst.drain()
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                pass
            finally:
                try:
                    dst.close()
                except (OSError, RuntimeError):
                    pass

        await asyncio.gather(pump(reader, up_w), pump(up_r, writer))

    def stop(self):
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)


def tls_config(fx, front, ca_file, prefix):
    """binance over https:// and wss:// to the front at `localhost`: a stream-only group for one symbol and a
    poll-only group for the other, so each quote in Redis shows which transport carried it."""
    groups = [h.group("binance", [STREAM_SYMBOL], name="tls-stream"),
              h.group("binance", [POLL_SYMBOL], name="tls-poll", stream=False, poll="250ms")]
    # Restarts never park the groups: a refused certificate is retried for as long as the test watches.
    text = h.config(fx, groups=groups, prefix=prefix, supervisor={"max_restarts": 1000000})
    port = fx.ports["binance"]
    for old, new in (('rest_url = "http://127.0.0.1:%d"' % port, 'rest_url = "https://localhost:%d"' % front.port),
                     ('ws_url = "ws://127.0.0.1:%d"' % port,
                      'ws_url = "wss://localhost:%d"\nca_file = "%s"' % (front.port, ca_file))):
        h.check(old in text, "config without %s:\n%s" % (old, text))
        text = text.replace(old, new)
    return text


def sanitizer_clean(d):
    text = open(d.log).read()
    h.check("AddressSanitizer" not in text and "runtime error" not in text and "LeakSanitizer" not in text,
            "sanitizer report in tickd's log:\n" + d.tail(80))


def wait_logged(d, fn, timeout, what):
    """wait_until, with tickd's log in the failure message as it is then."""
    try:
        return h.wait_until(fn, timeout, what)
    except h.CheckFailed as e:
        raise h.CheckFailed("%s; log:\n%s" % (e, d.tail()))


def prefix_for(name):
    return "tls%d%s" % (os.getpid(), name)


@suite.test
def https_and_wss_with_the_private_ca_deliver_quotes():
    h.need_servers()
    p = pki()
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    front = TlsFront(fx.ports["binance"], *p["localhost"])
    prefix = prefix_for("ok")
    d = h.Tickd(tls_config(fx, front, p["ca"], prefix))
    d.wait_ready(30)
    redis = h.Redis()
    key = "%s:quote:binance:%s"
    h.wait_until(lambda: redis.hgetall(key % (prefix, STREAM_SYMBOL)).get("origin") == "stream", 20,
                 "a quote over wss:// in Redis")
    h.wait_until(lambda: redis.hgetall(key % (prefix, POLL_SYMBOL)).get("origin") == "rest", 20,
                 "a quote over https:// in Redis")
    h.check(any(up and line.startswith("GET /") for line, up in front.requests),
            "no websocket upgrade came through the TLS front: %r" % front.requests)
    h.check(any(not up and line.startswith("GET /api/") for line, up in front.requests),
            "no REST request came through the TLS front: %r" % front.requests)
    h.check(not front.handshake_errors, "handshakes failed: %r" % front.handshake_errors)
    h.check(not d.log_lines(r"msg=\"task failed"), "a task failed:\n" + d.tail())
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())
    sanitizer_clean(d)


def refused_and_retried(cert, ca_file, stream_reason, poll_reason, name):
    """Both tasks fail on tickd's side of the handshake with the given reasons (regular expressions), at least
    twice each (retried), nothing reaches fakex or Redis, and the daemon runs on and stops cleanly."""
    h.need_servers()
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    front = TlsFront(fx.ports["binance"], *cert)
    prefix = prefix_for(name)
    d = h.Tickd(tls_config(fx, front, ca_file, prefix))

    def failures(task, reason):
        return [l for l in d.log_lines(r"msg=\"task failed, cancelling the others\" group=tls-%s task=%s " % (task, task))
                if re.search(reason, l)]
    wait_logged(d, lambda: len(failures("stream", stream_reason)) >= 2, 30,
                "the stream task failing twice with %r" % stream_reason)
    wait_logged(d, lambda: len(failures("poll", poll_reason)) >= 2, 30,
                "the poll task failing twice with %r" % poll_reason)
    h.check(d.proc.poll() is None, "tickd exited; log:\n%s" % d.tail())
    h.check(not front.requests, "a request went through despite the certificate: %r" % front.requests)
    h.check(front.handshake_errors, "the front saw no failed handshake")
    h.check(not h.Redis().keys("%s:quote:*" % prefix), "quotes reached Redis")
    h.check(not d.log_lines(r"task=\w+ state=ready"), "a task became ready:\n" + d.tail())
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())
    sanitizer_clean(d)


@suite.test
def an_unknown_ca_is_refused_logged_and_retried():
    p = pki()
    refused_and_retried(p["localhost"], p["other_ca"], r"certificate verify failed: unable to get local issuer certificate",
                        r"SSL certificate problem: unable to get local issuer certificate", "unknown")


@suite.test
def a_certificate_for_another_host_name_is_refused():
    p = pki()
    refused_and_retried(p["wrong"], p["ca"], r"certificate verify failed: hostname mismatch",
                        r"no alternative certificate subject name matches target host name 'localhost'", "wrong")


@suite.test
def the_ca_file_is_its_sources_alone():
    """Two sources behind the same private CA in one daemon: the one with ca_file delivers, the one without
    refuses the certificate (the system's store lacks the CA): a CA file never leaks into another source."""
    h.need_servers()
    p = pki()
    fx = h.Fakex(venue="all", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    fronts = {v: TlsFront(fx.ports[v], *p["localhost"]) for v in ("binance", "kraken")}
    prefix = prefix_for("two")
    groups = [h.group(v, [STREAM_SYMBOL], name="%s-stream" % v) for v in fronts] + \
             [h.group(v, [POLL_SYMBOL], name="%s-poll" % v, stream=False, poll="250ms") for v in fronts]
    text = h.config(fx, groups=groups, prefix=prefix, supervisor={"max_restarts": 1000000})
    for v, front in fronts.items():
        port = fx.ports[v]
        text = text.replace('rest_url = "http://127.0.0.1:%d"' % port, 'rest_url = "https://localhost:%d"' % front.port)
        text = text.replace('ws_url = "ws://127.0.0.1:%d"' % port, 'ws_url = "wss://localhost:%d"' % front.port +
                            ('\nca_file = "%s"' % p["ca"] if v == "binance" else ""))
    h.check(text.count("ca_file") == 1 and text.count("https://localhost") == 2, "config:\n" + text)
    d = h.Tickd(text)
    for task in ("stream", "poll"):
        wait_logged(d, lambda: d.log_lines(r"msg=\"task failed.* group=kraken-%s task=%s .*unable to get local issuer "
                                           r"certificate" % (task, task)), 30, "kraken's %s refusing the CA" % task)
    redis = h.Redis()
    key = "%s:quote:binance:%s"
    wait_logged(d, lambda: redis.hgetall(key % (prefix, STREAM_SYMBOL)).get("origin") == "stream", 20,
                "binance's quote over wss://")
    wait_logged(d, lambda: redis.hgetall(key % (prefix, POLL_SYMBOL)).get("origin") == "rest", 20,
                "binance's quote over https://")
    h.check(not fronts["kraken"].requests, "a request reached kraken: %r" % fronts["kraken"].requests)
    h.check(not redis.keys("%s:quote:kraken:*" % prefix), "kraken quotes in Redis")
    h.check(not d.log_lines(r"msg=\"task failed.* group=binance-"), "a binance task failed:\n" + d.tail())
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())
    sanitizer_clean(d)


@suite.test
def a_reload_applies_a_changed_ca_file():
    """The source is rebuilt with the new file; its groups restart and connect."""
    h.need_servers()
    p = pki()
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    front = TlsFront(fx.ports["binance"], *p["localhost"])
    prefix = prefix_for("reload")
    d = h.Tickd(tls_config(fx, front, p["other_ca"], prefix))
    wait_logged(d, lambda: d.log_lines(r"msg=\"task failed.* task=stream .*certificate verify failed"), 30,
                "the stream task refusing the certificate")
    d.write_config(tls_config(fx, front, p["ca"], prefix))
    d.signal(signal.SIGHUP)
    wait_logged(d, lambda: d.log_lines(r"component=daemon msg=reloaded"), 10, "the reload")
    redis = h.Redis()
    key = "%s:quote:binance:%s"
    wait_logged(d, lambda: redis.hgetall(key % (prefix, STREAM_SYMBOL)).get("origin") == "stream", 20,
                "a quote over wss:// after the reload")
    wait_logged(d, lambda: redis.hgetall(key % (prefix, POLL_SYMBOL)).get("origin") == "rest", 20,
                "a quote over https:// after the reload")
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())
    sanitizer_clean(d)


@suite.test
def a_ca_file_without_certificates_trusts_nothing():
    """A readable file that holds no certificate passes --check-config but must not fall back to the system's
    store or to no verification: every connect fails, with the file named by curl and by libwebsockets."""
    h.need_servers()
    p = pki()
    bad = os.path.join(h.tmpdir(), "not-a-ca.pem")
    with open(bad, "w") as f:
        f.write("not a certificate\n")
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    front = TlsFront(fx.ports["binance"], *p["localhost"])
    d = h.Tickd(tls_config(fx, front, bad, prefix_for("bad")))
    wait_logged(d, lambda: d.log_lines(r"component=ws .*Unable to load SSL Client certs file from %s" % re.escape(bad)),
                30, "libwebsockets naming the file it could not load")
    wait_logged(d, lambda: d.log_lines(r"msg=\"task failed.* task=stream .*certificate verify failed"), 30,
                "the stream task failing on the certificate")
    wait_logged(d, lambda: d.log_lines(r"msg=\"task failed.* task=poll .*error setting certificate file: %s"
                                       % re.escape(bad)), 30, "the poll task failing on the file")
    h.check(not front.requests, "a request went through: %r" % front.requests)
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())
    sanitizer_clean(d)


# ---- Redis over TLS through stunnel (README, "TLS") ----

STUNNEL = os.environ.get("TICKD_TEST_STUNNEL") or shutil.which("stunnel4") or shutil.which("stunnel")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tls_redis_keys(port, ca, pattern):
    """KEYS over TLS straight to the TLS Redis: what tickd wrote through the tunnel."""
    import socket
    ctx = ssl.create_default_context(cafile=ca)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(b"*2\r\n$4\r\nKEYS\r\n$%d\r\n%s\r\n" % (len(pattern), pattern.encode()))
            return h.Redis(port)._read(s.makefile("rb")) or []  # its RESP reader, on this socket


@suite.test
def redis_over_tls_through_the_readme_stunnel_recipe():
    """hiredis 0.14 has no TLS: README's recipe, a stunnel client on loopback in front of a TLS-only Redis."""
    h.need_servers()
    if not STUNNEL:
        h.skip("no stunnel (apt install stunnel4, or TICKD_TEST_STUNNEL=/path/to/stunnel)")
    p = pki()
    d = h.tmpdir()
    tls_port, tunnel_port = free_port(), free_port()
    cert, key = p["localhost"]
    redis = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(tls_port), "--bind", "127.0.0.1",
                              "--tls-cert-file", cert, "--tls-key-file", key, "--tls-ca-cert-file", p["ca"],
                              "--tls-auth-clients", "no", "--save", "", "--appendonly", "no", "--dir", d],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    h.on_cleanup(lambda: (redis.terminate(), redis.wait(5)))
    conf = os.path.join(d, "tickd-redis.conf")
    with open(conf, "w") as f:
        f.write("foreground = yes\npid =\n[redis]\nclient = yes\naccept = 127.0.0.1:%d\nconnect = localhost:%d\n"
                "CAfile = %s\nverifyChain = yes\ncheckHost = localhost\n" % (tunnel_port, tls_port, p["ca"]))
    tunnel = subprocess.Popen([STUNNEL, conf], stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "st.log"), "w"))
    h.on_cleanup(lambda: (tunnel.terminate(), tunnel.wait(5)))
    def up():
        try:
            return tls_redis_keys(tls_port, p["ca"], "*") == []
        except OSError:
            return False
    h.wait_until(up, 10, "the TLS Redis")
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL, POLL_SYMBOL], rate=50)
    prefix = prefix_for("stunnel")
    text = h.config(fx, groups=[h.group("binance", [STREAM_SYMBOL, POLL_SYMBOL])], prefix=prefix)
    text = re.sub(r'url = "redis://[^"]*"', 'url = "redis://127.0.0.1:%d/0"' % tunnel_port, text)
    t = h.Tickd(text)
    t.wait_ready(30)
    wait_logged(t, lambda: len(tls_redis_keys(tls_port, p["ca"], "%s:quote:*" % prefix)) == 2, 20,
                "quotes in the TLS Redis")
    h.check(t.stop() == 0, "tickd exit status not 0; log:\n%s" % t.tail())


# ---- --check-config ----

def check_config(ca_file):
    fx = h.Fakex(venue="binance", symbols=[STREAM_SYMBOL], rate=1)
    text = h.config(fx, groups=[h.group("binance", [STREAM_SYMBOL])])
    old = 'ws_url = "ws://127.0.0.1:%d"' % fx.ports["binance"]
    text = text.replace(old, '%s\nca_file = "%s"' % (old, ca_file))
    d = h.tmpdir()
    path = os.path.join(d, "tickd.toml")
    with open(path, "w") as f:
        f.write(text)
    line = text.split("\n").index('ca_file = "%s"' % ca_file) + 1
    r = subprocess.run([h.TICKD, "--check-config", "-c", path], capture_output=True, text=True, timeout=10)
    return r, path, line


@suite.test
def check_config_refuses_a_ca_file_it_cannot_read():
    d = h.tmpdir()
    fifo = os.path.join(d, "ca.fifo")
    os.mkfifo(fifo)
    for bad, reason in ((os.path.join(d, "missing.pem"), "No such file or directory"),
                        (d, "not a regular file"),
                        (fifo, "not a regular file")):
        r, path, line = check_config(bad)
        h.check(r.returncode != 0, "--check-config accepted ca_file %s:\n%s%s" % (bad, r.stdout, r.stderr))
        h.check(re.search(r"%s:%d:\d+: .*ca_file: cannot read \"%s\": %s" % (re.escape(path), line, re.escape(bad),
                                                                           reason), r.stderr),
                "no place and reason for ca_file %s:\n%s" % (bad, r.stderr))
    r, _, _ = check_config(pki()["ca"])
    h.check(r.returncode == 0, "--check-config refused a readable ca_file:\n%s%s" % (r.stdout, r.stderr))


try:
    suite.run()
finally:
    while _cleanup_at_exit:
        _cleanup_at_exit.pop()()
