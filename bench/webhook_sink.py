"""A webhook receiver for the alerting benchmark: every notice POSTed to it is appended to a
JSON-lines file with the time it arrived (unix milliseconds). Loopback only.

Usage: webhook_sink.py HOST:PORT FILE
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Sink(BaseHTTPRequestHandler):
    """Answers 200 to every POST and keeps what it said."""

    def do_POST(self):  # noqa: N802 (the standard library's name)
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        at_ms = int(time.time() * 1000)
        try:
            notice = json.loads(body)
        except ValueError:
            notice = {"unreadable": body.decode("utf-8", "replace")}
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(json.dumps({"at_ms": at_ms, "key": self.headers.get("x-crowsnest-delivery"), "notice": notice}) + "\n")
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    open(sys.argv[2], "a").close()
    ThreadingHTTPServer((host, int(port)), Sink).serve_forever()


if __name__ == "__main__":
    main()
