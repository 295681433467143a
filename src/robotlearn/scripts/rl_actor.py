"""`robotlearn rl-actor`: act in an environment for `robotlearn rl-learner`, with its latest weights.

    robotlearn rl-actor --env.type=gym --env.id=Pendulum-v1 --learner=127.0.0.1:8766 --steps=20000

Streams every step to the learner (small batches, one unacknowledged at a time) and loads new
weights as soon as they are published. If the learner goes away the actor keeps its unsent steps,
reconnects and continues (--give_up_s bounds the wait). Keys (read from the terminal): escape is
the emergency stop (--safety.estop_key), space toggles a human's takeover with
--intervention.type=keyboard or teleop (--intervention.takeover_key). See docs/rl.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.rl.actor import Actor, ActorConfig

CONFIG = ActorConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(ActorConfig, argv, prog="robotlearn rl-actor", description=__doc__)
    import torch

    torch.set_num_threads(cfg.num_threads)
    actor = Actor(cfg)
    keys = getattr(getattr(actor.intervene, "keys", None), "reading", False)
    if actor.estop.active or keys:
        said = [f"{cfg.safety.estop_key}: emergency stop"] if actor.estop.active else []
        said += [f"{cfg.intervention.takeover_key}: take over / hand back"] if keys else []
        print("keys: " + ", ".join(said), flush=True)

    def on_episode(e):
        print(
            f"episode: return {e['return']:.1f} in {e['steps']} steps, {e['interventions']} intervened, "
            f"{e['clipped']} clipped, weights v{e['version']}" + (" (emergency stop)" if e["estop"] else ""),
            flush=True,
        )

    try:
        result = actor.run(on_episode=on_episode)
    except KeyboardInterrupt:
        print("stopped", flush=True)
        return 0
    if result["estop"]:
        print(f"emergency stop: robot held after {result['steps']} steps; steps and dataset saved", flush=True)
    print(
        f"done: {result['steps']} steps, {result['episodes']} episodes, {result['reconnects']} reconnects, "
        f"weights v{result['version']}",
        flush=True,
    )
    return 0
