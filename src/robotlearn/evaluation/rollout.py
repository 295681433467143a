"""Roll a policy out in a simulated environment: one episode (`rollout`) or many (`evaluate_policy`).

Episode i starts from `env.reset(seed=seed + i)`, so two policies evaluated with the same seed face
the same initial states.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robotlearn.envs import ENV_STATE_KEY, EnvConfig, PushTEnvConfig, make_env
from robotlearn.errors import ConfigError
from robotlearn.policies.observation import observation_to_batch


def env_observation(obs: dict, env, features: dict) -> dict:
    """The env's observation plus `observation.environment_state` (the simulator's exact state)
    when the policy uses it and the env has `get_state()`."""
    if ENV_STATE_KEY in features and ENV_STATE_KEY not in obs and callable(getattr(env, "get_state", None)):
        obs = {**obs, ENV_STATE_KEY: np.asarray(env.get_state(), dtype=np.float32)}
    return obs


def rollout(policy, env, seed: int, device, record_video: bool = False) -> tuple[dict, list[np.ndarray]]:
    """One episode of `policy` in `env` from reset seed `seed`.

    Returns ({seed, success, sum_reward, max_reward, steps[, task]}, frames), `task` the episode's task
    name for a multi-task env (its `info["task_name"]`, else its instruction); frames are `env.render()`
    images (H, W, 3) uint8, the first one before any action, when `record_video`."""
    import torch

    features = policy.config.features
    policy.reset()
    obs, info = env.reset(seed=seed)
    task = info.get("task")  # a language-conditioned env says the episode's instruction here
    task_name = info.get("task_name", task)  # and its task's name (lang_pusht: red_top_left), for per-task scores
    frames = [env.render()] if record_video else []
    rewards, success, steps = [], False, 0
    with torch.no_grad():
        while True:
            batch = observation_to_batch(env_observation(obs, env, features), features, device, task=task)
            action = policy.select_action(batch)
            obs, reward, terminated, truncated, info = env.step(action[0].float().cpu().numpy())
            rewards.append(reward)
            steps += 1
            success = success or bool(info.get("is_success", False))
            if record_video:
                frames.append(env.render())
            if terminated or truncated:
                break
    result = {
        "seed": seed,
        "success": success,
        "sum_reward": float(np.sum(rewards)),
        "max_reward": float(np.max(rewards)),
        "steps": steps,
    }
    if task_name is not None:
        result["task"] = str(task_name)
    return result, frames


def write_video(path: str | Path, frames: list[np.ndarray], fps: int) -> Path:
    """Writes (H, W, 3) uint8 frames as an H.264 / yuv420p MP4 that browsers play (odd sizes cropped)."""
    from robotlearn.datasets.video_encode import encode_video

    h, w = frames[0].shape[:2]
    even = (np.ascontiguousarray(f[: h - h % 2, : w - w % 2]) for f in frames)
    encode_video(even, path, fps, vcodec="libx264", g=None)
    return Path(path)


def evaluate_policy(
    policy,
    n_episodes: int,
    seed: int = 100_000,
    max_steps: int = 300,
    n_videos: int = 0,
    video_dir: str | Path | None = None,
    device=None,
    env: EnvConfig | None = None,
    progress: bool = True,
    workers: int = 1,
) -> dict:
    """Rolls `policy` out for `n_episodes` episodes (reset seeds seed, seed+1, ...) in the environment
    `env` describes (default PushT) with `max_steps` per episode.

    Returns {"per_episode": [...], "aggregated": {success_rate, avg_sum_reward, avg_max_reward,
    n_episodes}, "video_paths": [...]}, plus "per_task" (see `per_task_results`) when the env names
    each episode's task (lang_pusht, metaworld); MP4s of the first `n_videos` episodes go to `video_dir`.
    torch's global RNG is seeded with the episode's seed before each episode, so a policy that samples
    (Diffusion's noise) gives the same episode i in any process and for any n_episodes.
    `workers` > 1 rolls episodes out in that many forked processes, one torch thread each (CPU policies
    only; see `parallel.py`): the same results, episode for episode, in a fraction of the time.
    """
    import torch
    from tqdm import tqdm

    device = torch.device(device) if device is not None else policy.device
    policy.eval()
    if workers > 1 and device.type != "cpu":
        raise ConfigError(
            f"--eval.workers > 1 evaluates on the CPU only (a {device.type} context does not survive fork)"
        )
    env_cfg = env or PushTEnvConfig()
    sims: list = []  # this process's env, made on first use (in each worker, after the fork)

    def run_episode(i: int) -> dict:
        if not sims:
            sims.append(make_env(env_cfg, max_steps=max_steps))
        sim = sims[0]
        want_video = video_dir is not None and i < n_videos
        torch.manual_seed(seed + i)
        result, frames = rollout(policy, sim, seed + i, device, record_video=want_video)
        if want_video:
            path = write_video(Path(video_dir) / f"eval_episode_{i}.mp4", frames, getattr(sim, "fps", 10))
            result["video_path"] = str(path)
        return result

    if workers > 1:
        from robotlearn.evaluation.parallel import run_in_processes

        episodes = run_in_processes(run_episode, n_episodes, workers)
    else:
        episodes = ((i, run_episode(i)) for i in range(n_episodes))
    done: dict[int, dict] = {}
    bar = tqdm(total=n_episodes, desc="eval", disable=not progress, dynamic_ncols=True)
    try:
        for i, result in episodes:
            done[i] = result
            bar.update(1)
            bar.set_postfix(success=f"{sum(r['success'] for r in done.values())}/{len(done)}")
    finally:
        bar.close()
        for sim in sims:
            sim.close()
    per_episode = [done[i] for i in range(n_episodes)]
    video_paths = [r.pop("video_path") for r in per_episode if "video_path" in r]

    def mean(key: str) -> float:
        return float(np.mean([r[key] for r in per_episode])) if per_episode else 0.0

    aggregated = {
        "success_rate": mean("success"),
        "avg_sum_reward": mean("sum_reward"),
        "avg_max_reward": mean("max_reward"),
        "n_episodes": len(per_episode),
    }
    out = {"per_episode": per_episode, "aggregated": aggregated, "video_paths": video_paths}
    if any("task" in r for r in per_episode):
        out["per_task"] = per_task_results(per_episode)
    return out


def per_task_results(per_episode: list[dict]) -> dict[str, dict]:
    """Episodes grouped by their "task": task -> {success_rate, avg_sum_reward, avg_max_reward,
    n_episodes}, tasks sorted by name (episodes without a task are left out)."""
    groups: dict[str, list[dict]] = {}
    for r in per_episode:
        if "task" in r:
            groups.setdefault(r["task"], []).append(r)
    return {
        task: {
            "success_rate": float(np.mean([r["success"] for r in rs])),
            "avg_sum_reward": float(np.mean([r["sum_reward"] for r in rs])),
            "avg_max_reward": float(np.mean([r["max_reward"] for r in rs])),
            "n_episodes": len(rs),
        }
        for task, rs in sorted(groups.items())
    }
