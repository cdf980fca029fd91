#!/usr/bin/env python3
"""The big estate's hosts: answers HTTP on every address in hosts.txt (from bench/estate.py).

    bench/hosts.py HOSTS_TXT [--port 9100] [--control 127.0.0.1:9199]

Each address serves GET /healthz (200 "ok") and, for loader hosts, GET /metrics in the loader
exposition the backlog engine reads (a queue that fills and drains slowly). The control port
takes a host down and up again, as the time-to-detect benchmark does:
    POST /hosts/<address>/down   closes that address's listener (connections are refused)
    POST /hosts/<address>/up     listens again
Loopback only.
"""

import argparse
import asyncio
import time

START = time.time()


def metrics():
    t = time.time() - START
    enq, loaded = int(t * 20), int(t * 19)
    return (
        "# TYPE loader_queue_depth gauge\n"
        f"loader_queue_depth {enq - loaded}\n"
        "# TYPE loader_oldest_item_age_seconds gauge\n"
        "loader_oldest_item_age_seconds 1.5\n"
        "# TYPE loader_enqueued_total counter\n"
        f"loader_enqueued_total {enq}\n"
        "# TYPE loader_loaded_total counter\n"
        f"loader_loaded_total {loaded}\n"
    )


async def answer(reader, writer, route):
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        method, path = request.split(b" ")[:2]
        status, body = route(method.decode(), path.decode())
        data = body.encode()
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data
        )
        await writer.drain()
    except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("hosts")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--control", default="127.0.0.1:9199")
    a = p.parse_args()
    tiers = dict(line.split() for line in open(a.hosts) if line.strip())
    servers = {}

    def host_route(tier):
        def route(method, path):
            if path == "/healthz":
                return "200 OK", "ok\n"
            if path == "/metrics" and tier == "loader":
                return "200 OK", metrics()
            return "404 Not Found", "not found\n"

        return route

    async def listen(address):
        route = host_route(tiers[address])
        servers[address] = await asyncio.start_server(lambda r, w: answer(r, w, route), address, a.port, backlog=64)

    def control(method, path):
        parts = path.strip("/").split("/")
        if method != "POST" or len(parts) != 3 or parts[0] != "hosts" or parts[1] not in tiers:
            return "404 Not Found", "POST /hosts/<address>/down|up\n"
        address, verb = parts[1], parts[2]
        if verb == "down" and address in servers:
            servers.pop(address).close()
        elif verb == "up" and address not in servers:
            asyncio.get_running_loop().create_task(listen(address))
        return "200 OK", f"{address} {verb}\n"

    for address in tiers:
        await listen(address)
    host, port = a.control.rsplit(":", 1)
    ctl = await asyncio.start_server(lambda r, w: answer(r, w, control), host, int(port))
    print(f"hosts: {len(servers)} addresses on port {a.port}, control on {a.control}", flush=True)
    async with ctl:
        await ctl.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
