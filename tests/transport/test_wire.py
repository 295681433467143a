"""The wire format: lossless arrays of allowlisted dtypes, and every bad frame rejected with a clear error."""

import pickle
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from robotlearn.errors import ConfigError
from robotlearn.transport import (
    AuthenticationError,
    MessageTooLargeError,
    ProtocolError,
    VersionMismatchError,
    is_loopback,
    listen,
    resolve_token,
    wire,
)

PACKAGES = [Path(__file__).resolve().parents[2] / "src" / "robotlearn" / name for name in ("transport", "inference")]


def observation_message(**extra):
    return {
        "type": "observation",
        "tick": 5,
        "episode": 1,
        "task": "push the T",
        **extra,
        "observation": {
            "observation.images.top": np.arange(96 * 96 * 3, dtype=np.uint8).reshape(96, 96, 3),
            "observation.state": np.array([1.5, -2.25], np.float32),
            "flags": np.array([True, False]),
            "big_endian": np.arange(4, dtype=">f8"),
            "history": np.ones((2, 3), np.int64),
        },
    }


def test_arrays_round_trip_exactly_with_their_dtype_and_shape():
    message = observation_message()
    decoded = wire.decode(wire.encode(message, b"secret"), b"secret")
    for key, value in message["observation"].items():
        got = decoded["observation"][key]
        assert got.shape == value.shape and np.array_equal(got, value), key
        assert got.dtype == value.dtype.newbyteorder("<") if value.dtype.byteorder == ">" else got.dtype == value.dtype
    assert decoded["task"] == "push the T" and decoded["tick"] == 5


@pytest.mark.parametrize(
    "value",
    [np.array([object()]), np.array(["text"]), np.zeros(2, np.complex64), {1, 2}, b"raw".decode("latin1").encode()],
)
def test_values_outside_the_allowlist_are_refused_when_sending(value):
    with pytest.raises(ProtocolError):
        wire.encode({**observation_message(), "observation": {"x": value}})


def test_no_pickle_or_torch_load_in_the_wire_packages():
    pattern = re.compile(
        r"^\s*(import|from)\s+(pickle|cPickle|dill|cloudpickle|marshal|shelve)\b|pickle\.(loads?|Unpickler)"
        r"|torch\.load\(|allow_pickle\s*=\s*True|(?<![.\w])(?<!def )(eval|exec)\("
    )
    hits = [
        f"{p}:{i}"
        for pkg in PACKAGES
        for p in sorted(pkg.rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits, hits


def test_wrong_token_is_rejected_before_the_payload_is_decoded(monkeypatch):
    frame = wire.encode(observation_message(), b"right")
    calls = []
    import msgpack

    monkeypatch.setattr(msgpack, "unpackb", lambda *a, **k: calls.append(1))
    with pytest.raises(AuthenticationError, match="wrong or missing token"):
        wire.decode(frame, b"wrong")
    with pytest.raises(AuthenticationError):
        wire.decode(frame, b"")
    assert not calls


def test_wrong_schema_version_names_both_versions():
    frame = wire.encode({"type": "ping"}, version=wire.SCHEMA_VERSION + 1)
    with pytest.raises(VersionMismatchError, match=f"version {wire.SCHEMA_VERSION + 1}.*speaks {wire.SCHEMA_VERSION}"):
        wire.decode(frame)


def test_over_cap_frame_is_refused_from_its_header():
    frame = wire.encode(observation_message())
    with pytest.raises(MessageTooLargeError, match="exceeds the cap of 1000 bytes"):
        wire.parse_header(frame[: wire.HEADER_SIZE], max_bytes=1000)


def test_pickle_payloads_are_rejected_raw_and_inside_a_frame():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    payload = pickle.dumps({"type": "ping", "x": Evil()})
    with pytest.raises(ProtocolError, match="not a robotlearn frame"):
        wire.decode(payload + b"\0" * 64)
    head = struct.pack("<4sHHI", wire.MAGIC, wire.SCHEMA_VERSION, 0, len(payload))
    framed = head + wire.mac_of(b"", head, payload) + payload
    with pytest.raises(ProtocolError):
        wire.decode(framed)


@pytest.mark.parametrize(
    "message,match",
    [
        ({"type": "launch"}, "unknown message type"),
        ({"type": "observation", "tick": "5", "episode": 0, "observation": {}}, "field 'tick' must be int"),
        ({"type": "observation", "tick": True, "episode": 0, "observation": {}}, "field 'tick' must be int"),
        ({"type": "reset"}, "missing field 'episode'"),
        ({"type": "ping", "extra": 1}, "unknown fields"),
    ],
)
def test_messages_that_break_the_schema_are_named(message, match):
    import msgpack

    payload = msgpack.packb(message)
    head = struct.pack("<4sHHI", wire.MAGIC, wire.SCHEMA_VERSION, 0, len(payload))
    with pytest.raises(ProtocolError, match=match):
        wire.decode(head + wire.mac_of(b"", head, payload) + payload)


def test_fuzzed_frames_raise_only_protocol_or_authentication_errors():
    rng = np.random.default_rng(0)
    valid = wire.encode(observation_message())
    outcomes = {"rejected": 0, "accepted": 0}
    for i in range(400):
        kind = i % 4
        if kind == 0:  # random bytes
            frame = rng.bytes(int(rng.integers(0, 200)))
        elif kind == 1:  # a valid header, random payload with a correct MAC (what a fuzzer with the token sends)
            payload = rng.bytes(int(rng.integers(0, 300)))
            head = struct.pack("<4sHHI", wire.MAGIC, wire.SCHEMA_VERSION, 0, len(payload))
            frame = head + wire.mac_of(b"", head, payload) + payload
        elif kind == 2:  # bit flips in a valid payload, MAC recomputed
            payload = bytearray(valid[wire.HEADER_SIZE :])
            for pos in rng.integers(0, len(payload), 4):
                payload[pos] ^= 1 << int(rng.integers(0, 8))
            head = valid[:12]
            frame = head + wire.mac_of(b"", head, bytes(payload)) + bytes(payload)
        else:  # truncated
            frame = valid[: int(rng.integers(0, len(valid)))]
        try:
            wire.decode(frame)
            outcomes["accepted"] += 1
        except (ProtocolError, AuthenticationError):
            outcomes["rejected"] += 1
    assert outcomes["rejected"] >= 300


def test_non_loopback_bind_without_a_token_is_refused_before_binding():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5")
    with pytest.raises(ConfigError, match="needs a token"):
        listen("0.0.0.0", 0, token=b"")


def test_token_comes_from_a_file_or_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ROBOTLEARN_TOKEN", "from-env")
    assert resolve_token() == b"from-env"
    (tmp_path / "token").write_text("from-file\n")
    assert resolve_token(str(tmp_path / "token")) == b"from-file"
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_token(str(tmp_path / "missing"))
