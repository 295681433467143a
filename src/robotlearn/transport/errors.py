"""Errors of the wire layer; all derive from `robotlearn.errors.RobotlearnError`."""

from __future__ import annotations

from robotlearn.errors import RobotlearnError


class TransportError(RobotlearnError):
    """A message could not be sent, received or understood."""


class ProtocolError(TransportError, ValueError):
    """A frame or message breaks the schema (bad magic, undecodable payload, unknown type, bad field)."""


class VersionMismatchError(ProtocolError):
    """The peer speaks another schema version."""


class MessageTooLargeError(ProtocolError):
    """A frame's declared length exceeds the receiver's size cap."""


class AuthenticationError(TransportError, PermissionError):
    """A frame's authentication code does not match the shared token."""


class ConnectionClosedError(TransportError, ConnectionError):
    """The peer closed the connection (or it broke)."""


class RemoteError(TransportError):
    """The peer answered with an error message (its code and one-line message; never a traceback)."""

    def __init__(self, code: str, message: str):
        super().__init__(f"server error {code}: {message}")
        self.code = code
        self.remote_message = message
