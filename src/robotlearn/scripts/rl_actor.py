"""`robotlearn rl-actor`: act in an environment for `robotlearn rl-learner`, with its latest weights.

    robotlearn rl-actor --env.type=gym --env.id=Pendulum-v1 --learner=127.0.0.1:8766 --steps=20000

Streams every step to the learner (small batches, one unacknowledged at a time) and loads new
weights as soon as they are published. If the learner goes away the actor keeps its unsent steps,
reconnects and continues (--give_up_s bounds the wait). See docs/rl.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.rl.actor import Actor, ActorConfig

CONFIG = ActorConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(ActorConfig, argv, prog="robotlearn rl-actor", description=__doc__)
    actor = Actor(cfg)

    def on_episode(e):
        print(f"episode: return {e['return']:.1f} in {e['steps']} steps, weights v{e['version']}", flush=True)

    try:
        result = actor.run(on_episode=on_episode)
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0
    print(
        f"done: {result['steps']} steps, {result['episodes']} episodes, {result['reconnects']} reconnects, "
        f"weights v{result['version']}",
        flush=True,
    )
    return 0
