"""DAgger on PushT: the expert labels the states the policy visits, the labelled episodes are appended
to a copy of the demonstrations, and the policy trains on the aggregate (Ross, Gordon and Bagnell
2011, https://arxiv.org/abs/1011.0686).

    from robotlearn.training.dagger import DaggerConfig, dagger
    result = dagger(DaggerConfig(train=TrainConfig(dataset=DatasetConfig(root="data/pusht_expert"), ...),
                                 rounds=3, episodes_per_round=20, output_dir="outputs/dagger"))

Behaviour cloning alone trains on the expert's states only; once the policy drifts off them it meets
states it never saw and errors compound. Each DAgger round rolls the current policy out in the
simulator, asks the scripted expert (`robotlearn.envs.pusht_expert.PushTExpert`) what it would do in
every visited state, stores those (state, expert action) frames as new episodes, and continues
training on everything collected so far. `robotlearn dagger` is `dagger` behind flags.

What is executed at each step is the expert's action with probability `beta` (in round r:
beta * beta_decay**(r-1)), else the policy's, as in the paper's mixture policy; what is stored is
always the expert's label. The expert plans a push and then executes it over a few steps, so its
label depends on its plan as well as the state: it follows the executed trajectory like a shadow,
and forgets its plan (re-plans from the state) whenever the executed action was more than
`resync_distance` px from its own. With `--expert_type=feedback` the labeller is the state-feedback
expert (`robotlearn.envs.pusht_feedback_expert`), whose label is a function of the state alone: it
has no plan to re-sync, and its labels agree with the demonstrations it recorded.

Layout of `output_dir`:

    dataset/      the demonstrations (copied, files unchanged) + one episode per DAgger rollout,
                  appended with the datasets writer (a valid LeRobotDataset v3.0)
    train/        the training run: behaviour cloning on the demonstrations, then `steps_per_round`
                  more steps (resumed) after each round; checkpoints/last is the final policy
    dagger.json   one row per round: beta, episodes and frames added, on-policy success rate, times
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from robotlearn.envs.pusht import ENV_STATE_KEY, OBS_IMAGE_KEY, OBS_STATE_KEY, PushTEnv
from robotlearn.envs.pusht_expert import PushTExpertConfig
from robotlearn.envs.pusht_feedback_expert import PUSHT_EXPERTS, make_pusht_expert
from robotlearn.errors import ConfigError
from robotlearn.training.train import TrainConfig, train

CAPTURE_TIME_KEY = "observation.capture_time"
# Features a DAgger frame fills (plus the writer's own: timestamp, indices).
FILLED = {OBS_STATE_KEY, OBS_IMAGE_KEY, ENV_STATE_KEY, CAPTURE_TIME_KEY, "action"}


@dataclass
class DaggerConfig:
    """`robotlearn dagger`: behaviour cloning, then rounds of expert-labelled policy rollouts (PushT)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    """The behaviour-cloning run: --train.dataset.root is the demonstrations (recorded with
    `--teleop.type=scripted_pusht`), --train.steps its length, --train.policy.* the policy. Its
    output_dir is replaced by <output_dir>/train."""
    expert: PushTExpertConfig = field(default_factory=PushTExpertConfig)
    """The labelling expert's options; use those the demonstrations were recorded with
    (e.g. --expert.max_target_distance=30)."""
    expert_type: str = "planner"
    """The labelling expert: planner (PushTExpert) or feedback (PushTFeedbackExpert, which uses only
    --expert.max_target_distance); the --teleop.expert the demonstrations were recorded with."""
    rounds: int = 3
    """DAgger rounds (rollouts + training) after behaviour cloning."""
    episodes_per_round: int = 20
    """Policy rollouts labelled per round."""
    steps_per_round: int = 1000
    """Training steps added after each round (the run is resumed on the grown dataset)."""
    beta: float = 0.5
    """Probability of executing the expert's action instead of the policy's in round 1."""
    beta_decay: float = 0.5
    """beta is multiplied by this after every round (0: pure policy rollouts from round 2 on)."""
    resync_distance: float = 10.0
    """The expert re-plans when the executed action was farther than this from its own, px."""
    seed: int = 300_000
    """Reset seed of the first rollout; rollout i of the whole run uses seed + i (keep it apart from
    the demonstrations' and the evaluation's seeds)."""
    max_steps: int = 300
    """Longest rollout, steps (a rollout also ends at success)."""
    init_from: str = ""
    """A training output directory (robotlearn train --output_dir) whose last checkpoint replaces the
    behaviour-cloning run (copied into <output_dir>/train; --train.steps then counts from its step)."""
    output_dir: str = "outputs/dagger"
    """Where the aggregated dataset, the training run and dagger.json go (must not exist yet)."""
    progress: bool = True
    """Show progress bars."""

    def __post_init__(self):
        if self.rounds < 0 or self.episodes_per_round < 1 or self.steps_per_round < 0:
            raise ConfigError(
                f"--rounds={self.rounds}, --episodes_per_round={self.episodes_per_round} and "
                f"--steps_per_round={self.steps_per_round}: need rounds >= 0, episodes >= 1, steps >= 0"
            )
        if self.expert_type not in PUSHT_EXPERTS:
            raise ConfigError(
                f"--expert_type={self.expert_type!r} is unknown: choose one of {', '.join(PUSHT_EXPERTS)}"
            )
        if not 0.0 <= self.beta <= 1.0 or not 0.0 <= self.beta_decay <= 1.0:
            raise ConfigError(f"--beta={self.beta} and --beta_decay={self.beta_decay} must be in [0, 1]")

    def beta_of_round(self, r: int) -> float:
        """Probability of executing the expert's action in round r (1-based)."""
        return self.beta * self.beta_decay ** (r - 1)


@dataclass
class DaggerResult:
    rounds: list[dict]
    """One row per round (also in dagger.json)."""
    dataset_root: Path
    """The aggregated dataset."""
    checkpoint_dir: Path
    """The last checkpoint (its pretrained_model is the final policy)."""


class ShadowExpert:
    """The expert's label for each state of a trajectory it does not drive. See the module docstring.

    Args:
        config: the expert's options.
        resync_distance: px; an executed action farther than this from the label makes the expert re-plan.
        kind: which expert (`make_pusht_expert`): planner or feedback.
    """

    def __init__(self, config: PushTExpertConfig, resync_distance: float, kind: str = "planner"):
        self.expert = make_pusht_expert(kind, config)
        self.resync_distance = resync_distance
        self.resyncs = 0

    def reset(self) -> None:
        self.expert.reset()

    def label(self, env: PushTEnv) -> np.ndarray:
        """The expert's target (x, y) for `env`'s current state."""
        return np.asarray(self.expert.act_env(env), dtype=np.float32)

    def executed(self, label: np.ndarray, action: np.ndarray) -> None:
        """Tell the expert what was executed instead of `label`; far from it, its plan is dropped."""
        if float(np.linalg.norm(np.asarray(action, np.float64) - label)) > self.resync_distance:
            self.expert.reset()
            self.resyncs += 1


def labelled_rollout(policy, env: PushTEnv, expert: ShadowExpert, seed: int, beta: float, rng, max_steps: int, task):
    """One episode from reset seed `seed`: the policy acts (the expert with probability `beta` per step),
    every state is labelled by the expert.

    Returns (frames for `add_frame`, {seed, success, steps, expert_steps}). A frame's action is the
    expert's label, its observations those the policy saw before acting."""
    import torch

    from robotlearn.evaluation.rollout import env_observation
    from robotlearn.policies.observation import observation_to_batch

    features = policy.config.features
    policy.reset()
    expert.reset()
    obs, _ = env.reset(seed=seed)
    frames, success, expert_steps = [], False, 0
    with torch.no_grad():
        for step in range(max_steps):
            state = np.asarray(env.get_state(), dtype=np.float32)
            label = expert.label(env)
            batch = observation_to_batch(env_observation(obs, env, features), features, policy.device)
            action = policy.select_action(batch)[0].float().cpu().numpy()
            if rng.random() < beta:
                action, expert_steps = label, expert_steps + 1
            expert.executed(label, action)
            frames.append(
                {
                    OBS_STATE_KEY: obs[OBS_STATE_KEY],
                    OBS_IMAGE_KEY: obs[OBS_IMAGE_KEY],
                    ENV_STATE_KEY: state,
                    CAPTURE_TIME_KEY: np.array([step / env.fps], dtype=np.float32),
                    "action": label,
                    "task": task,
                }
            )
            obs, _, terminated, _, info = env.step(action)
            if info["is_success"]:
                success = True
                break
    return frames, {"seed": seed, "success": success, "steps": len(frames), "expert_steps": expert_steps}


def check_dataset_features(meta) -> None:
    """Raises ConfigError unless the dataset holds PushT demonstrations a DAgger frame can extend."""
    from robotlearn.datasets.features import DEFAULT_FEATURES

    needed = {OBS_STATE_KEY, ENV_STATE_KEY, "action"}
    missing = sorted(needed - set(meta.features))
    unknown = sorted(set(meta.features) - FILLED - set(DEFAULT_FEATURES))
    if missing or unknown:
        raise ConfigError(
            f"{meta.root}: DAgger extends PushT demonstrations (robotlearn record --robot.type=sim_pusht "
            f"--teleop.type=scripted_pusht); missing features {missing}, features it cannot fill {unknown}"
        )


def _checkpoint_step(checkpoint: Path) -> int:
    from robotlearn.training.checkpoint import STATE_DIR

    return int(json.loads((checkpoint / STATE_DIR / "training_step.json").read_text())["step"])


def _copy_initial_checkpoint(source: Path, train_dir: Path) -> int:
    """Copies the last checkpoint of training run `source` into `train_dir`; returns its step."""
    from robotlearn.training.checkpoint import last_checkpoint

    checkpoint = last_checkpoint(source)
    shutil.copytree(checkpoint, train_dir / "checkpoints" / checkpoint.name)
    (train_dir / "checkpoints" / "last").symlink_to(checkpoint.name)
    shutil.copy2(source / "train_config.json", train_dir / "train_config.json")
    return _checkpoint_step(checkpoint)


def _train_quietly(cfg: TrainConfig, progress: bool):
    import torch

    threads = torch.get_num_threads()
    try:
        return train(dataclasses.replace(cfg, progress=progress))
    finally:
        torch.set_num_threads(threads)


def dagger(cfg: DaggerConfig) -> DaggerResult:
    """Runs behaviour cloning then `cfg.rounds` DAgger rounds; see the module docstring.

    Raises ConfigError (output_dir exists, no demonstrations, a dataset DAgger cannot extend), and
    whatever `train` raises."""
    from robotlearn.datasets import LeRobotDataset, LeRobotDatasetMetadata
    from robotlearn.policies import make_policy_from_pretrained

    out = Path(cfg.output_dir)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(f"--output_dir={out} is not empty: choose a new directory")
    source = cfg.train.dataset.root
    if not source or not Path(source).is_dir():
        raise ConfigError(f"--train.dataset.root={source!r}: give the folder of the demonstrations")
    repo_id = cfg.train.dataset.repo_id or f"local/{Path(source).name}"
    check_dataset_features(LeRobotDatasetMetadata(repo_id, root=source))
    dataset_root, train_dir = out / "dataset", out / "train"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, dataset_root)  # the demonstrations stay untouched
    train_cfg = dataclasses.replace(
        cfg.train,
        dataset=dataclasses.replace(cfg.train.dataset, root=str(dataset_root), repo_id=repo_id),
        output_dir=str(train_dir),
        resume=False,
        time_limit_s=0,
    )
    rows: list[dict] = []
    t0 = time.perf_counter()
    if cfg.init_from:
        train_dir.mkdir(parents=True)
        step = _copy_initial_checkpoint(Path(cfg.init_from), train_dir)
        train_cfg = dataclasses.replace(train_cfg, steps=step, resume=True)
    else:
        train_cfg = dataclasses.replace(train_cfg, time_limit_s=cfg.train.time_limit_s)
        result = _train_quietly(train_cfg, cfg.progress)
        train_cfg = dataclasses.replace(
            train_cfg, steps=_checkpoint_step(result.checkpoint_dir), resume=True, time_limit_s=0
        )
    rows.append({"round": 0, "train_steps": train_cfg.steps, "elapsed_s": time.perf_counter() - t0})

    expert = ShadowExpert(cfg.expert, cfg.resync_distance, cfg.expert_type)
    env = PushTEnv(max_steps=None)
    rng = np.random.default_rng(cfg.seed)
    seed = cfg.seed
    try:
        for r in range(1, cfg.rounds + 1):
            t_round = time.perf_counter()
            policy = make_policy_from_pretrained(train_dir / "checkpoints" / "last" / "pretrained_model")
            policy.eval()
            ds = LeRobotDataset.resume(repo_id, root=dataset_root)
            task = ds.meta.tasks[0]  # the demonstrations' task
            beta, outcomes, frames_added = cfg.beta_of_round(r), [], 0
            try:
                for _ in range(cfg.episodes_per_round):
                    frames, outcome = labelled_rollout(policy, env, expert, seed, beta, rng, cfg.max_steps, task)
                    for frame in frames:
                        ds.add_frame(frame)
                    ds.save_episode()
                    outcomes.append(outcome)
                    frames_added += len(frames)
                    seed += 1
            finally:
                ds.finalize()
            t_rollouts = time.perf_counter() - t_round
            train_cfg = dataclasses.replace(train_cfg, steps=train_cfg.steps + cfg.steps_per_round)
            if cfg.steps_per_round:
                _train_quietly(train_cfg, cfg.progress)
            rows.append(
                {
                    "round": r,
                    "beta": beta,
                    "episodes": len(outcomes),
                    "frames_added": frames_added,
                    "rollout_success_rate": float(np.mean([o["success"] for o in outcomes])),
                    "expert_resyncs": expert.resyncs,
                    "train_steps": train_cfg.steps,
                    "rollout_s": t_rollouts,
                    "round_s": time.perf_counter() - t_round,
                    "elapsed_s": time.perf_counter() - t0,
                    "per_episode": outcomes,
                }
            )
            (out / "dagger.json").write_text(json.dumps({"rounds": rows}, indent=2))
            print(
                f"round {r}: beta {beta:.2f}, {frames_added} frames from {len(outcomes)} rollouts "
                f"(success {rows[-1]['rollout_success_rate']:.0%}), trained to step {train_cfg.steps}",
                flush=True,
            )
    finally:
        env.close()
    (out / "dagger.json").write_text(json.dumps({"rounds": rows}, indent=2))
    from robotlearn.training.checkpoint import last_checkpoint

    return DaggerResult(rows, dataset_root, last_checkpoint(train_dir))
