"""profile.py -- where tickd spends its CPU under a steady stream load, and how much CPU a tick costs.

Starts fakex and tickd as bench.py does (servers from tests/lib/servers.sh must be up), waits for the stream to
settle, then over one window reads tickd's CPU time per thread from /proc (the loop thread is the one named
tickd; the RabbitMQ publisher is the other) and, with --perf, records `perf record -g` on the whole process.

    source tests/lib/servers.sh; servers_start
    BUILD=build python3 bench/profile.py --venue binance --symbols 100 --rate 50000 --seconds 10 --perf /tmp/p.data
    perf report -i /tmp/p.data --no-children --sort dso,symbol

Prints one line per thread (CPU % of a core, µs per frame) and the frames, ticks and Redis writes per second.
CPU time is what counts on a shared machine: the wall-clock rates depend on what else runs, so the load
average is printed next to them.
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench as b  # noqa: E402


def thread_cpu(pid):
    """{tid: (name, cpu seconds)} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[tid] = (name, (int(fields[11]) + int(fields[12])) / b.TICKS_PER_S)
    return out


def redis_cpu_s():
    """CPU seconds of the private redis-server (tests/lib/servers.sh keeps its pid file)."""
    with open(os.path.join(os.environ["TICKD_TEST_SERVERS_DIR"], "redis", "redis.pid")) as f:
        return b.cpu_s(int(f.read()))


def redis_counts(d):
    """The Redis sink's script calls and pipelines so far, from `tickd status`."""
    st = d.status()
    out = {k: int(re.search(r"redis .*?\b%s=(\d+)" % k, st).group(1)) for k in ("commands", "batches")}
    out["t"] = time.monotonic()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--venue", default="binance")
    ap.add_argument("--symbols", type=int, default=100)
    ap.add_argument("--rate", type=int, default=50000)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--perf", help="perf.data path: record -g during the window")
    a = ap.parse_args()
    if not os.environ.get("TICKD_TEST_REDIS_PORT"):
        print("profile: no servers (source tests/lib/servers.sh; servers_start)", file=sys.stderr)
        return 2
    try:
        fx, d = b.start([a.venue], a.symbols, a.rate)
        time.sleep(2)
        pid = d.proc.pid
        perf = None
        if a.perf:
            perf = subprocess.Popen(["perf", "record", "--call-graph", "dwarf,16384", "-q", "-o", a.perf,
                                     "-p", str(pid), "--", "sleep", str(a.seconds)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0, r0, s0 = thread_cpu(pid), redis_cpu_s(), redis_counts(d)
        w, _ = b.window(fx, d, a.venue, a.seconds)
        t1, r1, s1 = thread_cpu(pid), redis_cpu_s(), redis_counts(d)
        if perf:
            perf.wait()
        load = open("/proc/loadavg").read().split()[:3]
        print("profile: %s symbols=%d rate=%d: fakex sent %.0f/s dropped %.0f/s, tickd %.0f frames/s, %.0f redis "
              "writes/s, process cpu %.0f%% (load average %s)"
              % (a.venue, a.symbols, a.rate, w["sent"], w["dropped"], w["frames"], w["writes"], 100 * w["cpu"],
                 " ".join(load)))
        for tid, (name, cpu) in sorted(t1.items()):
            spent = (cpu - t0.get(tid, (name, 0))[1]) / a.seconds
            if spent <= 0:
                continue
            print("  thread %s %-12s cpu %5.1f%%  %.2f us per frame" % (tid, name, 100 * spent,
                                                                      1e6 * spent / max(w["frames"], 1e-9)))
        dt = s1["t"] - s0["t"]
        print("  redis-server cpu %.1f%%: %.0f script calls/s in %.0f pipelines/s (tickd's stats), %.2f us per "
              "written tick" % (100 * (r1 - r0) / dt, (s1["commands"] - s0["commands"]) / dt,
                                (s1["batches"] - s0["batches"]) / dt, 1e6 * (r1 - r0) / max(w["writes"] * dt, 1e-9)))
        print("  whole process: %.2f us per frame, %.0f frames per CPU-second"
              % (1e6 * w["cpu"] / max(w["frames"], 1e-9), w["frames"] / max(w["cpu"], 1e-9)))
    finally:
        b.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
