"""Async inference: a policy server plans action chunks while the robot client executes its queue.

    from robotlearn.inference import PolicyServer, RobotClient, ClientOptions, ActionQueue
    server = PolicyServer(policy).start()                        # loopback, port 8765
    client = RobotClient(robot, server.address, ClientOptions(fps=10)); client.connect()
    stats = client.run_episode(episode=0, n_actions=300)

See docs/inference.md. Commands: `robotlearn serve-policy`, `robotlearn run-policy`.
"""

from robotlearn.inference.client import ClientOptions, EpisodeStats, RobotClient
from robotlearn.inference.queue import DEFAULT_MERGE, MERGES, ActionQueue
from robotlearn.inference.server import PolicyServer

__all__ = ["DEFAULT_MERGE", "MERGES", "ActionQueue", "ClientOptions", "EpisodeStats", "PolicyServer", "RobotClient"]
