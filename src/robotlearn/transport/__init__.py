"""The project's one wire layer: versioned, authenticated, size-capped msgpack frames over TCP.

    from robotlearn.transport import Connection, connect, listen, resolve_token
    from robotlearn.transport.wire import SCHEMA, SCHEMA_VERSION, encode, decode

No pickle and no `torch.load` anywhere in this package (tests/transport grep it): a frame decodes
only to maps, lists, numbers, UTF-8 strings and numpy arrays of an allowlisted dtype.
Needs the `inference` extra (msgpack): pip install 'robotlearn[inference]'.
"""

from robotlearn.transport.connection import (
    Connection,
    accept_tls,
    connect,
    is_loopback,
    listen,
    parse_address,
    resolve_token,
    serve_in_threads,
    server_tls_context,
)
from robotlearn.transport.errors import (
    AuthenticationError,
    ConnectionClosedError,
    MessageTooLargeError,
    ProtocolError,
    RemoteError,
    TransportError,
    VersionMismatchError,
)

__all__ = [
    "AuthenticationError",
    "Connection",
    "ConnectionClosedError",
    "MessageTooLargeError",
    "ProtocolError",
    "RemoteError",
    "TransportError",
    "VersionMismatchError",
    "accept_tls",
    "connect",
    "is_loopback",
    "listen",
    "parse_address",
    "resolve_token",
    "serve_in_threads",
    "server_tls_context",
]
