"""`check_policy(policy)`: does a policy keep the `Policy` contract? Run it on a new policy class.

    from robotlearn.policies.check import check_policy
    check_policy(make_policy("my_policy", dataset.meta))   # ConformanceError listing every problem, or nothing

It builds a random batch shaped as the policy's `delta_timestamps` say a DataLoader would give
it, runs `forward` (and `backward`) on it, then `reset()` and `select_action` on single-step
observations. The weights and buffers are restored afterwards (and gradients cleared).
"""

from __future__ import annotations

import torch

from robotlearn.policies.factory import POLICIES
from robotlearn.policies.policy import ACTION_KEY, VISUAL, Policy
from robotlearn.utils.checks import Checklist, check_registration


def random_batch(policy: Policy, batch_size: int, fps: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """A training batch shaped like a LeRobotDataset DataLoader's for `policy.delta_timestamps(fps)`:
    windowed keys (B, T, *shape) with `<key>_is_pad` (B, T) all False, others (B, *shape); images
    float in [0, 1], (C, H, W) per step; plus the policy's `extra_batch_keys`, random."""
    windows = policy.delta_timestamps(fps)
    batch = {}
    for key, ft in policy.config.features.items():
        steps = len(windows[key]) if key in windows else None
        shape = [batch_size] + ([] if steps is None else [steps]) + list(ft["shape"])
        batch[key] = torch.rand(shape, generator=generator)
        if steps is not None:
            batch[f"{key}_is_pad"] = torch.zeros(batch_size, steps, dtype=torch.bool)
    for key, shape in policy.extra_batch_keys.items():
        batch[key] = torch.rand([batch_size, *shape], generator=generator)
    return batch


def random_observation(policy: Policy, batch_size: int, generator: torch.Generator) -> dict[str, torch.Tensor]:
    """One step of observations as `select_action` gets them: (B, *shape) per input feature."""
    return {
        key: torch.rand([batch_size] + list(ft["shape"]), generator=generator)
        for key, ft in policy.config.features.items()
        if key != ACTION_KEY
    }


def check_policy(policy: Policy, batch_size: int = 2, fps: int = 10, n_select: int = 2, seed: int = 0) -> None:
    """Walk the policy contract; raise one ConformanceError listing every problem found.

    Checks: `config.type` is registered in POLICIES with this class and config class; the
    config's `features` have an `action` and typed, shaped inputs; `delta_timestamps(fps)` maps
    feature keys to lists of seconds; `forward(batch)` returns (finite scalar loss that
    back-propagates, dict); `reset()` then `select_action(observation)` returns a finite
    `(batch_size, action_dim)` tensor, `n_select` times in a row.
    """
    checks = Checklist(f"policy {getattr(getattr(policy, 'config', None), 'type', '?')!r} ({type(policy).__name__})")
    if not checks.expect(isinstance(policy, Policy), "is not a robotlearn.policies.Policy subclass"):
        checks.done()
    check_registration(checks, policy, POLICIES, "robotlearn.policies.POLICIES")
    features = policy.config.features
    if not checks.expect(
        isinstance(features, dict) and ACTION_KEY in features,
        f"config.features has no {ACTION_KEY!r} (build the policy with make_policy(dataset.meta))",
    ):
        checks.done()
    for key, ft in features.items():
        if not checks.expect(
            isinstance(ft, dict) and "type" in ft and "shape" in ft,
            f"config.features[{key!r}] is {ft!r}; expected {{'type', 'shape'}}",
        ):
            continue
        if ft["type"] == VISUAL:
            checks.expect(
                len(ft["shape"]) == 3,
                f"config.features[{key!r}] is VISUAL with shape {ft['shape']}; expected (C, H, W)",
            )
    checks.expect(any(k != ACTION_KEY for k in features), "config.features has no input feature")
    ok, windows = checks.call(f"delta_timestamps({fps})", lambda: policy.delta_timestamps(fps))
    if ok and checks.expect(
        isinstance(windows, dict), f"delta_timestamps() returned {type(windows).__name__}, expected a dict"
    ):
        for key, offsets in windows.items():
            checks.expect(key in features, f"delta_timestamps() names {key!r}, which is not in config.features")
            checks.expect(
                isinstance(offsets, (list, tuple)) and all(isinstance(t, (int, float)) for t in offsets),
                f"delta_timestamps()[{key!r}] is {offsets!r}; expected a list of seconds",
            )
    generator = torch.Generator().manual_seed(seed)
    was_training = policy.training
    action_dim = int(features[ACTION_KEY]["shape"][0])
    try:
        if ok:
            # Training mode updates buffers (BatchNorm statistics): keep a copy to restore.
            saved = {k: v.detach().clone() for k, v in policy.state_dict().items()}
            policy.train()
            _check_forward(checks, policy, random_batch(policy, batch_size, fps, generator))
            policy.load_state_dict(saved)
        policy.eval()
        checks.call("reset()", policy.reset)
        for i in range(n_select):
            observation = random_observation(policy, batch_size, generator)
            ok, action = checks.call(f"select_action() call {i + 1}", lambda obs=observation: policy.select_action(obs))
            if ok and checks.expect(
                isinstance(action, torch.Tensor), f"select_action() returned {type(action).__name__}, expected a tensor"
            ):
                checks.expect(
                    tuple(action.shape) == (batch_size, action_dim),
                    f"select_action() returned shape {tuple(action.shape)}; expected (batch_size, action_dim) = {(batch_size, action_dim)}",
                )
                checks.expect(bool(torch.isfinite(action).all()), "select_action() returned non-finite values")
        checks.call("reset()", policy.reset)
    finally:
        policy.train(was_training)
    checks.done()


def _check_forward(checks: Checklist, policy: Policy, batch: dict[str, torch.Tensor]) -> None:
    ok, out = checks.call("forward(batch)", lambda: policy(batch))
    if not ok:
        return
    if not checks.expect(
        isinstance(out, tuple) and len(out) == 2, f"forward() returned {type(out).__name__}; expected (loss, info)"
    ):
        return
    loss, info = out
    checks.expect(isinstance(info, dict), f"forward()'s info is {type(info).__name__}, expected a dict")
    if not checks.expect(
        isinstance(loss, torch.Tensor) and loss.dim() == 0, f"forward()'s loss is {loss!r}; expected a scalar tensor"
    ):
        return
    checks.expect(bool(torch.isfinite(loss)), f"forward()'s loss is {loss.item()}, not finite")
    if checks.expect(loss.requires_grad, "forward()'s loss does not require grad: it cannot train the policy"):
        checks.call("loss.backward()", loss.backward)
        checks.expect(
            any(p.grad is not None for p in policy.parameters()), "loss.backward() gave no parameter a gradient"
        )
        policy.zero_grad(set_to_none=True)
