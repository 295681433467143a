"""Frames over a TCP socket (optionally TLS): `Connection`, `listen`, `connect`, and where tokens come from.

    server = listen("127.0.0.1", 8765, token=None)      # refuses a non-loopback host without a token
    conn = Connection(server.accept()[0], token=b"")
    client = connect("127.0.0.1:8765", token=b"")
    client.send({"type": "ping"}); reply = client.recv()

A `Connection` reads a frame's header first, rejects it on magic / version / size before reading
its payload, checks the MAC before decoding (wire.py), and raises a TransportError subclass; a
frame error leaves the byte stream unusable, so the caller replies once with an error message
and closes.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
import threading
import time
from pathlib import Path

from robotlearn.errors import ConfigError
from robotlearn.transport import wire
from robotlearn.transport.errors import ConnectionClosedError, TransportError

TOKEN_ENV = "ROBOTLEARN_TOKEN"


def resolve_token(token_file: str | None = None) -> bytes:
    """The shared token: the contents of `token_file` (stripped) if given, else $ROBOTLEARN_TOKEN,
    else b"" (no token). Never from a command-line value, which other users can read in `ps`."""
    if token_file:
        path = Path(token_file)
        if not path.is_file():
            raise ConfigError(f"--token_file={token_file} does not exist")
        token = path.read_bytes().strip()
        if not token:
            raise ConfigError(f"--token_file={token_file} is empty")
        return token
    return os.environ.get(TOKEN_ENV, "").strip().encode()


def is_loopback(host: str) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_address(address: str) -> tuple[str, int]:
    """'host:port' (or '[v6]:port') -> (host, port). Raises ConfigError."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise ConfigError(f"--server={address!r}: expected HOST:PORT, e.g. 127.0.0.1:8765")
    return host.strip("[]"), int(port)


class Connection:
    """A framed, authenticated message stream over one socket. send() is thread-safe; recv() is
    meant for one reader thread. Counts bytes each way (`bytes_sent`, `bytes_received`)."""

    def __init__(self, sock: socket.socket, token: bytes = b"", max_bytes: int = wire.DEFAULT_MAX_MESSAGE_BYTES):
        self.sock = sock
        self.token = token
        self.max_bytes = max_bytes
        self._send_lock = threading.Lock()
        self.bytes_sent = 0
        self.bytes_received = 0
        self.last_frame_bytes = 0
        self.last_decode_s = 0.0  # MAC check + msgpack decode of the last received frame
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def _read_exact(self, n: int) -> bytes:
        buf = bytearray(n)
        view = memoryview(buf)
        got = 0
        while got < n:
            try:
                k = self.sock.recv_into(view[got:], n - got)
            except (ConnectionError, OSError) as e:
                if isinstance(e, TimeoutError | socket.timeout):
                    raise
                raise ConnectionClosedError(f"connection lost ({e})") from None
            if k == 0:
                raise ConnectionClosedError("the peer closed the connection")
            got += k
        return bytes(buf)

    def send_frame(self, frame: bytes) -> None:
        with self._send_lock:
            try:
                self.sock.sendall(frame)
            except (ConnectionError, OSError) as e:
                raise ConnectionClosedError(f"connection lost while sending ({e})") from None
            self.bytes_sent += len(frame)

    def send(self, message: dict) -> int:
        """Encodes and sends one message; returns the frame's size in bytes."""
        frame = wire.encode(message, self.token)
        self.send_frame(frame)
        return len(frame)

    def recv(self) -> dict:
        """Blocks for the next message. Raises ConnectionClosedError, ProtocolError (and subclasses),
        AuthenticationError; socket.timeout if the socket has a timeout."""
        header = self._read_exact(wire.HEADER_SIZE)
        length, _ = wire.parse_header(header, self.max_bytes)
        payload = self._read_exact(length) if length else b""
        self.bytes_received += wire.HEADER_SIZE + length
        self.last_frame_bytes = wire.HEADER_SIZE + length
        t0 = time.perf_counter()
        message = wire.decode_payload(header, payload, self.token)
        self.last_decode_s = time.perf_counter() - t0
        return message

    def send_error(self, code: str, message: str) -> None:
        """Replies with one `error` message: one line, at most 500 characters, never a traceback.
        A peer that is already gone is ignored."""
        try:
            self.send({"type": "error", "code": code, "message": " ".join(message.split())[:500]})
        except TransportError:
            pass

    def request(self, message: dict) -> dict:
        """send() then recv(); an `error` reply raises RemoteError."""
        from robotlearn.transport.errors import RemoteError

        self.send(message)
        reply = self.recv()
        if reply["type"] == "error":
            raise RemoteError(reply["code"], reply["message"])
        return reply

    def close(self, drain_s: float = 0.0) -> None:
        """Closes the connection. drain_s > 0: first stop sending and read (and discard) what the peer
        still sends for up to drain_s seconds (at most 1 MiB), so unread input does not make the
        kernel reset the connection and lose the last reply (an error message) on its way out."""
        if drain_s > 0:
            try:
                self.sock.shutdown(socket.SHUT_WR)
                self.sock.settimeout(drain_s)
                deadline, left = time.monotonic() + drain_s, 1 << 20
                while left > 0 and time.monotonic() < deadline:
                    data = self.sock.recv(min(left, 65536))
                    if not data:
                        break
                    left -= len(data)
            except OSError:
                pass
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def listen(host: str, port: int, token: bytes = b"", backlog: int = 16) -> socket.socket:
    """A listening socket on host:port (port 0: any free port; read it from getsockname()).

    Raises ConfigError for a non-loopback host without a token (anyone on the network could drive
    the robot's policy). TLS is per accepted connection: `server_tls_context` + `accept_tls`, so
    a client that connects and never finishes its handshake holds up only its own thread."""
    if not is_loopback(host) and not token:
        raise ConfigError(
            f"--host={host} is not a loopback address: serving on a network needs a token "
            f"(set {TOKEN_ENV} or --token_file) and preferably TLS (--tls_cert, --tls_key)"
        )
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise TransportError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(backlog)
    return sock


def serve_in_threads(sock: socket.socket, stopping: threading.Event, handle, name: str) -> threading.Thread:
    """Accepts connections on the listening `sock` until `stopping` is set (or the socket closes),
    calling `handle(client_socket, "host:port")` for each in its own daemon thread. Returns the
    started accepting thread. `sock` should have a short timeout so `stopping` is noticed."""

    def accept_loop():
        while not stopping.is_set():
            try:
                client, peer = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                if stopping.is_set() or sock.fileno() == -1:
                    return
                continue
            client.settimeout(None)
            threading.Thread(target=handle, args=(client, f"{peer[0]}:{peer[1]}"), daemon=True).start()

    thread = threading.Thread(target=accept_loop, name=name, daemon=True)
    thread.start()
    return thread


def server_tls_context(tls_cert: str | None, tls_key: str | None) -> ssl.SSLContext | None:
    """The server's TLS context from PEM files (None when neither is given). Raises ConfigError
    for one without the other or a file that does not load."""
    if bool(tls_cert) != bool(tls_key):
        raise ConfigError("--tls_cert and --tls_key go together")
    if not tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(tls_cert, tls_key)
    except (OSError, ssl.SSLError) as e:
        raise ConfigError(
            f"--tls_cert={tls_cert} / --tls_key={tls_key}: cannot load ({e}); give a PEM certificate and its key"
        ) from None
    return context


def accept_tls(sock: socket.socket, context: ssl.SSLContext, timeout_s: float = 5.0) -> ssl.SSLSocket:
    """The server side of the TLS handshake on a freshly accepted socket, within `timeout_s`.
    Raises ConnectionClosedError when it fails (plain TCP, a bad certificate, a silent peer)."""
    sock.settimeout(timeout_s)
    try:
        tls = context.wrap_socket(sock, server_side=True)
    except (OSError, ssl.SSLError) as e:
        sock.close()
        raise ConnectionClosedError(f"TLS handshake failed: {e}") from None
    tls.settimeout(None)
    return tls


def connect(
    address: str,
    token: bytes = b"",
    timeout_s: float = 5.0,
    tls_ca: str | None = None,
    max_bytes: int = wire.DEFAULT_MAX_MESSAGE_BYTES,
) -> Connection:
    """Connects to a server at 'host:port' (TLS when `tls_ca`, the server certificate's CA file, is
    given). Raises ConnectionClosedError if nothing answers within timeout_s."""
    host, port = parse_address(address)
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except OSError as e:
        raise ConnectionClosedError(f"cannot connect to {address}: {e.strerror or e}") from None
    if tls_ca:
        try:
            context = ssl.create_default_context(cafile=tls_ca)
        except (OSError, ssl.SSLError) as e:
            sock.close()
            raise ConfigError(
                f"--tls_ca={tls_ca}: cannot load ({e}); give the server certificate's PEM CA file"
            ) from None
        try:
            sock = context.wrap_socket(sock, server_hostname=host)
        except (OSError, ssl.SSLError) as e:
            sock.close()
            raise ConnectionClosedError(f"TLS handshake with {address} failed: {e}") from None
    sock.settimeout(None)
    return Connection(sock, token, max_bytes)
