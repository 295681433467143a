"""`robotlearn serve-policy` as a library call: `serve_policy(ServePolicyConfig(...))`."""

from __future__ import annotations

from dataclasses import dataclass, field

from robotlearn.errors import ConfigError


@dataclass
class ServedPolicyConfig:
    """The policy to serve: a trained checkpoint (--policy.path) or a built-in one (--policy.builtin)."""

    path: str | None = None
    """Its pretrained_model folder (or a checkpoint/training output folder)."""
    builtin: str | None = None
    """Instead of a checkpoint: pusht_expert (the scripted expert as a chunking policy) or hold (stays put; for
    measuring overhead)."""
    device: str = "cpu"
    """Device for the policy: cpu, cuda, mps."""
    chunk_size: int = 16
    """Built-in policies only: actions per chunk."""


@dataclass
class ServePolicyConfig:
    """`robotlearn serve-policy`: serve a policy's action chunks to robot clients (robotlearn run-policy)."""

    policy: ServedPolicyConfig = field(default_factory=ServedPolicyConfig)
    host: str = "127.0.0.1"
    """Address to listen on. Anything but loopback (127.0.0.1, ::1, localhost) needs a token."""
    port: int = 8765
    """TCP port (0: any free port, printed at start)."""
    token_file: str | None = None
    """File holding the shared token (default: $ROBOTLEARN_TOKEN; never given on the command line)."""
    tls_cert: str | None = None
    """PEM certificate file: serve over TLS (with --tls_key)."""
    tls_key: str | None = None
    """PEM private key file of --tls_cert."""
    max_message_mb: float = 64.0
    """Largest accepted message, MiB (bigger frames are refused before they are read)."""
    actions_per_chunk: int | None = None
    """Send at most this many actions per chunk (default: the policy's whole chunk)."""
    artificial_delay_s: float = 0.0
    """Extra time added after each inference, seconds (to test and benchmark delay; 0 in use)."""
    artificial_delay_busy: bool = False
    """Spend --artificial_delay_s busy-waiting (a core saturated, as a heavy policy would) instead of sleeping."""

    def __post_init__(self):
        if self.max_message_mb <= 0:
            raise ConfigError(f"--max_message_mb={self.max_message_mb} must be > 0")
        if self.artificial_delay_s < 0:
            raise ConfigError(f"--artificial_delay_s={self.artificial_delay_s} must be >= 0")


def load_served_policy(cfg: ServedPolicyConfig):
    """The policy object to serve (loaded once). Raises ConfigError / PolicyNotFoundError."""
    if bool(cfg.path) == bool(cfg.builtin):
        raise ConfigError("give exactly one of --policy.path=DIR (a trained policy) or --policy.builtin=NAME")
    if cfg.builtin:
        from robotlearn.inference.builtin import make_builtin_policy

        return make_builtin_policy(cfg.builtin, cfg.chunk_size)
    from robotlearn.policies.factory import make_policy_from_pretrained

    return make_policy_from_pretrained(cfg.path, device=cfg.device)


def make_server(cfg: ServePolicyConfig, policy=None, on_session=None):
    """A configured (not started) PolicyServer; loads the policy unless given."""
    from robotlearn.inference.server import PolicyServer
    from robotlearn.transport import resolve_token

    token = resolve_token(cfg.token_file)
    policy = policy if policy is not None else load_served_policy(cfg.policy)
    return PolicyServer(
        policy,
        host=cfg.host,
        port=cfg.port,
        token=token,
        artificial_delay_s=cfg.artificial_delay_s,
        artificial_delay_busy=cfg.artificial_delay_busy,
        max_message_bytes=int(cfg.max_message_mb * 1024 * 1024),
        tls_cert=cfg.tls_cert,
        tls_key=cfg.tls_key,
        actions_per_chunk=cfg.actions_per_chunk,
        on_session=on_session,
    )


def serve_policy(cfg: ServePolicyConfig, on_ready=None, on_session=None) -> None:
    """Loads the policy once, listens, serves until interrupted. `on_ready(server, load_s)` is called
    once listening (the command prints the address); `on_session(event, session)` per session."""
    import time

    from robotlearn.transport import is_loopback

    if not is_loopback(cfg.host):
        from robotlearn.transport import resolve_token

        if not resolve_token(cfg.token_file):  # refuse before the (possibly long) policy load
            from robotlearn.transport.connection import listen

            listen(cfg.host, 0, b"")  # raises the ConfigError naming what to do
    from robotlearn.transport import server_tls_context

    server_tls_context(cfg.tls_cert, cfg.tls_key)  # bad TLS files fail before the policy load too
    t0 = time.perf_counter()
    policy = load_served_policy(cfg.policy)
    load_s = time.perf_counter() - t0
    server = make_server(cfg, policy, on_session)
    server.start()
    if on_ready is not None:
        on_ready(server, load_s)
    try:
        server.serve_forever()
    finally:
        server.stop()
