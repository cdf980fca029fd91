#!/usr/bin/env python3
"""Time to detect (benchmark, not CI): how long from a change in the world to the console
saying so, on its live event stream and on the page.

    bench/detect.py CONSOLE_URL LAB_URL [--changes 50]

Runs against `crowsnest serve --lab` on the demo estate (bench/detect.sh starts one). Each
change is made through the lab's control API, alternating:
  - DNS: the authoritative zone repoints www at lb1 (API tier: wrong_tier) or api at lb3
    (an allowed failover: failed_over), then back;
  - hosts: a host is taken down, then brought up again, rotating over six hosts.
Records and hosts rotate so that no resource changes often enough to count as flapping.

Each change is made at a random moment within the probe interval. For every change it records
  seen:  first event whose snapshot's latest round shows the change (DNS `latest`);
  event: first event whose shown status (after damping) shows it;
  page:  the page (/dns or /topology), fetched right after that event, showing it.
Prints each change and the median and p99 of each figure, in seconds.
"""

import argparse
import http.client
import json
import random
import statistics
import threading
import time
import urllib.parse
import urllib.request

HOSTS = ["web1", "api1", "api-sin-1", "api-sin-2", "api-ams-1", "api-ams-2"]
# (record, address that makes it wrong, expected status, address that restores it)
RECORDS = [("www", "127.0.1.1", "wrong_tier", "127.0.1.2"), ("api", "127.0.2.1", "failed_over", "127.0.1.1")]


class Stream(threading.Thread):
    """The console's event stream, with snapshots; keeps the newest DNS and topology ones."""

    def __init__(self, base):
        super().__init__(daemon=True)
        self.url = urllib.parse.urlparse(base)
        self.cond = threading.Condition()
        self.dns = None
        self.topology = None

    def run(self):
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=60)
        conn.request("GET", "/api/v1/events", headers={"Accept": "text/event-stream"})
        reply = conn.getresponse()
        assert reply.status == 200, f"event stream answered {reply.status}"
        name, data = None, []
        for raw in reply:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
            elif line == "":
                if name in ("dns", "topology") and data:
                    snapshot = json.loads("\n".join(data))
                    with self.cond:
                        setattr(self, name, snapshot)
                        self.cond.notify_all()
                name, data = None, []

    def wait(self, test, limit=120):
        """Blocks until test(self) is true; returns the time it became true."""
        deadline = time.monotonic() + limit
        with self.cond:
            while not test(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError("the console never showed the change")
                self.cond.wait(left)
            return time.monotonic()


def record(stream, name):
    for r in (stream.dns or {}).get("records", []):
        if r["name"].rstrip(".") == f"{name}.example.test" and r["kind"] == "A":
            return r
    return None


def host(stream, name):
    for region in (stream.topology or {}).get("regions", []):
        for h in region["hosts"]:
            if h["name"] == name:
                return h
    return None


def post(url, body, method="POST"):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        r.read()


def page_shows(base, path, marker, limit=30):
    """Fetches the page until it carries `marker`; the time it first did."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with urllib.request.urlopen(base + path, timeout=10) as r:
            if marker(r.read().decode()):
                return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"{path} never showed the change")


def tag_with(html, attribute):
    """The opening tag that carries `attribute` (e.g. `data-host="web1"`), or ''."""
    at = html.find(attribute)
    return html[html.rfind("<", 0, at + 1) : html.find(">", at)] if at >= 0 else ""


def main():
    p = argparse.ArgumentParser()
    p.add_argument("console")
    p.add_argument("lab")
    p.add_argument("--changes", type=int, default=50)
    a = p.parse_args()
    stream = Stream(a.console)
    stream.start()
    # A settled start: every record and host checked and ok.
    stream.wait(lambda s: record(s, "www") and record(s, "www")["status"] == "ok" and host(s, "web1") and host(s, "web1")["health"]["status"] == "ok")
    interval = stream.dns["probe_interval_seconds"]
    figures = {"seen": [], "event": [], "page": []}
    pending = []  # restores to make: ("dns", rec) or ("host", name)
    n_dns = n_host = 0
    for i in range(a.changes):
        if pending:
            kind, what = pending.pop()
        elif i % 4 == 0:
            kind, what = "dns-bad", RECORDS[n_dns % len(RECORDS)]
            n_dns += 1
        else:
            kind, what = "host-down", HOSTS[n_host % len(HOSTS)]
            n_host += 1
        # A random moment within the interval: changes made right after an event would all land
        # just after a round, and every one would wait a whole interval.
        time.sleep(random.uniform(0, interval))
        started = time.monotonic()
        if kind.startswith("dns"):
            name, bad, status, good = what
            address, expect = (bad, status) if kind == "dns-bad" else (good, "ok")
            post(f"{a.lab}/lab/records/{name}/A", {"ttl": 60, "values": [address]}, "PUT")
            seen = stream.wait(lambda s: (r := record(s, name)) is not None and r["latest"] == expect and (r.get("checked_at_ms") or 0) > 0)
            event = stream.wait(lambda s: (r := record(s, name)) is not None and r["status"] == expect)
            page = page_shows(a.console, "/dns?name=" + name, lambda h: f'data-dns-status="{expect}"' in tag_with(h, f'data-record="{name}.example.test. A"'))
            if kind == "dns-bad":
                pending.append(("dns-good", what))
            label = f"{name} -> {address} ({expect})"
        else:
            down = kind == "host-down"
            post(f"{a.lab}/lab/hosts/{what}", {"state": "down" if down else "up"})
            expect = "critical" if down else "ok"
            event = stream.wait(lambda s: (h := host(s, what)) is not None and h["health"]["status"] == expect)
            seen = event
            page = page_shows(a.console, "/topology", lambda h: f'data-status="{expect}"' in tag_with(h, f'<tr data-host="{what}"'))
            if down:
                pending.append(("host-up", what))
            label = f"{what} {'down' if down else 'up'}"
        figures["seen"].append(seen - started)
        figures["event"].append(event - started)
        figures["page"].append(page - started)
        print(f"change {i + 1:2}: {label:40} seen {seen - started:6.2f} s  event {event - started:6.2f} s  page {page - started:6.2f} s", flush=True)
    for name, values in figures.items():
        values.sort()
        p99 = values[min(len(values) - 1, int(round(0.99 * (len(values) - 1))))]
        print(f"detect_{name}_seconds median={statistics.median(values):.2f} p99={p99:.2f} max={values[-1]:.2f} n={len(values)}")


if __name__ == "__main__":
    main()
