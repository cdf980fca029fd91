#!/usr/bin/env python3
"""SSE fan-out (benchmark, not CI): CLIENTS live event streams for SECONDS, as open tabs hold
them (`?snapshots=false`), plus STALLED streams that never read after their request.

    bench/fanout.py CONSOLE_URL CONSOLE_PID [--clients 500] [--stalled 5] [--seconds 600]

Prints: how many clients saw every generation the reference stream saw and ended on the
newest; the spread (first to last client) of each generation's arrival, median and p99;
the open streams the console reports before and after the stalled ones are dropped; and the
console's RSS idle, with every stream open, and at the end. Loopback only; bounded by SECONDS.
"""

import argparse
import asyncio
import socket
import statistics
import time
import urllib.parse
import urllib.request


def rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def open_streams(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("crowsnest_sse_clients "):
                return int(float(line.split()[1]))
    return -1


async def reader(host, port, seen, arrivals, stop):
    """One tab: reads events, records each generation id and when it arrived."""
    r, w = await asyncio.open_connection(host, port)
    w.write(b"GET /api/v1/events?snapshots=false HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    await w.drain()
    status = await r.readline()
    assert b" 200 " in status, status
    while not stop.is_set():
        try:
            line = await asyncio.wait_for(r.readline(), 1)
        except asyncio.TimeoutError:
            continue
        if not line:
            break
        if line.startswith(b"id:"):
            gen = int(line[3:].strip())
            if gen not in seen:
                seen.add(gen)
                arrivals.setdefault(gen, []).append(time.monotonic())
    w.close()


def stalled(host, port):
    """A tab that sends its request and never reads: a small receive buffer, kept open."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, port))
    s.sendall(b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    return s


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("console")
    p.add_argument("pid", type=int)
    p.add_argument("--clients", type=int, default=500)
    p.add_argument("--stalled", type=int, default=5)
    p.add_argument("--seconds", type=int, default=600)
    a = p.parse_args()
    url = urllib.parse.urlparse(a.console)
    rss_start = rss_kb(a.pid)
    stop = asyncio.Event()
    seen = [set() for _ in range(a.clients + 1)]  # the last is the reference
    arrivals = {}
    tasks = [asyncio.create_task(reader(url.hostname, url.port, seen[i], arrivals, stop)) for i in range(a.clients + 1)]
    await asyncio.sleep(3)
    stuck = [stalled(url.hostname, url.port) for _ in range(a.stalled)]
    await asyncio.sleep(2)
    streams_with_stalled = open_streams(a.console)
    # With every stream open: growth from here on is the console's, not the connections' cost.
    rss_connected = rss_kb(a.pid)
    started = time.monotonic()
    dropped_after = None
    while time.monotonic() - started < a.seconds:
        await asyncio.sleep(1)
        if dropped_after is None and open_streams(a.console) == a.clients + 1:
            dropped_after = time.monotonic() - started
    streams_end = open_streams(a.console)
    rss_end = rss_kb(a.pid)
    await asyncio.sleep(2)  # the last generation reaches everyone
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for s in stuck:
        s.close()

    reference = seen[-1]
    newest = max(reference) if reference else None
    complete = sum(1 for s in seen[:-1] if reference <= s)
    on_newest = sum(1 for s in seen[:-1] if newest in s)
    coverage = min(len(s & reference) / max(len(reference), 1) for s in seen[:-1])
    spreads = sorted(max(t) - min(t) for g, t in arrivals.items() if len(t) == a.clients + 1)
    p99 = spreads[min(len(spreads) - 1, int(round(0.99 * (len(spreads) - 1))))] if spreads else float("nan")
    print(f"fanout_clients {a.clients} for {a.seconds} s; generations seen by the reference stream: {len(reference)}")
    print(f"fanout_complete_clients {complete}/{a.clients} (saw every generation the reference saw); "
          f"the least complete saw {100 * coverage:.1f}%; on_newest {on_newest}/{a.clients}")
    if spreads:
        print(f"fanout_spread_ms median={1000 * statistics.median(spreads):.1f} p99={1000 * p99:.1f} max={1000 * spreads[-1]:.1f} (first to last client, per generation)")
    print(f"stalled_streams {a.stalled}: open streams {streams_with_stalled} with them, {streams_end} at the end; "
          f"dropped after {'%.0f s' % dropped_after if dropped_after is not None else 'never'}")
    print(f"fanout_rss_kb idle={rss_start} connected={rss_connected} end={rss_end} "
          f"change_while_connected={100 * (rss_end - rss_connected) / max(rss_connected, 1):+.1f}%")


if __name__ == "__main__":
    asyncio.run(main())
