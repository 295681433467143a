"""`robotlearn rl-learner`: train SAC on the steps `robotlearn rl-actor` processes stream in.

    robotlearn rl-learner --env.type=gym --env.id=Pendulum-v1 --output_dir=outputs/rl/pendulum --max_transitions=20000
    robotlearn rl-actor --env.type=gym --env.id=Pendulum-v1 --steps=20000          # in another terminal

Listens on 127.0.0.1:8766 unless --host/--port say otherwise (a non-loopback --host needs a token:
$ROBOTLEARN_TOKEN or --token_file). An existing --output_dir is resumed: the last checkpoint's
weights, optimizer and temperature, and every step batch received so far. See docs/rl.md.
"""

from __future__ import annotations

from robotlearn.configs import parse_config
from robotlearn.rl.learner import Learner, LearnerConfig

CONFIG = LearnerConfig


def main(argv: list[str]) -> int:
    cfg = parse_config(LearnerConfig, argv, prog="robotlearn rl-learner", description=__doc__)
    import torch

    torch.set_num_threads(cfg.num_threads)
    learner = Learner(cfg).start()
    print(
        f"learner for {cfg.env.type} ({learner.streams.transitions} transitions, {learner.updates} updates so far); "
        f"listening on {learner.address}",
        flush=True,
    )

    def on_log(m):
        print(
            f"updates {m['updates']}, transitions {m['transitions']}, weights v{m['version']}, "
            f"critic {m.get('critic_loss', float('nan')):.3f}, alpha {m.get('alpha', float('nan')):.3f}",
            flush=True,
        )

    try:
        learner.run(on_log=on_log)
    except KeyboardInterrupt:
        print("stopped; checkpoint written", flush=True)
    finally:
        learner.stop()
    print(
        f"done: {learner.updates} updates on {learner.streams.transitions} transitions; {cfg.output_dir}/checkpoint",
        flush=True,
    )
    return 0
