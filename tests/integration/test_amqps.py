"""amqps:// end to end: tickd publishes to a RabbitMQ whose TLS listener has a certificate from a private CA made
here with openssl. The right CA and host name publish; an unknown CA or a host name the certificate does not
name fail the connect, logged with OpenSSL's reason and retried, while the rest of the daemon keeps working.

The run's shared broker has no TLS listener, so this file starts a second private one (tests/lib/servers.sh with
its own state directory) whose advanced.config adds the TLS listener and its certificate."""
import json
import os
import shutil
import socket
import subprocess
import threading
import time

import harness as h

suite = h.Suite("amqps")
SYMBOLS = ["BTC-USDT", "ETH-USDT"]

_broker = {}


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=tickd test %s" % name,
            "-keyout", "%s.key" % name, "-out", "%s.pem" % name, cwd=d)
    return os.path.join(d, "%s.pem" % name)


def make_server_cert(d, ca):
    """A certificate for DNS:localhost only (no IP address), signed by ca."""
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
            "-out", "server.csr", cwd=d)
    openssl("x509", "-req", "-in", "server.csr", "-CA", "%s.pem" % ca, "-CAkey", "%s.key" % ca, "-CAcreateserial",
            "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=d)
    os.chmod(os.path.join(d, "server.key"), 0o644)  # the broker's Erlang reads it


def broker():
    """The TLS broker, started once for this file: {"ca", "other_ca", "tls_port", "plain_url"}."""
    if _broker:
        return _broker
    h.need_servers()
    if not shutil.which("openssl"):
        h.skip("no openssl command")
    d = tempfile_dir()
    make_ca(d, "ca")
    other = make_ca(d, "other")
    make_server_cert(d, "ca")
    state = os.path.join(d, "servers")
    os.makedirs(state)
    amqp_port, tls_port = free_port(), free_port()
    with open(os.path.join(state, "env"), "w") as f:
        f.write("TICKD_TEST_REDIS_PORT=%s\nTICKD_TEST_AMQP_PORT=%d\nTICKD_TEST_RABBIT_DIST_PORT=%d\n"
                "TICKD_TEST_EPMD_PORT=%d\n" % (os.environ["TICKD_TEST_REDIS_PORT"], amqp_port, free_port(),
                                              free_port()))
    advanced = os.path.join(d, "advanced.config")
    with open(advanced, "w") as f:
        f.write('[{rabbit, [{ssl_listeners, [{"127.0.0.1", %d}]},\n'
                '  {ssl_options, [{cacertfile, "%s/ca.pem"}, {certfile, "%s/server.pem"}, {keyfile, "%s/server.key"},\n'
                '                 {verify, verify_none}, {fail_if_no_peer_cert, false}]}]}].\n' % (tls_port, d, d, d))
    env = dict(os.environ, TICKD_TEST_SERVERS_DIR=state, RABBITMQ_ADVANCED_CONFIG_FILE=advanced)
    for k in ("TICKD_TEST_AMQP_PORT", "TICKD_TEST_RABBIT_DIST_PORT", "TICKD_TEST_EPMD_PORT"):
        env.pop(k, None)

    def stop():
        subprocess.run([h.SERVERS_SH, "rabbit_stop"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            os.kill(int(open(os.path.join(state, "rabbit", "epmd.pid")).read()), 15)
        except (OSError, ValueError):
            pass
        shutil.rmtree(d, ignore_errors=True)

    _cleanup_at_exit.append(stop)
    r = subprocess.run([h.SERVERS_SH, "rabbit_start"], env=env, capture_output=True, text=True)
    h.check(r.returncode == 0, "the TLS broker did not start: %s" % r.stderr)
    h.wait_until(lambda: port_open(tls_port), 30, "the broker's TLS listener")
    _broker.update(ca=os.path.join(d, "ca.pem"), other_ca=other, tls_port=tls_port,
                   plain_url="amqp://guest:guest@127.0.0.1:%d/%%2f" % amqp_port)
    return _broker


_cleanup_at_exit = []


def tempfile_dir():
    import tempfile
    return tempfile.mkdtemp(prefix="tickd-amqps-")


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def tap(url):
    """amqp_tap on the broker's plain listener: the messages tickd published over TLS."""
    proc = subprocess.Popen([h.AMQP_TAP, url, "tickd", "tick.#"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    h.on_cleanup(lambda: (proc.terminate(), proc.wait(5)))
    line = proc.stderr.readline()
    h.check(line.strip() == "ready", "amqp_tap did not start: %r" % line)
    messages = []

    def read():
        for l in proc.stdout:
            try:
                messages.append(json.loads(l))
            except ValueError:
                pass
    threading.Thread(target=read, daemon=True).start()
    return messages


def tickd_amqps(fx, host, ca, log_level="info"):
    b = broker()
    text = h.config(fx, groups=[h.group("binance", SYMBOLS)], prefix="amqps%d" % os.getpid())
    url = "amqps://guest:guest@%s:%d/%%2f" % (host, b["tls_port"])
    text = text.replace('log_level = "info"', 'log_level = "%s"' % log_level)
    text = text.replace('url = "%s"' % os.environ["TICKD_TEST_AMQP_URL"],
                        'url = "%s"\nca_file = "%s"' % (url, ca))
    h.check(url in text, "config without the amqps URL:\n" + text)
    return h.Tickd(text)


def redis_quote_count(prefix):
    return len(h.Redis().keys("%s:quote:*" % prefix))


@suite.test
def amqps_with_the_private_ca_publishes():
    b = broker()
    messages = tap(b["plain_url"])
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=50)
    d = tickd_amqps(fx, "localhost", b["ca"])
    d.wait_ready(30)
    h.wait_until(lambda: d.log_lines(r"component=amqp msg=connected"), 15, "a TLS connection to the broker")
    h.wait_until(lambda: len(messages) >= 20, 15, "ticks published over TLS reaching a consumer")
    body = json.loads(messages[-1]["body"])
    h.check(body.get("venue") == "binance" and body.get("symbol") in SYMBOLS, "odd message %r" % messages[-1])
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())


def refused_and_retried(host, ca, reason):
    b = broker()
    fx = h.Fakex(venue="binance", symbols=SYMBOLS, rate=50)
    d = tickd_amqps(fx, host, ca, log_level="debug")
    prefix = "amqps%d" % os.getpid()
    # The rest of the daemon works: quotes reach Redis while the broker is refused.
    h.wait_until(lambda: redis_quote_count(prefix) >= len(SYMBOLS), 20, "quotes in Redis")
    lines = h.wait_until(lambda: len(d.log_lines(r"component=amqp msg=\"connect failed\"")) >= 2 and
                         d.log_lines(r"component=amqp msg=\"connect failed\""), 30, "two connect attempts refused")
    h.check(any(reason in l for l in lines), "no %r in the connect errors:\n%s" % (reason, "".join(lines)))
    h.check(not d.log_lines(r"component=amqp msg=connected"), "connected despite a certificate to refuse")
    h.check(d.proc.poll() is None, "tickd exited; log:\n%s" % d.tail())
    h.check(d.stop() == 0, "tickd exit status not 0; log:\n%s" % d.tail())


@suite.test
def amqps_with_an_unknown_ca_is_refused_logged_and_retried():
    refused_and_retried("localhost", broker()["other_ca"], "error=\"SSL peer cert verification failed\" tls_error=")


@suite.test
def amqps_to_a_host_name_the_certificate_does_not_name_is_refused():
    refused_and_retried("127.0.0.1", broker()["ca"], "error=\"SSL hostname verification failed\"")


try:
    suite.run()
finally:
    while _cleanup_at_exit:
        _cleanup_at_exit.pop()()
