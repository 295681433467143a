"""`robotlearn serve-policy`: serve a policy's action chunks to robot clients (`robotlearn run-policy`).

    robotlearn serve-policy --policy.path=outputs/train/checkpoints/last/pretrained_model --port=8765

Loads the policy once and serves any number of clients, each in its own session. Listens on
127.0.0.1 unless --host says otherwise; a non-loopback --host needs a token ($ROBOTLEARN_TOKEN or
--token_file) and should use TLS (--tls_cert, --tls_key). See docs/inference.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.inference.serve import ServePolicyConfig, serve_policy

CONFIG = ServePolicyConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(ServePolicyConfig, argv, prog="robotlearn serve-policy", description=__doc__)

    def ready(server, load_s):
        print(f"loaded {server.info['type']} policy once in {load_s:.2f} s; serving it on {server.address}", flush=True)

    def session(event, s):
        extra = f" after {s.chunks} chunks" if event == "closed" else ""
        print(f"session {s.id} ({s.peer}) {event}{extra}", flush=True)

    try:
        serve_policy(cfg, on_ready=ready, on_session=session)
    except KeyboardInterrupt:
        print("stopped", flush=True)
    return 0
