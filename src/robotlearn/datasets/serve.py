"""Serve a dataset folder over HTTP with byte-range requests, for `StreamingLeRobotDataset` over a LAN.

    python -m robotlearn.datasets.serve data/pusht --port 8000
    # elsewhere: StreamingLeRobotDataset("user/pusht", root="http://<host>:8000")

Plain files only, read-only, no directory listings (streaming never lists). Supports `Range: bytes=a-b`,
`bytes=a-` and `bytes=-n` (one range per request), HEAD, and HTTP/1.1 keep-alive. Also used by the
tests and benchmarks as a real loopback server; `stop()` drops open connections too, so a client sees
the same refused / reset connections as from a restarting production server.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes: don't wait for delayed ACKs
    server: _Server

    def log_message(self, format, *args):  # quiet: tests and benchmarks make thousands of requests
        pass

    def _file(self) -> Path | None:
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        root = self.server.root
        path = (root / rel).resolve()
        if (path != root and root not in path.parents) or not path.is_file():
            return None
        return path

    def do_HEAD(self):
        self._serve(body=False)

    def do_GET(self):
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        path = self._file()
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND)
            return
        size = path.stat().st_size
        start, end, status = 0, size - 1, HTTPStatus.OK
        header = self.headers.get("Range")
        if header:
            m = _RANGE.match(header.strip())
            if m and (m.group(1) or m.group(2)):
                if m.group(1):
                    start = int(m.group(1))
                    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                else:  # suffix: the last n bytes
                    start = max(size - int(m.group(2)), 0)
                if start >= size or start > end:
                    self.send_response(HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE)
                    self.send_header("Content-Range", f"bytes */{size}")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = HTTPStatus.PARTIAL_CONTENT
        length = end - start + 1 if size else 0
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if status == HTTPStatus.PARTIAL_CONTENT:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body and length:
            with open(path, "rb") as f:
                f.seek(start)
                shutil.copyfileobj(_Limited(f, length), self.wfile, 1 << 16)
        self.server.requests += 1


class _Limited:
    def __init__(self, f, n):
        self.f, self.left = f, n

    def read(self, n=-1):
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, root: Path, address):
        self.root = root
        self.requests = 0
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request, client_address):
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        import sys

        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):  # clients going away is normal
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        with self._lock:
            conns, self._open = list(self._open), set()
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class RangeServer:
    """A threaded HTTP server for `root` on host:port (port 0 = any free port); `url` once started.

    Args:
        root: folder to serve.
        host, port: where to listen (loopback by default).
    """

    def __init__(self, root: str | os.PathLike, host: str = "127.0.0.1", port: int = 0):
        self.root = Path(root).resolve()
        self.host, self.port = host, port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> int:
        return self._server.requests if self._server is not None else 0

    def start(self) -> RangeServer:
        self._server = _Server(self.root, (self.host, self.port))
        self.port = self._server.server_address[1]  # the same port again after a restart
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (like a server process going away)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> RangeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m robotlearn.datasets.serve", description=__doc__.split("\n\n")[0])
    parser.add_argument("root", help="dataset folder to serve (the one holding meta/, data/, videos/)")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 for every interface)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port")
    args = parser.parse_args(argv)
    server = RangeServer(args.root, args.host, args.port).start()
    print(f"serving {server.root} at {server.url} (Ctrl-C to stop)")
    try:
        server._thread.join()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
