"""`robotlearn eval`: roll out a trained policy in simulation; success rate, rewards and videos.

    robotlearn eval --policy.path=outputs/train/pusht/checkpoints/last/pretrained_model \\
        --env.type=pusht --eval.n_episodes=50 --output_dir=outputs/eval/pusht

Episode i starts from `env.reset(seed=eval.seed + i)`, so two policies evaluated with the same
seed face the same initial states. Writes `eval_info.json` (per episode: seed, success,
sum_reward, max_reward, steps; plus the aggregate) and H.264 MP4s of the first `eval.n_videos`
episodes under `output_dir/videos/`. `evaluate_policy` is the same thing as a function.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from robotlearn.configs import ConfigError, parse_config

ENV_TYPES = ("pusht",)
# Config fields that only change how a trained policy acts, not its weights.
INFERENCE_SETTINGS = ("n_action_steps", "temporal_ensemble_coeff", "num_inference_steps")


@dataclass
class PolicyArgs:
    path: str = field(default="", metadata={"help": "A pretrained_model directory (config.json + model.safetensors)."})
    overrides: dict = field(
        default_factory=dict,
        metadata={"help": "Inference settings to change, as JSON, e.g. '{\"n_action_steps\": 1, "
                          "\"temporal_ensemble_coeff\": 0.01}' (ACT) or '{\"n_action_steps\": 4}' (Diffusion). "
                          f"Allowed: {', '.join(INFERENCE_SETTINGS)}."},
    )


@dataclass
class EnvArgs:
    type: str = field(default="pusht", metadata={"help": "Simulator: pusht."})


@dataclass
class EvalOptions:
    n_episodes: int = field(default=50, metadata={"help": "Episodes to roll out."})
    seed: int = field(default=100_000, metadata={"help": "Episode i uses reset seed seed + i."})
    max_steps: int = field(default=300, metadata={"help": "Steps before an episode is cut off."})
    n_videos: int = field(default=4, metadata={"help": "Save MP4s of the first N episodes."})


@dataclass
class EvalArgs:
    policy: PolicyArgs = field(default_factory=PolicyArgs)
    env: EnvArgs = field(default_factory=EnvArgs)
    eval: EvalOptions = field(default_factory=EvalOptions)
    output_dir: str = field(default="outputs/eval", metadata={"help": "Where eval_info.json and videos/ go."})
    device: str = field(default="auto", metadata={"help": "cpu, cuda or auto."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (default: torch's choice)."})
    progress: bool = field(default=True, metadata={"help": "Show a progress bar."})


def make_env(env_type: str, max_steps: int):
    if env_type not in ENV_TYPES:
        raise ConfigError(f"--env.type={env_type!r} is unknown; choose one of {ENV_TYPES}")
    from robotlearn.envs.pusht import PushTEnv

    return PushTEnv(max_steps=max_steps)


def observation_to_policy(obs: dict, policy, env, device) -> dict[str, torch.Tensor]:
    """Env observation (numpy, unbatched) -> the policy's inputs: images (1, C, H, W) float [0, 1],
    vectors (1, D) float32.

    Keys match by name. A policy trained on a dataset with a different single camera name (e.g.
    `observation.image`) gets the env's single camera; `observation.environment_state` is read from
    the simulator when the policy uses it.
    """
    features = {k: f for k, f in policy.config.features.items() if k != "action"}
    env_images = [k for k, v in obs.items() if isinstance(v, np.ndarray) and v.ndim == 3]
    out = {}
    for key, ft in features.items():
        if key in obs:
            value = obs[key]
        elif ft["type"] == "VISUAL" and len(env_images) == 1:
            value = obs[env_images[0]]
        elif key == "observation.environment_state" and hasattr(env, "get_state"):
            value = env.get_state().astype(np.float32)
        else:
            raise ConfigError(f"the policy needs {key!r} but the environment provides {sorted(obs)}")
        tensor = torch.from_numpy(np.ascontiguousarray(value))
        if ft["type"] == "VISUAL":
            tensor = tensor.permute(2, 0, 1).float() / 255.0
        out[key] = tensor.float().unsqueeze(0).to(device)
    return out


def apply_inference_overrides(policy, overrides: dict) -> None:
    """Changes inference-only settings of a loaded policy (validated like the config itself)."""
    config = policy.config
    for key in overrides:
        if key not in INFERENCE_SETTINGS or not hasattr(config, key):
            allowed = [k for k in INFERENCE_SETTINGS if hasattr(config, k)]
            raise ConfigError(f"--policy.overrides: {key!r} cannot be changed at evaluation for a {config.type} "
                              f"policy; allowed: {allowed}")
    try:
        dataclasses.replace(config, **overrides)  # validates the combination before anything changes
    except ValueError as e:
        raise ConfigError(f"--policy.overrides={overrides}: {e}") from None
    for key, value in overrides.items():
        setattr(config, key, value)
    policy.reset()


def write_video(path: Path, frames: list[np.ndarray], fps: int) -> None:
    """Encodes (H, W, 3) uint8 frames as H.264 / yuv420p MP4 (plays in browsers)."""
    import av

    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264" if "libx264" in av.codecs_available else "h264", rate=fps)
        stream.width, stream.height = w - w % 2, h - h % 2
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            image = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame[: h - h % 2, : w - w % 2]), format="rgb24")
            for packet in stream.encode(image):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@torch.no_grad()
def rollout(policy, env, seed: int, device, record_video: bool = False) -> tuple[dict, list[np.ndarray]]:
    """One episode. Returns ({seed, success, sum_reward, max_reward, steps}, frames)."""
    policy.reset()
    obs, info = env.reset(seed=seed)
    frames = [env.render()] if record_video else []
    rewards, success, steps = [], False, 0
    while True:
        action = policy.select_action(observation_to_policy(obs, policy, env, device))
        obs, reward, terminated, truncated, info = env.step(action[0].float().cpu().numpy())
        rewards.append(reward)
        steps += 1
        success = success or bool(info.get("is_success", False))
        if record_video:
            frames.append(env.render())
        if terminated or truncated:
            break
    result = {"seed": seed, "success": success, "sum_reward": float(np.sum(rewards)),
              "max_reward": float(np.max(rewards)), "steps": steps}
    return result, frames


def evaluate_policy(policy, n_episodes: int, seed: int = 100_000, max_steps: int = 300, n_videos: int = 0,
                    video_dir: str | Path | None = None, device=None, env_type: str = "pusht",
                    progress: bool = True) -> dict:
    """Rolls `policy` out for `n_episodes` episodes (reset seeds seed, seed+1, ...).

    Returns {"per_episode": [...], "aggregated": {success_rate, avg_sum_reward, avg_max_reward,
    n_episodes}, "video_paths": [...]}.
    """
    from tqdm import tqdm

    device = torch.device(device) if device is not None else policy.device
    policy.eval()
    env = make_env(env_type, max_steps)
    per_episode, video_paths = [], []
    bar = tqdm(range(n_episodes), desc="eval", disable=not progress, dynamic_ncols=True)
    try:
        for i in bar:
            want_video = video_dir is not None and i < n_videos
            result, frames = rollout(policy, env, seed + i, device, record_video=want_video)
            per_episode.append(result)
            if want_video:
                path = Path(video_dir) / f"eval_episode_{i}.mp4"
                write_video(path, frames, getattr(env, "fps", 10))
                video_paths.append(str(path))
            successes = sum(r["success"] for r in per_episode)
            bar.set_postfix(success=f"{successes}/{len(per_episode)}")
    finally:
        env.close()
    aggregated = {
        "success_rate": float(np.mean([r["success"] for r in per_episode])) if per_episode else 0.0,
        "avg_sum_reward": float(np.mean([r["sum_reward"] for r in per_episode])) if per_episode else 0.0,
        "avg_max_reward": float(np.mean([r["max_reward"] for r in per_episode])) if per_episode else 0.0,
        "n_episodes": len(per_episode),
    }
    return {"per_episode": per_episode, "aggregated": aggregated, "video_paths": video_paths}


def main(argv: list[str] | None = None) -> int:
    from robotlearn.policies import make_policy_from_pretrained
    from robotlearn.scripts.train import resolve_device

    args = parse_config(EvalArgs, argv, prog="robotlearn eval", description=__doc__.split("\n\n")[0])
    if not args.policy.path:
        raise ConfigError("--policy.path is required: a checkpoint's pretrained_model directory")
    device = resolve_device(args.device)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    policy = make_policy_from_pretrained(args.policy.path, device=str(device))
    apply_inference_overrides(policy, args.policy.overrides)
    output_dir = Path(args.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    results = evaluate_policy(policy, args.eval.n_episodes, args.eval.seed, max_steps=args.eval.max_steps,
                              n_videos=args.eval.n_videos, video_dir=output_dir / "videos", device=device,
                              env_type=args.env.type, progress=args.progress)
    results["policy_path"] = str(args.policy.path)
    results["policy_overrides"] = args.policy.overrides
    (output_dir / "eval_info.json").write_text(json.dumps(results, indent=2))
    agg = results["aggregated"]
    print(f"success rate {agg['success_rate']:.2%} over {agg['n_episodes']} episodes | "
          f"mean max reward {agg['avg_max_reward']:.3f} | mean sum reward {agg['avg_sum_reward']:.2f}\n"
          f"wrote {output_dir / 'eval_info.json'}")
    return 0
