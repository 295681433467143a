"""`check_teleoperator(teleop)`: does a teleoperator keep the `Teleoperator` contract?

    from robotlearn.teleoperators.check import check_teleoperator
    check_teleoperator(MyLeader(MyLeaderConfig(port="/dev/ttyACM1")))   # ConformanceError, or nothing

It connects the teleoperator, reads a few actions, calls `reset()` and disconnects it. A
teleoperator that drives a robot (`needs_robot`, e.g. a scripted expert) must be given a
connected robot before the check.
"""

from __future__ import annotations

from robotlearn.errors import DeviceNotConnectedError
from robotlearn.teleoperators import TELEOPERATORS
from robotlearn.teleoperators.teleoperator import Teleoperator
from robotlearn.utils.checks import Checklist, check_features, check_registration, check_values


def check_teleoperator(teleop: Teleoperator, n_steps: int = 2) -> None:
    """Walk the teleoperator contract on a teleoperator that is not connected; raise one
    ConformanceError listing every problem found.

    Checks: `config.type` is registered in TELEOPERATORS with this class and config class;
    `action_features` (floats) and `feedback_features` are well formed; `get_action` and
    `disconnect` before `connect()` raise DeviceNotConnectedError, a second `connect()`
    DeviceAlreadyConnectedError; `get_action()` matches `action_features` (keys, finite
    scalars); `reset()` and `send_feedback({})` work; after `disconnect()` it reads as not connected.
    """
    checks = Checklist(
        f"teleoperator {getattr(getattr(teleop, 'config', None), 'type', '?')!r} ({type(teleop).__name__})"
    )
    if not checks.expect(isinstance(teleop, Teleoperator), "is not a robotlearn.teleoperators.Teleoperator subclass"):
        checks.done()
    check_registration(checks, teleop, TELEOPERATORS, "robotlearn.teleoperators.TELEOPERATORS")
    act_ok, action_features = checks.call("action_features", lambda: teleop.action_features)
    act_ok = act_ok and check_features(checks, action_features, "action_features", images=False)
    ok, feedback = checks.call("feedback_features", lambda: teleop.feedback_features)
    checks.expect(not ok or isinstance(feedback, dict), f"feedback_features is {feedback!r}, expected a dict")
    checks.expect_connection_errors(teleop, teleop.get_action, "get_action()")
    if teleop.is_connected:
        checks.call("reset()", teleop.reset)
        for _ in range(n_steps):
            ok, action = checks.call("get_action()", teleop.get_action)
            if ok and act_ok:
                check_values(checks, action, action_features, "get_action()")
        checks.call("send_feedback({})", lambda: teleop.send_feedback({}))
        checks.call("disconnect()", teleop.disconnect)
        checks.expect(not teleop.is_connected, "is_connected is True after disconnect()")
        checks.expect_raises("get_action() after disconnect()", teleop.get_action, DeviceNotConnectedError)
    checks.done()
