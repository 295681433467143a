"""`check_env(env)`: does a simulated environment keep the contract evaluation relies on?

    from robotlearn.envs.check import check_env
    check_env(MyEnv(), action=np.zeros(2))      # ConformanceError listing every problem, or nothing

The contract is gymnasium's, with robotlearn's observation keys: `reset(seed=...) -> (obs, info)`,
`step(action) -> (obs, reward, terminated, truncated, info)`, `render() -> (H, W, 3) uint8`,
`close()`, a positive `fps`; observations are dicts keyed like dataset features
(`observation.state`: 1-D float vector, `observation.images.<camera>`: (H, W, 3) uint8), the
same keys and shapes at every step. A registered env also has `config_class` (whose `type` is its
name in `robotlearn.envs.ENVS`) and `from_config(config, max_steps=...)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotlearn.utils.checks import Checklist


def _check_observation(checks: Checklist, obs: Any, what: str, reference: dict | None) -> dict | None:
    """Keys and values of one observation; returns {key: (shape, dtype)} to compare later ones with."""
    if not checks.expect(
        isinstance(obs, dict) and obs, f"{what} observation is {type(obs).__name__}; expected a non-empty dict"
    ):
        return None
    layout = {}
    for key, value in obs.items():
        if not checks.expect(
            isinstance(key, str) and key.startswith("observation."),
            f"{what} observation key {key!r} does not start with 'observation.' (dataset feature names)",
        ):
            continue
        if not checks.expect(
            isinstance(value, np.ndarray),
            f"{what} observation[{key!r}] is {type(value).__name__}; expected an np.ndarray",
        ):
            continue
        layout[key] = (value.shape, value.dtype)
        if key.startswith("observation.images."):
            checks.expect(
                value.ndim == 3 and value.shape[2] == 3 and value.dtype == np.uint8,
                f"{what} observation[{key!r}] is {value.dtype} {value.shape}; images are (H, W, 3) uint8",
            )
        else:
            checks.expect(
                value.ndim == 1 and np.issubdtype(value.dtype, np.floating) and bool(np.isfinite(value).all()),
                f"{what} observation[{key!r}] is {value.dtype} {value.shape}; expected a finite 1-D float vector",
            )
    if reference is not None:
        checks.expect(
            layout == reference,
            f"{what} observation keys/shapes {_describe(layout)} differ from reset()'s {_describe(reference)}",
        )
    return layout


def _describe(layout: dict) -> str:
    return "{" + ", ".join(f"{k}: {s[1]}{tuple(s[0])}" for k, s in layout.items()) + "}"


def _check_registration(checks: Checklist, env: Any) -> None:
    from robotlearn.envs import ENVS

    config_cls = getattr(type(env), "config_class", None)
    if not checks.expect(isinstance(config_cls, type), "has no config_class (the dataclass `--env.type` selects)"):
        return
    ok, default = checks.call(f"{config_cls.__name__}()", config_cls)
    if not ok:
        return
    name = getattr(default, "type", None)
    if checks.expect(
        isinstance(name, str) and name in ENVS,
        f"{config_cls.__name__}().type {name!r} is not registered in robotlearn.envs.ENVS",
    ):
        ok, cls = checks.call(f"ENVS.get({name!r})", lambda: ENVS.get(name))
        if ok:
            checks.expect(
                isinstance(env, cls), f"ENVS[{name!r}] is {cls.__name__}, but the env is a {type(env).__name__}"
            )
    checks.expect(
        callable(getattr(type(env), "from_config", None)), "has no from_config(config, max_steps=...) classmethod"
    )


def check_env(env: Any, action: Any = None, n_steps: int = 3, seed: int = 0) -> None:
    """Walk the env contract (see the module docstring); raise one ConformanceError listing
    every problem found.

    Args:
        env: the environment (reset and stepped here).
        action: an action it accepts; default `env.action_space.sample()` when it has an
            `action_space`. The same action is sent `n_steps` times.
        seed: reset seed; two resets with it must give the same first observation.
    """
    checks = Checklist(f"env {type(env).__name__}")
    _check_registration(checks, env)
    fps = getattr(env, "fps", None)
    checks.expect(
        isinstance(fps, (int, float)) and fps > 0,
        f"fps is {fps!r}; expected a positive number (control steps per second)",
    )
    if action is None and getattr(env, "action_space", None) is not None:
        action = env.action_space.sample()
    ok, out = checks.call(f"reset(seed={seed})", lambda: env.reset(seed=seed))
    reference = None
    if ok and checks.expect(
        isinstance(out, tuple) and len(out) == 2, f"reset() returned {type(out).__name__}; expected (obs, info)"
    ):
        obs, info = out
        reference = _check_observation(checks, obs, "reset()", None)
        checks.expect(isinstance(info, dict), f"reset()'s info is {type(info).__name__}, expected a dict")
        ok, again = checks.call(f"a second reset(seed={seed})", lambda: env.reset(seed=seed))
        if ok and reference is not None and isinstance(again, tuple) and isinstance(again[0], dict):
            same = set(again[0]) == set(obs) and all(
                np.array_equal(np.asarray(again[0][k]), np.asarray(obs[k])) for k in obs
            )
            checks.expect(
                same, f"two reset(seed={seed}) calls gave different observations: seeding is not deterministic"
            )
    if action is None:
        checks.fail("no action to step with: pass check_env(env, action=...) or give the env an action_space")
    elif reference is not None:
        for i in range(n_steps):
            ok, out = checks.call(f"step(action) #{i + 1}", lambda: env.step(action))
            if not ok or not checks.expect(
                isinstance(out, tuple) and len(out) == 5,
                f"step() returned {type(out).__name__} of length {len(out) if isinstance(out, tuple) else '?'}; "
                "expected (obs, reward, terminated, truncated, info)",
            ):
                break
            obs, reward, terminated, truncated, info = out
            _check_observation(checks, obs, f"step() #{i + 1}", reference)
            checks.expect(
                isinstance(reward, (int, float, np.integer, np.floating)) and bool(np.isfinite(reward)),
                f"step()'s reward is {reward!r}; expected a finite number",
            )
            for flag, value in (("terminated", terminated), ("truncated", truncated)):
                checks.expect(isinstance(value, (bool, np.bool_)), f"step()'s {flag} is {value!r}; expected a bool")
            checks.expect(isinstance(info, dict), f"step()'s info is {type(info).__name__}, expected a dict")
            if terminated or truncated:
                break
    ok, frame = checks.call("render()", env.render)
    if ok:
        checks.expect(
            isinstance(frame, np.ndarray) and frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8,
            f"render() returned {type(frame).__name__} {getattr(frame, 'dtype', '')}{getattr(frame, 'shape', '')}; expected (H, W, 3) uint8",
        )
    checks.call("close()", env.close)
    checks.done()
