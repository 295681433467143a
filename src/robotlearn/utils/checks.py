"""What the conformance checkers share: a list of problems, raised once as `ConformanceError`.

Each interface ships a checker a plugin author runs on an instance, as gymnasium ships
`check_env`: `robotlearn.robots.check.check_robot`, `robotlearn.teleoperators.check.check_teleoperator`,
`robotlearn.cameras.check.check_camera`, `robotlearn.policies.check.check_policy` and
`robotlearn.envs.check.check_env`. Each walks its contract, collects every problem and raises one
`ConformanceError` listing them all (or returns quietly).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from robotlearn.errors import DeviceAlreadyConnectedError, DeviceNotConnectedError, RobotlearnError


class ConformanceError(RobotlearnError):
    """A component breaks its interface's contract. `problems` lists every one found."""

    def __init__(self, subject: str, problems: list[str]):
        self.subject = subject
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{subject} breaks its interface ({len(self.problems)} problem(s)):\n{lines}")


class Checklist:
    """Collects problems while a checker walks a contract; `done()` raises them together.

    checks = Checklist("robot 'my_arm' (MyArm)")
    checks.expect(isinstance(x, dict), "observation_features is not a dict")
    checks.done()   # ConformanceError listing every failed expectation, if any
    """

    def __init__(self, subject: str):
        self.subject = subject
        self.problems: list[str] = []

    def fail(self, problem: str) -> None:
        """Record a problem."""
        self.problems.append(problem)

    def expect(self, condition: bool, problem: str) -> bool:
        """Record `problem` unless `condition` holds; returns `condition`."""
        if not condition:
            self.fail(problem)
        return bool(condition)

    def call(self, what: str, fn: Callable[[], Any]) -> tuple[bool, Any]:
        """Run `fn()`; an exception becomes a problem "`what` raised ...". Returns (ok, result)."""
        try:
            return True, fn()
        except Exception as e:  # recorded, not swallowed: it ends up in the ConformanceError
            self.fail(f"{what} raised {type(e).__name__}: {e}")
            return False, None

    def expect_raises(self, what: str, fn: Callable[[], Any], error: type[BaseException]) -> None:
        """Expect `fn()` to raise `error` (or a subclass); any other outcome is a problem."""
        try:
            fn()
        except error:
            return
        except Exception as e:
            self.fail(f"{what} raised {type(e).__name__} ({e}); expected robotlearn.errors.{error.__name__}")
            return
        self.fail(f"{what} did not raise; expected robotlearn.errors.{error.__name__}")

    def expect_connection_errors(
        self, device: Any, use: Callable[[], Any], use_name: str, connect: Callable[[], Any] | None = None
    ) -> None:
        """The not-connected / already-connected contract of a device that is not connected now:
        `use()` and `disconnect()` raise DeviceNotConnectedError; after `connect()` a second
        `connect()` raises DeviceAlreadyConnectedError. Leaves the device connected if it could."""
        connect = connect or device.connect
        self.expect(not device.is_connected, "is_connected is True before connect()")
        self.expect_raises(f"{use_name} before connect()", use, DeviceNotConnectedError)
        self.expect_raises("disconnect() before connect()", device.disconnect, DeviceNotConnectedError)
        ok, _ = self.call("connect()", connect)
        if not ok:
            return
        self.expect(device.is_connected, "is_connected is False after connect()")
        self.expect_raises("a second connect()", connect, DeviceAlreadyConnectedError)

    def done(self) -> None:
        """Raise ConformanceError listing every recorded problem (nothing if there are none)."""
        if self.problems:
            raise ConformanceError(self.subject, self.problems)


def check_registration(checks: Checklist, obj: Any, registry: Any, registry_name: str) -> None:
    """`obj.config.type` names `obj`'s class in `registry` (a `robotlearn.utils.registry.Registry`,
    importable as `registry_name`), `obj.config` is that class's `config_class`, whose default
    `type` is the name; `obj.name`, where the class has one, is the name too."""
    type_name = getattr(getattr(obj, "config", None), "type", None)
    group = f" or an entry point in the group {registry.entry_point_group!r}" if registry.entry_point_group else ""
    if not checks.expect(
        isinstance(type_name, str) and type_name in registry,
        f"config.type {type_name!r} is not registered in {registry_name} (add a line there{group})",
    ):
        return
    ok, cls = checks.call(f"{registry_name}.get({type_name!r})", lambda: registry.get(type_name))
    if not ok:
        return
    checks.expect(
        isinstance(obj, cls), f"{registry_name}[{type_name!r}] is {cls.__name__}, but this is a {type(obj).__name__}"
    )
    config_cls = getattr(cls, "config_class", None)
    if not checks.expect(isinstance(config_cls, type), f"{cls.__name__} has no config_class"):
        return
    checks.expect(
        isinstance(obj.config, config_cls),
        f"config is a {type(obj.config).__name__}, not {cls.__name__}.config_class ({config_cls.__name__})",
    )
    ok, default = checks.call(f"{config_cls.__name__}()", config_cls)
    if ok:
        checks.expect(
            getattr(default, "type", None) == type_name,
            f"{config_cls.__name__}().type is {getattr(default, 'type', None)!r}; redeclare `type: str = {type_name!r}` in it",
        )
    name = getattr(type(obj), "name", None)
    checks.expect(name is None or name == type_name, f"name is {name!r}; expected the registered type {type_name!r}")


def is_image_shape(kind: Any) -> bool:
    """True for an image feature: a tuple (height, width, channels) of positive ints."""
    return (
        isinstance(kind, tuple)
        and len(kind) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in kind)
    )


def check_features(checks: Checklist, features: Any, what: str, images: bool = True) -> bool:
    """Hardware features (`name -> float` or, with `images`, `name -> (H, W, C)`) are well formed."""
    if not checks.expect(
        isinstance(features, dict) and len(features) > 0, f"{what} must be a non-empty dict, got {features!r}"
    ):
        return False
    ok = True
    for name, kind in features.items():
        if not isinstance(name, str) or not name:
            ok = checks.expect(False, f"{what}: key {name!r} is not a non-empty string")
        elif kind in (float, int, bool):
            continue
        elif images and is_image_shape(kind):
            continue
        else:
            allowed = "float or an image shape (height, width, channels)" if images else "float"
            ok = checks.expect(False, f"{what}[{name!r}] is {kind!r}; expected {allowed}")
    return ok


def check_values(checks: Checklist, values: Any, features: dict, what: str) -> None:
    """`values` (e.g. an observation) has exactly the keys of `features`, scalars where they say
    float, and uint8 arrays of exactly the feature's shape where they give an image shape."""
    if not checks.expect(isinstance(values, dict), f"{what} returned {type(values).__name__}, expected a dict"):
        return
    missing = [k for k in features if k not in values]
    extra = [k for k in values if k not in features]
    checks.expect(not missing, f"{what} lacks keys {missing} that the features declare")
    checks.expect(not extra, f"{what} has keys {extra} that the features do not declare")
    for name, kind in features.items():
        if name not in values:
            continue
        value = values[name]
        if kind in (float, int, bool):
            scalar = isinstance(value, (int, float, np.integer, np.floating, np.bool_)) or (
                isinstance(value, np.ndarray) and value.shape == ()
            )
            checks.expect(
                scalar and bool(np.isfinite(float(value))), f"{what}[{name!r}] is {value!r}; expected a finite scalar"
            )
        elif is_image_shape(kind):
            if checks.expect(
                isinstance(value, np.ndarray),
                f"{what}[{name!r}] is {type(value).__name__}; expected an np.ndarray {kind}",
            ):
                checks.expect(value.shape == kind, f"{what}[{name!r}] has shape {value.shape}; the features say {kind}")
                checks.expect(value.dtype == np.uint8, f"{what}[{name!r}] has dtype {value.dtype}; expected uint8")
