"""TLS: a client that trusts the server's certificate talks to it; a wrong CA, a plain-TCP client
and a peer that never finishes its handshake are refused, and none of them holds up other clients.
The certificate is made here (self-signed for 127.0.0.1, with `cryptography`)."""

import datetime
import ipaddress
import socket

import numpy as np
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from robotlearn.errors import ConfigError
from robotlearn.inference.builtin import HoldChunkPolicy
from robotlearn.inference.server import PolicyServer
from robotlearn.transport import ConnectionClosedError, connect, server_tls_context


def self_signed(tmp_path, name: str) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def observation(tick: int) -> dict:
    return {
        "type": "observation",
        "tick": tick,
        "episode": 0,
        "observation": {
            "observation.state": np.array([100.0, 200.0], np.float32),
            "observation.images.top": np.zeros((96, 96, 3), np.uint8),
        },
    }


def test_tls_serves_trusting_clients_and_refuses_the_rest_without_blocking_others(tmp_path):
    cert, key = self_signed(tmp_path, "server")
    other_ca, _ = self_signed(tmp_path, "someone-else")
    server = PolicyServer(HoldChunkPolicy(), port=0, tls_cert=cert, tls_key=key).start()
    try:
        host, port = server.address.rsplit(":", 1)
        # a peer that connects and never starts its handshake holds up only its own thread
        silent = socket.create_connection((host, int(port)))
        client = connect(server.address, tls_ca=cert)
        assert client.request({"type": "hello"})["type"] == "welcome"
        reply = client.request(observation(0))
        assert reply["type"] == "actions"
        np.testing.assert_array_equal(np.asarray(reply["actions"])[0], [100.0, 200.0])  # hold: the agent's position
        # the server's certificate is not signed by the CA this client trusts
        with pytest.raises(ConnectionClosedError, match="TLS handshake"):
            connect(server.address, tls_ca=other_ca)
        # a plain-TCP client gets no reply (the handshake fails on the server), and no crash
        with pytest.raises(ConnectionClosedError):
            plain = connect(server.address, timeout_s=2.0)
            plain.sock.settimeout(5.0)
            plain.request({"type": "hello"})
        assert client.request(observation(1))["type"] == "actions"  # the good session is unaffected
        client.close()
        silent.close()
    finally:
        server.stop()


def test_tls_files_must_come_in_pairs_and_load(tmp_path):
    cert, _ = self_signed(tmp_path, "server")
    with pytest.raises(ConfigError, match="go together"):
        server_tls_context(cert, None)
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    with pytest.raises(ConfigError, match="cannot load"):
        server_tls_context(cert, str(bad))
