#!/usr/bin/env python3
"""Writes the harnesses' seed corpora into OUT/<harness>/ (default build-fuzz/seeds).

Real inputs where the project has them: the recorded frames and documentation examples of ../shared/venues and the
venues' examples the project keeps in tests/venues (framed with fuzz_venue's two selector bytes; a doc-rest-* file
is a REST answer, which fuzz_venue also gives the venue's instrument list parser), the toml-test suite of
../shared/toml-test (valid and invalid), config/tickd.toml. Without ../shared (or $TICKD_SHARED) those of ../shared
are skipped with a message; the project's examples and the hand-written seeds below still give every harness a
start. Usage: fuzz/seeds.py [OUT]"""
import hashlib
import os
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "build-fuzz" / "seeds")
SHARED = pathlib.Path(os.environ.get("TICKD_SHARED") or ROOT.parent / "shared")
VENUES = ["binance", "coinbase", "kraken", "okx"]  # venue_at() order
STATUS = {200: 0, 400: 2, 404: 3, 418: 4, 429: 5, 500: 6, 503: 7}  # fuzz_venue's status table
LINES_PER_FILE = 60
counts = {}


def put(harness, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / harness
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)
    counts[harness] = counts.get(harness, 0) + 1


def venue_frame(venue, body, rest=False, status=200, one_symbol=False, request=0):
    b0 = VENUES.index(venue) | (4 if one_symbol else 0) | (31 << 3)  # capacity 32
    b1 = (1 if rest else 0) | (STATUS[status] << 1) | ((request & 15) << 4)
    return bytes([b0, b1]) + body


def shared_seeds():
    venues = SHARED / "venues"
    if not venues.is_dir():
        print(f"seeds: {venues} not found: venue seeds are the project's own examples and hand-written ones only",
              file=sys.stderr)
    for venue in VENUES:
        # the project's own examples (tests/venues) beside the shared ones
        files = sorted((venues / venue).glob("*")) + sorted((ROOT / "tests" / "venues" / venue).glob("*"))
        for f in files:
            if f.suffix == ".jsonl":
                for line in f.read_bytes().splitlines()[:LINES_PER_FILE]:
                    if line.strip():
                        put("venue", venue_frame(venue, line))
            elif f.suffix == ".json" and f.name.startswith("doc-rest-"):
                body = f.read_bytes()
                single = "single" in f.name
                statuses = [429, 418, 400] if "error" in f.name else [200]
                for st in statuses:
                    put("venue", venue_frame(venue, body, rest=True, status=st, one_symbol=single))
            elif f.suffix == ".json" and f.name.startswith("doc-ws-"):
                put("venue", venue_frame(venue, f.read_bytes()))
            if f.suffix in (".json", ".jsonl"):
                for line in f.read_text(errors="replace").splitlines():
                    for key in ('"time":"', '"timestamp": "', '"timestamp":"'):
                        at = line.find(key)
                        if at >= 0:
                            rest = line[at + len(key):]
                            put("rfc3339", rest[: rest.find('"')])
    toml = SHARED / "toml-test" / "tests"
    if toml.is_dir():
        for kind in ("valid", "invalid"):
            for f in sorted((toml / kind).rglob("*.toml")):
                put("toml", f.read_bytes())
    else:
        print(f"seeds: {toml} not found: TOML seeds are the project's own files only", file=sys.stderr)


def own_seeds():
    example = (ROOT / "config" / "tickd.toml").read_bytes()
    for h in ("toml", "config"):
        put(h, example)
    small = """[redis]
url = "redis://user:p%40ss@127.0.0.1:6379/0"
[rabbitmq]
url = "amqp://guest:guest@localhost:5672/"
[supervisor]
backoff_min = "100ms"
backoff_max = "30s"
[[source]]
name = "{v}"
venue = "{v}"
rest_url = "http://127.0.0.1:8080"
ws_url = "ws://127.0.0.1:8080"
limits = {{ weight_per_minute = 6000, requests_per_second = 10 }}
[[group]]
name = "g-{v}"
source = "{v}"
restart = "transient"
symbols = ["BTC-USDT", "eth-usdt"]
[[group.task]]
kind = "stream"
stale_after = "10s"
max_age = "1h"
[[group.task]]
kind = "poll"
interval = "250ms"
"""
    for v in VENUES:
        put("config", small.format(v=v))
    put("config", "[daemon]\nlog_level = \"debug\"\nstats_interval = \"1m30s\"\n[merge]\nquote_ttl = \"5s\"\n")
    # Patterns: valid groups of names and patterns with exclude and max, and each kind of mistake.
    pattern_group = ("[[source]]\nname = \"b\"\nvenue = \"binance\"\n[[group]]\nname = \"g\"\nsource = \"b\"\n"
                     "symbols = {symbols}\n{more}[[group.task]]\nkind = \"stream\"\n")
    for symbols, more in [('["BTC-USDT", "*-USDT", "eth-*"]', 'exclude = ["*UP-*", "SOL-USDT"]\nmax = 5\n'),
                          ('["*"]', ''), ('["*usd*", "A-B"]', 'max = 2\n'), ('["*-USDT"]', 'exclude = []\n'),
                          ('["**-USDT", "*-*-*", "-*", ""]', ''), ('["BTC-USDT"]', 'exclude = ["X-Y"]\nmax = 5\n'),
                          ('["*-USDT", "BTC-USDT"]', 'exclude = ["btc-usdt", "*-usdt", "*-usdt"]\nmax = 1\n'),
                          ('["*-USDT"]', 'max = 0\n')]:
        put("config", pattern_group.format(symbols=symbols, more=more))
    put("config", "a.b.c.d = 1\n[x.y]\nz = [1, [2, {a = 3}]]\n[[t]]\n[[t]]\n")

    # The venues' shapes without ../shared, so a bare checkout still starts from real-looking frames.
    ws = {
        "binance": ['{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}',
                    '{"stream":"btcusdt@bookTicker","data":{"u":1,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}}',
                    '{"result":null,"id":1}', '{"e":"serverShutdown","E":1700000000000}'],
        "coinbase": ['{"type":"ticker","sequence":1,"product_id":"BTC-USD","price":"1.5","best_bid":"1.4","best_ask":"1.6",'
                     '"best_bid_size":"2","best_ask_size":"3","time":"2021-04-17T16:43:30.244075Z","last_size":"0.1"}',
                     '{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}',
                     '{"type":"subscriptions","channels":[{"name":"ticker","product_ids":["BTC-USD"]}]}',
                     '{"type":"error","message":"Failed to subscribe","reason":"BTC-XYZ is not a valid product"}'],
        "kraken": ['[1668,{"a":["13.25","35","35.7"],"b":["13.23","185","185.1"],"c":["13.25","3.7"]},"ticker","XBT/USD"]',
                   '{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":0.10025,"bid_qty":740.0,"ask":0.10036,'
                   '"ask_qty":1361.44813783,"last":0.10035,"timestamp":"2023-09-25T09:04:31.742648Z"}]}',
                   '{"event":"heartbeat"}', '{"event":"systemStatus","status":"online","version":"1.9.0"}',
                   '{"channel":"heartbeat"}', '{"method":"subscribe","success":false,"error":"Currency pair not supported"}'],
        "okx": ['{"arg":{"channel":"tickers","instId":"BTC-USDT"},"data":[{"instId":"BTC-USDT","last":"9999.99","lastSz":"0.1",'
                '"askPx":"9999.99","askSz":"11","bidPx":"8888.88","bidSz":"5","ts":"1597026383085"}]}',
                'pong', '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}',
                '{"event":"error","code":"60012","msg":"Invalid request"}', '{"event":"notice","code":"64008","msg":"reconnect"}'],
    }
    rest = {
        "binance": [('{"symbol":"BTCUSDT","bidPrice":"4.0","bidQty":"431.0","askPrice":"4.2","askQty":"9.0"}', 200, True),
                    ('[{"symbol":"BTCUSDT","bidPrice":"4.0","bidQty":"431.0","askPrice":"4.2","askQty":"9.0"}]', 200, False),
                    ('{"code":-1003,"msg":"Too many requests"}', 429, False)],
        "coinbase": [('{"ask":"6.5","bid":"6.4","volume":"1","trade_id":1,"price":"6.45","size":"0.1","time":"2021-04-17T16:43:30.244075Z"}', 200, False),
                     ('{"message":"Public rate limit exceeded"}', 429, False)],
        "kraken": [('{"error":[],"result":{"XXBTZUSD":{"a":["30300.1","1","1.0"],"b":["30300.0","1","1.0"],"c":["30303.2","0.0007"]}}}', 200, False),
                   ('{"error":["EGeneral:Too many requests"]}', 200, False), ('{"error":["EService:Unavailable"]}', 503, False)],
        "okx": [('{"code":"0","msg":"","data":[{"instId":"BTC-USDT","last":"9999.99","lastSz":"1","askPx":"9999.99","askSz":"11",'
                 '"bidPx":"8888.88","bidSz":"5","ts":"1597026383085"}]}', 200, False),
                ('{"code":"50011","msg":"Too Many Requests"}', 429, False)],
    }
    # Instrument lists (venue_ops.instruments reads every REST body): each venue's shape, small.
    rest["binance"].append(('{"timezone":"UTC","symbols":[{"symbol":"BTCUSDT","status":"TRADING","baseAsset":"BTC",'
                            '"quoteAsset":"USDT","filters":[{"filterType":"PRICE_FILTER","minPrice":"0.01000000",'
                            '"maxPrice":"1000000.00000000","tickSize":"0.01000000"},{"filterType":"LOT_SIZE","minQty":'
                            '"0.00001000","maxQty":"9000.00000000","stepSize":"0.00001000"}]},{"symbol":"ETHBTC",'
                            '"status":"BREAK","baseAsset":"ETH","quoteAsset":"BTC","filters":[]}]}', 200, False))
    rest["coinbase"].append(('[{"id":"BTC-USD","base_currency":"BTC","quote_currency":"USD","quote_increment":"0.01",'
                             '"base_increment":"0.00000001","status":"online","cancel_only":false,"post_only":false,'
                             '"trading_disabled":true}]', 200, False))
    rest["kraken"].append(('{"error":[],"result":{"XXBTZUSD":{"altname":"XBTUSD","wsname":"XBT/USD","base":"XXBT",'
                           '"quote":"ZUSD","pair_decimals":1,"lot_decimals":8,"tick_size":"0.1","status":"online"},'
                           '"XDGUSD":{"base":"XXDG","quote":"ZUSD","pair_decimals":7,"lot_decimals":0,"status":"cancel_only"}}}',
                           200, False))
    rest["okx"].append(('{"code":"0","msg":"","data":[{"instType":"SPOT","instId":"BTC-USDT","baseCcy":"BTC","quoteCcy":'
                        '"USDT","tickSz":"0.1","lotSz":"0.00000001","state":"live"},{"instType":"SPOT","instId":'
                        '"NEW-USDT","baseCcy":"","quoteCcy":"","tickSz":"","lotSz":"","state":"preopen"}]}', 200, False))
    for v in VENUES:
        for f in ws[v]:
            put("venue", venue_frame(v, f.encode()))
        for body, st, one in rest[v]:
            for req in range(4):
                put("venue", venue_frame(v, body.encode(), rest=True, status=st, one_symbol=one, request=req))

    for a, b in [("65000.10", "65000.1"), ("-0.0", "0"), ("007", "7"), ("0.00000100", "0.000001"), ("-3", "-2.999"),
                 ("1", "1."), (".5", "0.5"), ("12345678901234567890.123", "12345678901234567890.1229999"),
                 ("-0.000000000000000000000001", "0"), ("9" * 60, "1" + "0" * 60), ("1e5", "+1"), ("0.1", "0.10000000000000001")]:
        put("decimal", f"{a}\n{b}")
    for t in ["2021-04-17T16:43:30.244075Z", "2021-04-17t16:43:30Z", "2021-04-17 16:43:30.1+05:30", "1970-01-01T00:00:00-23:59",
              "0000-01-01T00:00:00Z", "9999-12-31T23:59:60.999999999Z", "2020-02-31T00:00:00Z", "2016-12-31T23:59:60Z"]:
        put("rfc3339", t)
    for u in ["redis://127.0.0.1:6379/0", "redis://user:secret@host:6379/2", "amqp://guest:p@ss@[::1]:5672/%2f",
              "wss://stream.binance.com:9443", "https://user:pa:ss@api.kraken.com", "redis://:only-password@h",
              "amqps://u:p%2Fq@broker.example:5671/vhost?heartbeat=10#frag"]:
        put("config_value", b"\x00" + u.encode())
    for d in ["250ms", "30s", "2m", "1h", "1m30s", "168h", "18446744073709551615ms", "0s", "1h1m1s1ms"]:
        put("config_value", b"\x01" + d.encode())
    for s in ["BTC-USDT", "btc-usdt", "BTC-USD-220527", "UNI-USD-SWAP", "A-B", "-", "BTCUSDT"]:
        put("config_value", b"\x02" + s.encode())
    for p, n in [("*-USDT", "BTC-USDT"), ("BTC-*", "BTC-"), ("*", ""), ("*AB*AB*", "ABA"), ("A*A", "A"),
                 ("*a*b*c*", "XAYBZC"), ("B**", "B"), ("*-USDT-*", "X-USDT-Y"), ("BTC-USDT", "BTC-USDT")]:
        put("config_value", b"\x03" + f"{p}\n{n}".encode())

    for ra, used in [("120", "1200"), ("0", "0"), ("9000000000", "6000"), ("10000000000", "18446744073709551616"),
                     ("Wed, 21 Oct 2015 07:28:00 GMT", "12"), ("Sunday, 06-Nov-94 08:49:37 GMT", ""),
                     ("Sun Nov  6 08:49:37 1994", "4294967296"), ("Fri, 31 Dec 9999 23:59:59 GMT", "1"),
                     ("-5", " 7"), ("1.5", "+3"), ("", "99999999999999999999")]:
        for status in (b"\x00", b"\x01"):
            put("headers", status + f"{ra}\n{used}".encode())

    # fuzz_status: the first byte sets the reads' length (1, 2, 8, 64, growing), then a status answer.
    answer = ("tickd 0.1.0 pid=4242 up=3h2m\n  group s0  running  ready=yes\tlast=\"£ 1 °C\"\n"
              "  source binance msg=\x1b[31mred\x1b[0m \x1b]0;title\x07 \u009b2J \u0085\r\n\x7f").encode()
    for b0 in (0, 1, 7, 63, 64 | 3):
        put("status", bytes([b0]) + answer)
        put("status", bytes([b0]) + b"x\xc2\x01\x9b[1m \xc2\xc2\xa3 \xc2")

    # fuzz_merge_key: keys of today's width and of the width before epochs, and near misses.
    for key in ("0000000000-00000000000123456789-00001718000000123456-1",
                "4294967295-18446744073709551615-18446744073709551615-0",
                "00000000000123456789-00001718000000123456-1", "99999999999999999999-99999999999999999999-1",
                "4294967296-00000000000000000001-00000000000000000001-1",
                "0000000000-18446744073709551616-00000000000000000001-1", "0000000000-0000000000000000000x-0-1"):
        put("merge_key", key.encode())


own_seeds()
shared_seeds()
print("seeds: " + ", ".join(f"{h} {n}" for h, n in sorted(counts.items())) + f" in {OUT}", file=sys.stderr)
