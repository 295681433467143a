"""The wire format: versioned, authenticated, size-capped frames holding one msgpack message each.

A frame is a fixed 44-byte header followed by the payload (all integers little-endian):

    magic   4 bytes  b"RLWP"
    version u16      SCHEMA_VERSION of the sender
    flags   u16      0 (reserved)
    length  u32      payload bytes (<= the receiver's cap, checked before the payload is read)
    mac     32 bytes HMAC-SHA256(token, header[:12] + payload); token b"" when the server has none

The receiver checks, in this order and before decoding anything: magic, version, length against
its cap, then the MAC with `hmac.compare_digest` (constant time). Only then is the payload decoded
with msgpack, with every container capped by the frame's length, strings as strict UTF-8, and
arrays as an extension type whose dtype must be in `DTYPES` (numbers and bools; no object dtype,
no pickle anywhere). The decoded message is a map with a `type` checked against `SCHEMA`.

Why msgpack over a plain TCP socket rather than protobuf over gRPC: one request -> one reply per
chunk needs no RPC framework, the schema is the table below (arrays as raw bytes, no copy through
a proto), and at PushT sizes the round trip measured here is several times shorter than gRPC's
(docs/inference.md, `benchmarks/bench_inference.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from typing import Any

import numpy as np

from robotlearn.transport.errors import (
    AuthenticationError,
    MessageTooLargeError,
    ProtocolError,
    VersionMismatchError,
)

SCHEMA_VERSION = 1
MAGIC = b"RLWP"
HEADER = struct.Struct("<4sHHI32s")  # magic, version, flags, length, mac
HEADER_SIZE = HEADER.size  # 44
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # 64 MiB: a few uncompressed 1080p frames
ARRAY_EXT = 1  # msgpack extension code of an ndarray

# dtype allowlist: code on the wire -> numpy dtype (little-endian). Nothing else decodes.
DTYPES: dict[int, np.dtype] = {
    1: np.dtype("|b1"),
    2: np.dtype("|u1"),
    3: np.dtype("|i1"),
    4: np.dtype("<u2"),
    5: np.dtype("<i2"),
    6: np.dtype("<i4"),
    7: np.dtype("<i8"),
    8: np.dtype("<f2"),
    9: np.dtype("<f4"),
    10: np.dtype("<f8"),
    11: np.dtype("<u4"),
}
_CODES = {dt: code for code, dt in DTYPES.items()}
_ARRAY_HEAD = struct.Struct("<BB")  # dtype code, ndim; then ndim u32 dims, then the raw data
MAX_NDIM = 8

_ANY_ARRAY = np.ndarray
# Message schema: type -> {field: (allowed python types, required)}. Arrays are np.ndarray.
_NUM = (int, float)
SCHEMA: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    # client -> server
    "hello": {"client": ((str,), False), "n_action_steps": ((int,), False)},
    "observation": {
        "tick": ((int,), True),
        "episode": ((int,), True),
        "observation": ((dict,), True),
        "task": ((str,), False),
        "seed": ((int,), False),
        "request_id": ((int,), False),
        "action_prefix": ((_ANY_ARRAY,), False),  # (d, A) actions the robot executes meanwhile
    },
    "reset": {"episode": ((int,), True)},
    "ping": {"request_id": ((int,), False)},
    "bye": {},
    # server -> client
    "welcome": {"session": ((int,), True), "policy": ((dict,), True)},
    "actions": {
        "tick": ((int,), True),
        "episode": ((int,), True),
        "actions": ((_ANY_ARRAY,), True),
        "timings_ms": ((dict,), True),
        "request_id": ((int,), False),
    },
    "ok": {"request_id": ((int,), False)},
    # RL actor -> learner (robotlearn.rl): steps as they happen, each observation sent once
    "actor_hello": {"actor": ((str,), True), "run": ((str,), False)},
    "steps": {
        "batch": ((int,), True),
        "episode": ((int,), True),
        "start": ((int,), True),
        "steps": ((dict,), True),
        "final": ((dict,), False),
        "episode_info": ((dict,), False),
    },
    "weights_request": {"version": ((int,), True)},
    # RL learner -> actor
    "learner_welcome": {"policy": ((dict,), True), "version": ((int,), True), "last_batch": ((int,), True)},
    "ack": {"batch": ((int,), True)},
    "weights": {"version": ((int,), True), "safetensors": ((_ANY_ARRAY,), True)},
    "pong": {"request_id": ((int,), False)},
    "error": {"code": ((str,), True), "message": ((str,), True)},
}


def _msgpack():
    try:
        import msgpack
    except ImportError:
        from robotlearn.errors import MissingDependencyError

        raise MissingDependencyError(
            "the policy server/client needs msgpack: pip install 'robotlearn[inference]'"
        ) from None
    return msgpack


def _pack_default(obj):
    msgpack = _msgpack()

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        code = _CODES.get(obj.dtype.newbyteorder("<") if obj.dtype.byteorder == ">" else obj.dtype)
        if code is None or obj.ndim > MAX_NDIM:
            raise ProtocolError(
                f"cannot send an array of dtype {obj.dtype} (ndim {obj.ndim}); allowed: "
                f"{sorted(str(d) for d in DTYPES.values())}, ndim <= {MAX_NDIM}"
            )
        arr = np.ascontiguousarray(obj, dtype=DTYPES[code])
        head = _ARRAY_HEAD.pack(code, arr.ndim) + struct.pack(f"<{arr.ndim}I", *arr.shape)
        return msgpack.ExtType(ARRAY_EXT, head + arr.tobytes())
    raise ProtocolError(
        f"cannot send a value of type {type(obj).__name__}: only numbers, bools, UTF-8 strings, "
        "lists, string-keyed maps and numeric numpy arrays"
    )


def _ext_hook(code: int, data: bytes):
    if code != ARRAY_EXT:
        raise ProtocolError(f"unknown msgpack extension type {code}")
    if len(data) < _ARRAY_HEAD.size:
        raise ProtocolError("truncated array header")
    dtype_code, ndim = _ARRAY_HEAD.unpack_from(data)
    if dtype_code not in DTYPES:
        raise ProtocolError(f"array dtype code {dtype_code} is not allowed")
    if ndim > MAX_NDIM or len(data) < _ARRAY_HEAD.size + 4 * ndim:
        raise ProtocolError(f"bad array header (ndim {ndim})")
    shape = struct.unpack_from(f"<{ndim}I", data, _ARRAY_HEAD.size)
    offset = _ARRAY_HEAD.size + 4 * ndim
    dtype = DTYPES[dtype_code]
    n = 1
    for d in shape:
        n *= d
    if n * dtype.itemsize != len(data) - offset:
        raise ProtocolError(
            f"array of shape {shape} and dtype {dtype} needs {n * dtype.itemsize} bytes, "
            f"frame holds {len(data) - offset}"
        )
    arr = np.frombuffer(data, dtype=dtype, count=n, offset=offset).reshape(shape).copy()
    if dtype_code == 1 and arr.size and not np.isin(arr.view(np.uint8), (0, 1)).all():
        raise ProtocolError("bool array holds values other than 0 and 1")
    return arr


def mac_of(token: bytes, head: bytes, payload: bytes) -> bytes:
    """HMAC-SHA256 over the first 12 header bytes and the payload."""
    m = hmac.new(token, head, hashlib.sha256)
    m.update(payload)
    return m.digest()


def encode(message: dict[str, Any], token: bytes = b"", version: int = SCHEMA_VERSION) -> bytes:
    """Message dict (with a `type` from SCHEMA) -> one frame (header + payload)."""
    msgpack = _msgpack()

    validate(message)
    payload = msgpack.packb(message, default=_pack_default, use_bin_type=True)
    head = struct.pack("<4sHHI", MAGIC, version, 0, len(payload))
    return head + mac_of(token, head, payload) + payload


def parse_header(header: bytes, max_bytes: int) -> tuple[int, bytes]:
    """Checks a 44-byte header; returns (payload length, mac). Raises ProtocolError (bad magic),
    VersionMismatchError or MessageTooLargeError."""
    if len(header) != HEADER_SIZE:
        raise ProtocolError(f"truncated frame header ({len(header)} of {HEADER_SIZE} bytes)")
    magic, version, flags, length, mac = HEADER.unpack(header)
    if magic != MAGIC:
        raise ProtocolError(
            f"not a robotlearn frame (magic {magic!r}, expected {MAGIC!r}): is the peer a robotlearn "
            "policy server/client of the same version?"
        )
    if version != SCHEMA_VERSION:
        raise VersionMismatchError(
            f"peer speaks schema version {version}, this side speaks {SCHEMA_VERSION}: "
            "install the same robotlearn version on both machines"
        )
    if flags != 0:
        raise ProtocolError(f"unknown frame flags {flags:#x}")
    if length > max_bytes:
        raise MessageTooLargeError(
            f"frame of {length} bytes exceeds the cap of {max_bytes} bytes "
            "(--max_message_mb); send smaller observations (resize images on the client)"
        )
    return length, mac


def decode_payload(header: bytes, payload: bytes, token: bytes = b"") -> dict[str, Any]:
    """Verifies the MAC (constant time) and only then decodes and validates the message.

    Raises AuthenticationError or ProtocolError."""
    msgpack = _msgpack()

    _, mac = HEADER.unpack(header)[3:]
    if not hmac.compare_digest(mac, mac_of(token, header[:12], payload)):
        raise AuthenticationError(
            "frame authentication failed: wrong or missing token "
            "(set ROBOTLEARN_TOKEN or --token_file to the server's token)"
        )
    n = len(payload)
    try:
        message = msgpack.unpackb(
            payload,
            raw=False,
            strict_map_key=True,
            ext_hook=_ext_hook,
            use_list=True,
            max_str_len=n,
            max_bin_len=n,
            max_array_len=n,
            max_map_len=n,
            max_ext_len=n,
        )
    except ProtocolError:
        raise
    except Exception as e:  # msgpack raises ValueError, ExtraData, FormatError, StackError, UnicodeDecodeError...
        raise ProtocolError(f"undecodable payload ({type(e).__name__}: {' '.join(str(e).split())[:200]})") from None
    validate(message)
    return message


def decode(frame: bytes, token: bytes = b"", max_bytes: int = DEFAULT_MAX_MESSAGE_BYTES) -> dict[str, Any]:
    """One whole frame (bytes) -> message. Raises ProtocolError / AuthenticationError."""
    length, _ = parse_header(frame[:HEADER_SIZE], max_bytes)
    payload = frame[HEADER_SIZE:]
    if len(payload) != length:
        raise ProtocolError(f"frame declares {length} payload bytes, holds {len(payload)}")
    return decode_payload(frame[:HEADER_SIZE], payload, token)


def _check_value(value, where: str, depth: int = 0) -> None:
    if depth > 8:
        raise ProtocolError(f"{where}: nested too deeply")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ProtocolError(f"{where}: map keys must be strings, got {type(k).__name__}")
            _check_value(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_value(v, f"{where}[{i}]", depth + 1)
    elif not isinstance(value, (str, int, float, bool, np.ndarray)) and value is not None:
        raise ProtocolError(f"{where}: values of type {type(value).__name__} are not allowed")


def validate(message) -> None:
    """Raises ProtocolError unless `message` is a map whose `type` and fields match SCHEMA."""
    if not isinstance(message, dict):
        raise ProtocolError(f"a message must be a map, got {type(message).__name__}")
    kind = message.get("type")
    if kind not in SCHEMA:
        raise ProtocolError(f"unknown message type {kind!r}; known: {sorted(SCHEMA)}")
    fields = SCHEMA[kind]
    problems = []
    for name, (types, required) in fields.items():
        if name not in message:
            if required:
                problems.append(f"missing field {name!r}")
            continue
        value = message[name]
        if isinstance(value, bool) and bool not in types or not isinstance(value, types):
            problems.append(f"field {name!r} must be {'/'.join(t.__name__ for t in types)}, got {type(value).__name__}")
    extra = sorted(set(message) - set(fields) - {"type"})
    if extra:
        problems.append(f"unknown fields {extra}")
    if problems:
        raise ProtocolError(f"bad {kind!r} message: {'; '.join(problems)}")
    _check_value(message, kind)
