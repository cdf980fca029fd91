#!/usr/bin/env python3
"""A big estate for the scale benchmarks: the console's config, the zone Knot serves, and the
list of host addresses bench/hosts.py answers on.

    bench/estate.py OUT [--regions 3] [--hosts-per-tier 16] [--records 10000] [--resolvers 3]
                        [--loaders 3] [--replicas 2] [--interval 5] [--listen 127.0.0.1:3420]
                        [--dns-port 15353] [--host-port 9100]

Writes into OUT:
  estate.toml   the console's config (lab off; data under OUT/data)
  zone          the zone file every Knot server loads (the same records the config declares)
  hosts.txt     one "address role" line per host, for bench/hosts.py
  knot-N.conf   one Knot config per resolver, listening on 127.0.0.N:DNS_PORT

Hosts: every region gets HOSTS_PER_TIER hosts of each of six tiers (web_lb, api_lb, web, api,
db, loader), addresses 127.<10+region>.<tier>.<n>. Records: h0..h{N-1}, each an A record
pointing at one of the balancers, round-robin, so every answer lands on a known host and
tier. Resolvers: authoritative Knot servers on 127.0.0.1..M. Loaders: K hosts of the loader
tier whose /metrics bench/hosts.py serves. Replicas: the primary is this machine's PostgreSQL
(127.0.0.1:5432); replicas name db hosts where nothing speaks PostgreSQL, so they are shown
unreachable, as a dead replica would be.
"""

import argparse
import os

TIERS = ["web_lb", "api_lb", "web", "api", "db", "loader"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out")
    p.add_argument("--regions", type=int, default=3)
    p.add_argument("--hosts-per-tier", type=int, default=16, help="per region and tier (3 x 6 x 16 = 288 hosts)")
    p.add_argument("--records", type=int, default=10000)
    p.add_argument("--resolvers", type=int, default=3)
    p.add_argument("--loaders", type=int, default=3)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--interval", type=int, default=5, help="probe interval, seconds")
    p.add_argument("--listen", default="127.0.0.1:3420")
    p.add_argument("--dns-port", type=int, default=15353)
    p.add_argument("--host-port", type=int, default=9100)
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)
    out = os.path.abspath(a.out)

    regions = [f"r{r}" for r in range(a.regions)]
    hosts = []  # (name, region, tier, address)
    for r, region in enumerate(regions):
        for t, tier in enumerate(TIERS):
            for n in range(a.hosts_per_tier):
                hosts.append((f"{tier.replace('_', '')}-{region}-{n}", region, tier, f"127.{10 + r}.{t + 1}.{n + 1}"))
    balancers = [h for h in hosts if h[2] in ("web_lb", "api_lb")]
    loaders = [h for h in hosts if h[2] == "loader"][: a.loaders]
    dbs = [h for h in hosts if h[2] == "db"]

    c = []
    c.append(f'[instance]\nname = "bench"\nregion = "r0"\nlisten = "{a.listen}"\ndata_dir = "{out}/data"\n')
    timeout = min(2000, a.interval * 1000 // 2)
    c.append(f"[probes]\ninterval_seconds = {a.interval}\ntimeout_ms = {timeout}\ndns_concurrency = 64\n")
    c.append("[replication]\ninterval_seconds = 2\ntimeout_ms = 1500\nheartbeat = false\n")
    c.append("[backlog]\ninterval_seconds = 2\ntimeout_ms = 1500\n")
    for r, region in enumerate(regions):
        c.append(f'[[regions]]\nname = "{region}"\ndisplay = "Region {r}"\n' + ("primary = true\n" if r == 0 else ""))
    for name, region, tier, address in hosts:
        c.append(
            f'[[hosts]]\nname = "{name}"\nregion = "{region}"\ntier = "{tier}"\naddress = "{address}"\n'
            f'check = {{ http = "http://{address}:{a.host_port}/healthz" }}\n'
        )
    web_lb = next(h for h in hosts if h[2] == "web_lb")
    api_lb = next(h for h in hosts if h[2] == "api_lb")
    c.append('[[hostnames]]\nname = "www.bench.test"\ntier = "web_lb"\n')
    c.append('[[hostnames]]\nname = "api.bench.test"\ntier = "api_lb"\n')
    c.append('[zone]\norigin = "bench.test"\nserial = 1\n')
    records = [("www", web_lb[3]), ("api", api_lb[3])]
    records += [(f"h{i}", balancers[i % len(balancers)][3]) for i in range(a.records)]
    for name, address in records:
        c.append(f'[[zone.records]]\nname = "{name}"\ntype = "A"\nttl = 300\nvalues = ["{address}"]\n')
    for n in range(1, a.resolvers + 1):
        c.append(f'[[resolvers]]\nname = "knot-{n}"\naddress = "127.0.0.{n}:{a.dns_port}"\nkind = "authoritative"\n')
    if a.replicas >= 0:
        replicas = ", ".join(
            f'{{ host = "{h[0]}", dsn = "postgres://postgres@{h[3]}:5432/postgres" }}' for h in dbs[1 : 1 + a.replicas]
        )
        c.append(
            f'[[databases]]\nname = "main"\nprimary = {{ host = "{dbs[0][0]}", dsn = "postgres://postgres@127.0.0.1:5432/postgres" }}\n'
            f"replicas = [{replicas}]\n"
        )
    for name, _, _, address in loaders:
        c.append(f'[[loaders]]\nname = "{name}"\nhost = "{name}"\nmetrics_url = "http://{address}:{a.host_port}/metrics"\n')
    with open(f"{out}/estate.toml", "w") as f:
        f.write("\n".join(c))

    with open(f"{out}/zone", "w") as z:
        z.write("$ORIGIN bench.test.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 60\n@ IN NS ns1\nns1 IN A 127.0.0.1\n")
        for name, address in records:
            z.write(f"{name} 300 IN A {address}\n")

    with open(f"{out}/hosts.txt", "w") as h:
        for _, _, tier, address in hosts:
            h.write(f"{address} {tier}\n")

    for n in range(1, a.resolvers + 1):
        d = f"{out}/knot-{n}"
        os.makedirs(f"{d}/db", exist_ok=True)
        with open(f"{out}/knot-{n}.conf", "w") as k:
            k.write(
                f'server:\n    rundir: "{d}"\n    listen: 127.0.0.{n}@{a.dns_port}\n'
                f'database:\n    storage: "{d}/db"\ncontrol:\n    listen: "{d}/knot.sock"\n'
                f"log:\n  - target: stderr\n    any: warning\n"
                f'zone:\n  - domain: bench.test\n    storage: "{out}"\n    file: zone\n    zonefile-sync: -1\n'
                f"    journal-content: none\n"
            )
    print(f"estate: {len(hosts)} hosts in {len(regions)} regions, {len(records)} records, "
          f"{a.resolvers} resolvers, {len(loaders)} loaders, {min(a.replicas, len(dbs) - 1)} replicas -> {out}")


if __name__ == "__main__":
    main()
