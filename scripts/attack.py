#!/usr/bin/env python3
"""The attack suite: the release binary, attacked the way an outsider would, over loopback.

Starts `crowsnest serve` (the release build) with a throwaway config on 127.0.0.1, then tries
path tricks, odd methods, forged and replayed sessions, cross-origin writes, open redirects,
oversize bodies, slow headers, concurrent password guesses, DNS rebinding and the exposure of
anonymous endpoints. Each attack is one named check; the run ends with `N passed, N failed` and
exits 1 if any failed. Standard library only; every loop is bounded in count and time.

    scripts/attack.py [PATH/TO/crowsnest]     (default: $CARGO_TARGET_DIR/release/crowsnest)
"""

import concurrent.futures
import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

HOST = "127.0.0.1"
RESULTS = []


def check(name):
    def wrap(fn):
        def run():
            try:
                fn()
                RESULTS.append((name, None))
                print(f"ok    {name}")
            except AssertionError as e:
                RESULTS.append((name, str(e) or "assertion failed"))
                print(f"FAIL  {name}: {e}")
            except Exception as e:  # a crash of the attack is a failure too, with its reason
                RESULTS.append((name, f"{type(e).__name__}: {e}"))
                print(f"FAIL  {name}: {type(e).__name__}: {e}")
        run.__name__ = fn.__name__
        return run
    return wrap


def free_port():
    s = socket.socket()
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Console:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, timeout=10):
        """One request on its own connection; the path goes out exactly as written."""
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        h = {"Host": f"{HOST}:{self.port}"}
        h.update(headers or {})
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            conn.putheader(k, v)
        data = body.encode() if isinstance(body, str) else body
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        r = conn.getresponse()
        out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.getheaders(), r.read())
        conn.close()
        return out

    def login_form(self):
        status, headers, raw, body = self.request("GET", "/login")
        assert status == 200, f"GET /login answered {status}"
        token = re.search(rb'name="csrf" value="([0-9a-f]+)"', body).group(1).decode()
        cookie = cookies(raw)
        return token, cookie

    def login(self, name, password, next_path="/actions", extra_cookie=""):
        token, cookie = self.login_form()
        form = urllib.parse.urlencode({"csrf": token, "name": name, "password": password, "next": next_path})
        status, headers, raw, _ = self.request(
            "POST", "/login", form,
            {"Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(c for c in [cookie, extra_cookie] if c)},
        )
        return status, headers, cookies(raw)

    def session(self, name, password):
        status, _, cookie = self.login(name, password)
        assert status == 303, f"{name} cannot log in ({status})"
        _, _, _, page = self.request("GET", "/actions", headers={"Cookie": cookie})
        token = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1).decode()
        return cookie, token


def cookies(raw_headers):
    return "; ".join(v.split(";")[0] for k, v in raw_headers if k.lower() == "set-cookie")


def start(binary, root):
    port = free_port()
    site = os.path.join(root, "site")
    os.makedirs(os.path.join(site, "pkg"))
    with open(os.path.join(site, "pkg", "crowsnest.css"), "w") as f:
        f.write("body {}")

    def hash_of(password):
        return subprocess.run([binary, "hash-password"], input=password, capture_output=True, text=True, check=True).stdout.strip()

    users = "".join(
        f'\n[[users]]\nname = "{n}"\nrole = "{r}"\npassword_hash = "{hash_of(p)}"\n'
        for n, r, p in [("alice", "oncall", "alice-attack-pw"), ("bob", "viewer", "bob-attack-pw")]
    )
    config = os.path.join(root, "attack.toml")
    with open(config, "w") as f:
        f.write(f"""[instance]
name = "atk-1"
region = "sjc"
listen = "{HOST}:{port}"
data_dir = "{root}/data"
header_read_timeout_seconds = 2

[auth]
max_failures_per_account = 5

[[regions]]
name = "sjc"
display = "San Jose"
primary = true

[[sites]]
name = "web"
{users}""")
    log = open(os.path.join(root, "console.log"), "w")
    proc = subprocess.Popen([binary, "--config", config, "serve", "--site-root", site], stdout=log, stderr=log)
    console = Console(port)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            console.request("GET", "/healthz", timeout=1)
            return proc, console
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit(f"the console did not start; see {root}/console.log")


def main():
    target = os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/crowsnest/target"))
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(target, "release", "crowsnest")
    with tempfile.TemporaryDirectory() as root:
        proc, c = start(binary, root)
        try:
            for attack in attacks(c, root):
                attack()
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
    failed = [r for r in RESULTS if r[1]]
    print(f"{len(RESULTS) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


def attacks(c, root):
    @check("path tricks reach no page and no file outside the site")
    def paths():
        for path in ["/topology/", "//topology", "/%74opology", "/./topology", "/topology;x", "/TOPOLOGY", "/api/v1//topology",
                     "/api/v1/topology%2f", "/actions/../topology"]:
            status, _, _, body = c.request("GET", path)
            assert status in (400, 401, 404), f"anonymous GET {path} answered {status}"
        for path in ["/pkg/../data/local.db", "/pkg/%2e%2e/data/local.db", "/pkg/..%2fdata/local.db", "/pkg/%2e%2e%2fdata/audit.key",
                     "/data/local.db", "/data/audit.key", "/pkg/../attack.toml", "/..%2f..%2fetc/passwd"]:
            status, _, _, body = c.request("GET", path)
            assert b"SQLite format" not in body and b"password_hash" not in body and b"root:" not in body, f"{path} leaked a file"
            assert status != 200 or b"<html" in body, f"{path} answered 200 with something other than a page"

    @check("odd methods change nothing and are refused")
    def methods():
        for method in ["PUT", "DELETE", "PATCH", "TRACE", "CONNECT"]:
            for path in ["/actions", "/admin/users", "/api/v1/actions", "/"]:
                status, _, _, _ = c.request(method, path)
                assert status in (400, 401, 403, 405), f"anonymous {method} {path} answered {status}"

    @check("forged, stale and logged-out sessions are worthless")
    def sessions():
        for cookie in ["crowsnest_session=forged", "crowsnest_session=" + "A" * 22, "crowsnest_session="]:
            status, _, _, _ = c.request("GET", "/api/v1/topology", headers={"Cookie": cookie})
            assert status == 401, f"{cookie} answered {status}"
        cookie, token = c.session("alice", "alice-attack-pw")
        status, _, _, _ = c.request("POST", "/logout", f"csrf={token}", {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303, f"logout answered {status}"
        status, _, _, _ = c.request("GET", "/api/v1/topology", headers={"Cookie": cookie})
        assert status == 401, f"a logged-out session answered {status}"

    @check("a planted session id is replaced at login")
    def fixation():
        status, _, cookie = c.login("alice", "alice-attack-pw", extra_cookie="crowsnest_session=planted")
        assert status == 303 and "crowsnest_session=planted" not in cookie, f"{status} {cookie}"

    @check("cross-origin and token-less writes are refused, with words")
    def cross_origin():
        cookie, token = c.session("alice", "alice-attack-pw")
        form = f"csrf={token}&kind=maintenance_on&site=web&reason=attack+from+elsewhere&confirmation=web&idempotency_key=x1"
        base = {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"}
        for extra in [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]:
            status, _, _, body = c.request("POST", "/actions", form, {**base, **extra})
            assert status == 403 and b"another site" in body, f"{extra}: {status} {body[:80]!r}"
        status, _, _, body = c.request("POST", "/actions", form.replace(token, "0" * 64), base)
        assert status == 403 and b"CSRF" in body, f"a wrong token: {status}"
        assert not os.path.exists(os.path.join(root, "data/edge/flags/web.maintenance")), "maintenance was turned on"

    @check("a login never leads off this console")
    def redirects():
        for next_path in ["//evil.example", "/\t/evil.example", "/%09/evil.example", "https://evil.example", "/\\evil.example",
                          "/\r\nSet-Cookie: a=b", "javascript:alert(1)"]:
            status, headers, _ = c.login("bob", "bob-attack-pw", next_path=next_path)
            assert status == 303, f"next={next_path!r} answered {status}"
            location = headers.get("location", "")
            # Where a browser would go: tabs and newlines are dropped from URLs before parsing.
            followed = urllib.parse.urljoin(f"http://{HOST}:{c.port}/login", re.sub(r"[\t\r\n]", "", location))
            assert urllib.parse.urlsplit(followed).netloc == f"{HOST}:{c.port}", f"next={next_path!r} led to {location!r}"

    @check("oversize bodies are refused on every route")
    def bodies():
        big = "x" * (1024 * 1024)
        for path in ["/login", "/actions", "/api/v1/actions", "/api/instance", "/api/v1/loaders/x/report"]:
            try:
                status, _, _, _ = c.request("POST", path, big, {"Content-Type": "application/x-www-form-urlencoded"})
            except (ConnectionResetError, BrokenPipeError):
                continue  # closed before reading it all: refused too
            assert status in (401, 404, 413), f"a 1 MiB POST {path} answered {status}"

    @check("slow headers are cut off, and the console keeps answering")
    def slow():
        socks = []
        for _ in range(100):
            s = socket.create_connection((HOST, c.port), timeout=10)
            s.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            socks.append(s)
        deadline = time.monotonic() + 8
        for s in socks:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                while s.recv(4096):
                    pass
            except socket.timeout:
                raise AssertionError("a half-sent request was still open after the header timeout")
            except OSError:
                pass
            finally:
                s.close()
        status, _, _, _ = c.request("GET", "/login")
        assert status == 200, f"after the slow clients /login answered {status}"

    @check("concurrent guesses with one form token are checked only up to the limit")
    def guesses():
        token, cookie = c.login_form()

        def guess(i):
            form = urllib.parse.urlencode({"csrf": token, "name": "alice", "password": f"guess-{i}"})
            return c.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie})[0]

        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(guess, range(40)))
        checked = statuses.count(401)
        assert checked <= 5, f"{checked} of 40 concurrent guesses were checked (limit 5): {sorted(set(statuses))}"
        assert statuses.count(429) == 40 - checked, f"the rest were not all 429: {statuses}"

    @check("a rebound DNS name is refused (421)")
    def rebinding():
        for host in ["evil.example", f"evil.example:{c.port}", "127.0.0.1.nip.io"]:
            status, _, _, _ = c.request("GET", "/login", headers={"Host": host})
            assert status == 421, f"Host: {host} answered {status}"

    @check("anonymous visitors learn nothing about the instance")
    def exposure():
        status, _, _, body = c.request("GET", "/healthz")
        assert body.strip() in (b'{"status":"ok"}', b'{"status":"starting"}', b'{"status":"stale"}'), body
        status, _, _, _ = c.request("GET", "/metrics")
        assert status == 401, f"/metrics answered {status}"
        _, _, _, body = c.request("GET", "/login")
        for word in [b"atk-1", b"San Jose", b"control store"]:
            assert word not in body, f"the login page names {word!r}"

    @check("every response carries the security headers")
    def headers():
        for path in ["/login", "/topology", "/api/v1/topology", "/pkg/crowsnest.css", "/nowhere"]:
            _, h, _, _ = c.request("GET", path)
            assert h.get("x-content-type-options") == "nosniff", f"{path}: {h}"
            assert "frame-ancestors 'none'" in h.get("content-security-policy", ""), f"{path}: no CSP"
            assert h.get("referrer-policy") == "same-origin", f"{path}: {h.get('referrer-policy')}"

    return [paths, methods, sessions, fixation, cross_origin, redirects, bodies, slow, guesses, rebinding, exposure, headers]


if __name__ == "__main__":
    main()
