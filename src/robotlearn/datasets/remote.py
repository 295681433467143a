"""Reading dataset files from any fsspec location, retrying network trouble with exponential backoff.

`RemoteFS(url, storage_options)` is a small facade over an fsspec filesystem (`http(s)://`, `s3://`,
`hf://datasets/<repo>`, or a local path) with just what the dataset readers need: `open(path, "rb")`
returning a seekable binary file read by byte ranges through a bounded block cache, and `exists(path)`.

Every network operation is retried: a refused connection (server restarting), a reset, a timeout or
an HTTP 5xx / 429 waits `backoff_s * 2**attempt` (capped at `max_backoff_s`) and tries again; a file
object that fails mid-read reopens itself at the same byte offset, so PyAV and pyarrow, which read
through it, never see a transient error. When `max_retries` run out, `RemoteReadError` names the URL.
A missing file (HTTP 404, no such key) is not retried.

The fsspec filesystem is created lazily per process, so a RemoteFS survives fork() and pickling into
DataLoader workers without sharing the parent's connections or event loop.
"""

from __future__ import annotations

import asyncio
import io
import logging
import os
import time
from dataclasses import dataclass

from robotlearn.datasets.errors import DatasetError

logger = logging.getLogger(__name__)


@dataclass
class RetryConfig:
    max_retries: int = 8  # attempts after the first; 8 with the defaults below waits ~50 s in total
    backoff_s: float = 0.2  # first wait; doubles each attempt
    max_backoff_s: float = 10.0
    timeout_s: float = 30.0  # per HTTP request (connect and each read); a hung server counts as a failure


class RemoteReadError(DatasetError):
    """A remote dataset file could not be read after every retry; the message names the URL."""


# One fsspec filesystem per (process, url, options), kept for the life of the process. Filesystems hold
# sessions, event loops and reference cycles; if one became garbage in a parent it could be collected in a
# forked DataLoader worker, whose finalizer would then block on the parent's event loop. Kept here, a parent's
# instances stay referenced (and untouched) in every child instead.
_FILESYSTEMS: dict = {}


def is_transient(exc: BaseException) -> bool:
    """True for errors worth retrying: connection refused/reset, timeouts, HTTP 5xx/429/408."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        status = getattr(exc, "status", None)
        if isinstance(status, int) and 100 <= status < 600:
            return status >= 500 or status in (408, 429)
        name = type(exc).__name__
        if (
            isinstance(exc, (ConnectionError, TimeoutError, asyncio.TimeoutError))
            or "Timeout" in name
            or "Connect" in name
        ):
            return True
        if type(exc).__module__.split(".")[0] in ("aiohttp", "botocore", "urllib3", "requests") and not isinstance(
            exc, FileNotFoundError
        ):
            return "Payload" in name or "Disconnect" in name or "Connection" in name or "Client" in name
        if isinstance(exc, OSError) and not isinstance(
            exc, (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)
        ):
            return True
        # fsspec's HTTP info() turns any failure into FileNotFoundError: look at what caused it.
        exc = exc.__cause__ or exc.__context__
    return False


def with_retries(fn, url: str, retry: RetryConfig, what: str = "read"):
    """Call fn() until it succeeds, retrying transient errors with exponential backoff."""
    start = time.monotonic()
    for attempt in range(retry.max_retries + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == retry.max_retries:
                cause = exc.__cause__ if isinstance(exc, FileNotFoundError) and exc.__cause__ is not None else exc
                raise RemoteReadError(
                    f"{url}: could not {what} after {attempt + 1} attempts over {time.monotonic() - start:.1f} s; "
                    f"last error: {type(cause).__name__}: {cause}. Check that the server is reachable, or raise "
                    f"max_retries / timeout_s."
                ) from exc
            delay = min(retry.backoff_s * 2**attempt, retry.max_backoff_s)
            logger.warning(
                "%s: %s (%s); retry %d/%d in %.2f s",
                url,
                what,
                type(exc).__name__,
                attempt + 1,
                retry.max_retries,
                delay,
            )
            time.sleep(delay)


def _default_storage_options(protocol: str, options: dict, retry: RetryConfig) -> dict:
    options = dict(options)
    if protocol in ("http", "https"):
        import aiohttp

        client = dict(options.get("client_kwargs") or {})
        client.setdefault(
            "timeout", aiohttp.ClientTimeout(total=None, sock_connect=retry.timeout_s, sock_read=retry.timeout_s)
        )
        options["client_kwargs"] = client
    elif protocol in ("s3", "s3a"):
        config = dict(options.get("config_kwargs") or {})
        config.setdefault("connect_timeout", retry.timeout_s)
        config.setdefault("read_timeout", retry.timeout_s)
        config.setdefault("retries", {"max_attempts": 1})  # we retry ourselves, with a visible budget
        options["config_kwargs"] = config
    return options


class RemoteFS:
    """An fsspec filesystem rooted at `url`, with retries, per-process instances and bounded read caches.

    Args:
        url: "http(s)://host/path", "s3://bucket/prefix", "hf://datasets/<repo>@<revision>", or a local path.
        storage_options: passed to fsspec (e.g. {"endpoint_url": ..., "anon": True} for S3).
        retry: backoff policy and per-request timeout.
        block_size: bytes fetched per range request; cache_blocks: blocks kept per open file.
    """

    def __init__(
        self,
        url: str,
        storage_options: dict | None = None,
        retry: RetryConfig | None = None,
        block_size: int = 1 << 20,
        cache_blocks: int = 4,
    ):

        self.retry = retry or RetryConfig()
        self.block_size = block_size
        self.cache_blocks = cache_blocks
        self._storage_options = dict(storage_options or {})
        self.url = str(url)
        fs = self.fs
        self.protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        self.root = (
            fs._strip_protocol(self.url).rstrip("/") if self.protocol not in ("http", "https") else self.url.rstrip("/")
        )

    def _options(self, url: str) -> dict:
        protocol = url.split("://", 1)[0] if "://" in url else "file"
        return _default_storage_options(protocol, self._storage_options, self.retry)

    @property
    def fs(self):
        """This process's fsspec filesystem (a forked or unpickled copy makes its own: never the parent's)."""
        key = (os.getpid(), self.url, repr(sorted(self._storage_options.items())), repr(self.retry))
        fs = _FILESYSTEMS.get(key)
        if fs is None:
            import fsspec

            fs = _FILESYSTEMS[key] = fsspec.core.url_to_fs(
                self.url, skip_instance_cache=True, **self._options(self.url)
            )[0]
        return fs

    def full_url(self, path: str) -> str:
        if self.protocol in ("http", "https") or "://" in path:
            return path
        return f"{self.protocol}://{path}" if self.protocol != "file" else path

    def exists(self, path: str) -> bool:
        def probe():
            try:
                self.fs.info(path)
                return True
            except FileNotFoundError as exc:
                if is_transient(exc):
                    raise
                return False

        return with_retries(probe, self.full_url(path), self.retry, "look up")

    def open(self, path: str, mode: str = "rb") -> RemoteFile:
        if mode != "rb":
            raise ValueError(f"{self.full_url(path)}: streaming datasets are read-only (mode {mode!r})")
        return RemoteFile(self, path)


class RemoteFile(io.RawIOBase):
    """A seekable, read-only binary file over fsspec that reopens itself and resumes after network errors."""

    def __init__(self, remote: RemoteFS, path: str):
        super().__init__()
        self.remote = remote
        self.path = path
        self.url = remote.full_url(path)
        self._f = None
        self._pos = 0
        self.size = with_retries(self._open_size, self.url, remote.retry, "open")

    def _ensure_open(self):
        if self._f is None:
            self._f = self.remote.fs.open(
                self.path,
                "rb",
                block_size=self.remote.block_size,
                cache_type="blockcache",
                cache_options={"maxblocks": self.remote.cache_blocks},
            )
        return self._f

    def _open_size(self) -> int:
        f = self._ensure_open()
        size = getattr(f, "size", None)
        return int(size if size is not None else self.remote.fs.size(self.path))

    def _drop(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            try:
                f.close()
            except Exception:
                pass

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self.size}[whence]
        self._pos = max(base + offset, 0)
        return self._pos

    def readinto(self, buffer) -> int:
        n = min(len(buffer), max(self.size - self._pos, 0))
        if n == 0:
            return 0

        def attempt():
            try:
                f = self._ensure_open()
                f.seek(self._pos)
                return f.read(n)
            except Exception:
                self._drop()  # reopen (new connection, empty cache) on the next attempt
                raise

        data = with_retries(attempt, self.url, self.remote.retry, f"read bytes {self._pos}-{self._pos + n - 1}")
        got = len(data)
        buffer[:got] = data
        self._pos += got
        return got

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = max(self.size - self._pos, 0)
        buf = bytearray(size)
        got = self.readinto(buf)
        return bytes(buf[:got])

    def close(self) -> None:
        self._drop()
        super().close()
