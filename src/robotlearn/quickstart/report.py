"""The quickstart's HTML report: dataset, training curve, success rates, videos, commands, advice."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np

from robotlearn.configs import config_to_flags
from robotlearn.quickstart.plan import REPO_ID, Plan, QuickstartConfig, command_line


def dataset_summary(plan: Plan, frames_per_camera: int = 6):
    """DatasetSummary of the recorded dataset, with a few frames of each camera as inline PNGs."""
    from robotlearn.datasets import LeRobotDataset
    from robotlearn.report import DatasetSummary, png_data_uri

    ds = LeRobotDataset(REPO_ID, root=plan.dataset)
    meta = ds.meta
    features = {}
    for key, ft in meta.features.items():
        if key in ("timestamp", "frame_index", "episode_index", "index", "task_index"):
            continue
        shape = "x".join(str(s) for s in ft["shape"])
        names = ft.get("names")
        names = f" [{', '.join(names)}]" if isinstance(names, list) and ft["dtype"] not in ("video", "image") else ""
        features[key] = f"{ft['dtype']} {shape}{names}"
    # first, middle and last frame of the first episodes
    picks = []
    for episode in meta.episodes[: max(1, frames_per_camera // 3)]:
        start, end = int(episode["dataset_from_index"]), int(episode["dataset_to_index"])
        picks += [(int(episode["episode_index"]), i - start, i) for i in (start, (start + end) // 2, end - 1)]
    frames: dict[str, list[tuple[str, str]]] = {key: [] for key in meta.camera_keys}
    for episode_index, frame_index, i in picks[:frames_per_camera]:
        item = ds[i]
        for key in meta.camera_keys:
            image = (item[key].permute(1, 2, 0).clamp(0, 1).numpy() * 255).round().astype(np.uint8)
            caption = f"episode {episode_index}, t = {frame_index / meta.fps:.1f} s"
            frames[key].append((caption, png_data_uri(image, scale=2)))
    return DatasetSummary(
        root=str(plan.dataset),
        repo_id=REPO_ID,
        episodes=meta.total_episodes,
        frames_total=meta.total_frames,
        fps=meta.fps,
        tasks=list(meta.tasks),
        features=features,
        frames=frames,
    )


def build_report(
    plan: Plan,
    args: QuickstartConfig,
    commands: dict[str, str],
    shown_commands: dict[str, str],
    metrics: list[dict],
    n_params: int | None,
    policy_eval: dict,
    expert_eval: dict | None,
    timings: dict[str, float],
    success_curve: list[dict] | None = None,
) -> Path:
    """Writes <output_dir>/report.html from the phases' results; returns its path."""
    import os

    from robotlearn.report import EvaluationSummary, ReportData, TrainingSummary, write_report

    report_path = plan.out / "report.html"
    dataset = dataset_summary(plan)
    dataset.wall_time_s = timings.get("record")
    details = {
        "Inputs": "agent position + block pose (observation.state, observation.environment_state)",
        "Policy flags": " ".join(f for f in shlex.split(commands["train"]) if f.startswith("--policy.")),
        "Seed": str(args.seed),
    }
    training = TrainingSummary(
        policy_type=args.policy.type,
        steps=args.steps,
        batch_size=args.batch_size,
        checkpoint=str(plan.checkpoint),
        metrics=metrics,
        n_params=n_params,
        wall_time_s=timings.get("train"),
        details=details,
        success_curve=success_curve or [],
    )
    videos = [
        (
            f"policy, episode {i} (seed {args.eval.seed + i}): "
            f"{'success' if policy_eval['per_episode'][i]['success'] else 'fail'}",
            os.path.relpath(path, report_path.parent),
        )
        for i, path in enumerate(policy_eval.get("video_paths", []))
    ]
    if expert_eval is not None:
        videos += [
            (
                f"expert, episode {i} (seed {args.eval.seed + i}): "
                f"{'success' if expert_eval['per_episode'][i]['success'] else 'fail'}",
                os.path.relpath(path, report_path.parent),
            )
            for i, path in enumerate(expert_eval.get("video_paths", []))
        ]
    evaluation = EvaluationSummary(
        policy=policy_eval,
        expert=expert_eval,
        seed=args.eval.seed,
        max_steps=args.eval.max_steps,
        videos=videos,
        wall_time_s=timings.get("eval"),
    )
    shown = {
        "1. Record demonstrations": shown_commands["record"],
        "2. Train": shown_commands["train"],
        "3. Evaluate": shown_commands["eval"],
        "All of it": command_line("quickstart", config_to_flags(args), multiline=True),
    }
    data = ReportData(
        title="robotlearn quickstart: PushT",
        dataset=dataset,
        training=training,
        evaluation=evaluation,
        commands=shown,
        total_time_s=sum(timings.values()),
        next_steps=[viewer_link(plan, report_path), *next_steps(args, policy_eval, expert_eval)],
    )
    return write_report(report_path, data)


def viewer_link(plan: Plan, report_path: Path) -> str:
    """Writes the dataset viewer beside the report (<output_dir>/dataset_viewer/) and returns the advice linking it."""
    import os

    from robotlearn.viewer import write_viewer

    index = write_viewer(plan.dataset, plan.out / "dataset_viewer").index
    href = os.path.relpath(index, report_path.parent)
    return (
        f"Look at every recorded demonstration in the <a id='dataset-viewer' href='{href}'>dataset viewer</a>: "
        "the camera video with the state and action plots under it (space plays, arrows step). "
        "Any dataset gets one with <code>robotlearn dataset view ROOT</code>."
    )


def next_steps(args: QuickstartConfig, policy_eval: dict, expert_eval: dict | None) -> list[str]:
    """Advice shown at the end of the report, depending on how the policy did."""
    from html import escape

    rate = policy_eval["aggregated"]["success_rate"]
    expert = expert_eval["aggregated"]["success_rate"] if expert_eval else None
    items = []
    if expert is not None and rate < 0.5 * expert:
        items.append(
            f"The policy is well below the expert ({rate:.0%} vs {expert:.0%}). Imitation needs more of both: "
            f"more demonstrations (<code>--episodes={2 * args.episodes}</code>) and more training "
            f"(<code>--steps={4 * args.steps}</code>); the loss curve above shows whether training had levelled off."
        )
    items.append(
        "Watch the videos: a policy that stalls next to the block has learned to stay where it is "
        "(most recorded actions are close to the current position); one that pushes in the wrong "
        "direction needs more data. Re-planning more often is free to try: <code>robotlearn eval ... "
        "--policy.overrides='{\"n_action_steps\": 1}'</code>."
    )
    items.append(
        "Learn from the camera instead of the simulator state: the train command above with "
        '<code>--policy.input_features=\'["observation.images.top","observation.state"]\'</code> '
        "and without the size flags (the policies' full sizes); this wants a GPU "
        "(<code>--device=cuda</code>) and many more steps."
    )
    checkpoint = Path(args.output_dir) / "train" / "checkpoints" / "last" / "pretrained_model"
    again = command_line("eval", [f"--policy.path={checkpoint}", "--eval.n_episodes=200"])
    items.append(f"A tighter estimate of the success rate: <code>{escape(again)}</code>.")
    return items
