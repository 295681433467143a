"""`check_robot(robot)`: does a robot keep the `Robot` contract? Run it on a new robot class.

    from robotlearn.robots.check import check_robot
    check_robot(MyArm(MyArmConfig(port="/dev/ttyACM0")))   # ConformanceError listing every problem, or nothing

It connects the robot, reads a few observations and sends actions that hold the current pose
where the action names match observation names (zeros otherwise), then disconnects it: run it
with the robot in a safe place. Simulators (`SimRobot`) also get their extra hooks checked.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robotlearn.errors import DeviceNotConnectedError
from robotlearn.robots import ROBOTS
from robotlearn.robots.robot import Robot
from robotlearn.robots.sim_robot import SimRobot
from robotlearn.utils.checks import Checklist, check_features, check_registration, check_values


def safe_action(action_features: dict[str, Any], observation: dict[str, Any] | None) -> dict[str, float]:
    """An action that holds the robot still where it can: each action takes the value of the
    observation of the same name (a joint's goal = its position), else 0.0."""
    observation = observation or {}
    action = {}
    for name in action_features:
        value = observation.get(name)
        action[name] = float(value) if isinstance(value, (int, float, np.integer, np.floating)) else 0.0
    return action


def _check_sim_hooks(checks: Checklist, robot: SimRobot) -> None:
    checks.call("reset_episode()", robot.reset_episode)
    checks.expect(isinstance(robot.last_info, dict), f"last_info is {type(robot.last_info).__name__}, expected a dict")
    ok, extra_features = checks.call("extra_dataset_features", lambda: robot.extra_dataset_features)
    if not ok or not checks.expect(isinstance(extra_features, dict), "extra_dataset_features is not a dict"):
        return
    for key, spec in extra_features.items():
        checks.expect(
            isinstance(spec, dict) and {"dtype", "shape"} <= set(spec),
            f"extra_dataset_features[{key!r}] is {spec!r}; expected a dataset feature {{'dtype', 'shape', 'names'}}",
        )
    ok, extra = checks.call("get_extra_observation()", robot.get_extra_observation)
    if not ok or not checks.expect(isinstance(extra, dict), "get_extra_observation() did not return a dict"):
        return
    checks.expect(
        set(extra) == set(extra_features),
        f"get_extra_observation() keys {sorted(extra)} differ from extra_dataset_features {sorted(extra_features)}",
    )
    for key, spec in extra_features.items():
        if key in extra and isinstance(spec, dict) and "shape" in spec:
            shape = tuple(getattr(extra[key], "shape", ()))
            checks.expect(
                shape == tuple(spec["shape"]),
                f"get_extra_observation()[{key!r}] has shape {shape}; the feature says {tuple(spec['shape'])}",
            )
    if robot.can_reset_to_state and "observation.environment_state" in extra:
        state = extra["observation.environment_state"]
        if checks.call("reset_to_state(the current environment state)", lambda: robot.reset_to_state(state))[0]:
            ok, again = checks.call("get_extra_observation() after reset_to_state", robot.get_extra_observation)
            if ok:
                checks.expect(
                    np.array_equal(np.asarray(again["observation.environment_state"]), np.asarray(state)),
                    "reset_to_state(state) then get_extra_observation() does not give back the same state",
                )


def check_robot(robot: Robot, n_steps: int = 2) -> None:
    """Walk the robot contract on a robot that is not connected; raise one ConformanceError
    listing every problem found (see the module docstring for what it does to the robot).

    Checks: `config.type` is registered in ROBOTS with this class and config class; features
    are well formed (observations: float or (H, W, C); actions: float); `get_observation`,
    `send_action` and `disconnect` before `connect()` raise DeviceNotConnectedError, a second
    `connect()` DeviceAlreadyConnectedError; `get_observation()` matches `observation_features`
    (keys, finite scalars, uint8 images of the declared shape); `send_action` accepts an action
    with every `action_features` key and returns one with the same keys; a `SimRobot`'s
    `reset_episode`, `extra_dataset_features`, `get_extra_observation` and `reset_to_state`
    agree; after `disconnect()` the robot reads as not connected.
    """
    checks = Checklist(f"robot {getattr(getattr(robot, 'config', None), 'type', '?')!r} ({type(robot).__name__})")
    if not checks.expect(isinstance(robot, Robot), "is not a robotlearn.robots.Robot subclass"):
        checks.done()
    check_registration(checks, robot, ROBOTS, "robotlearn.robots.ROBOTS")
    obs_ok, observation_features = checks.call("observation_features", lambda: robot.observation_features)
    obs_ok = obs_ok and check_features(checks, observation_features, "observation_features")
    act_ok, action_features = checks.call("action_features", lambda: robot.action_features)
    act_ok = act_ok and check_features(checks, action_features, "action_features", images=False)
    action_features = action_features if act_ok else {}
    zeros = {name: 0.0 for name in action_features}
    checks.expect_raises("send_action() before connect()", lambda: robot.send_action(zeros), DeviceNotConnectedError)
    checks.expect_connection_errors(robot, robot.get_observation, "get_observation()")
    if robot.is_connected:
        if isinstance(robot, SimRobot):
            _check_sim_hooks(checks, robot)
        for _ in range(n_steps):
            ok, obs = checks.call("get_observation()", robot.get_observation)
            if ok and obs_ok:
                check_values(checks, obs, observation_features, "get_observation()")
            if not act_ok:
                break
            action = safe_action(action_features, obs if ok else None)
            ok, sent = checks.call(
                "send_action(an action with every action_features key)", lambda a=action: robot.send_action(a)
            )
            if ok:
                check_values(checks, sent, action_features, "send_action()'s return value")
        checks.call("disconnect()", robot.disconnect)
        checks.expect(not robot.is_connected, "is_connected is True after disconnect()")
        checks.expect_raises("get_observation() after disconnect()", robot.get_observation, DeviceNotConnectedError)
    checks.done()
