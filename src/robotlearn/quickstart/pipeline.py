"""The quickstart: from nothing to a trained, evaluated PushT policy and an HTML report.

    from robotlearn.quickstart import QuickstartConfig, quickstart
    summary = quickstart(QuickstartConfig(episodes=20, steps=2000, output_dir="outputs/qs_small"))

Four phases, each with a progress bar and one summary line (details go to <output_dir>/logs/):
  1. record   the scripted expert pushes the T in the simulator (2 processes by default, merged); episodes
              go to <output_dir>/dataset
              (`robotlearn.recording.session.record`, as fast as the simulator allows)
  2. train    a small state-based policy on them (`robotlearn.training.train`) -> <output_dir>/train
  3. eval     the checkpoint in the simulator (`robotlearn.evaluation.run_eval`, what `robotlearn eval`
              runs) and, on the same reset seeds, the scripted expert -> <output_dir>/eval*
  4. report   <output_dir>/report.html: dataset, loss curve, success rates, videos, commands
Each phase is a config object; the report shows the equivalent `robotlearn` command of each.
See docs/quickstart.md.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import shutil
import time
from pathlib import Path

from robotlearn.configs import config_to_flags
from robotlearn.errors import ConfigError, RobotlearnError
from robotlearn.evaluation import eval_summary_line, run_eval
from robotlearn.quickstart.plan import MARKER, REPO_ID, Plan, QuickstartConfig, make_plan
from robotlearn.quickstart.report import build_report
from robotlearn.recording.session import record
from robotlearn.training import train


def prepare_output_dir(out: Path, overwrite: bool) -> None:
    """Creates `out`/logs; an existing non-empty `out` is replaced only with `overwrite` and only
    when an earlier quickstart made it (holds quickstart.json). Raises ConfigError otherwise."""
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(
                f"--output_dir={out} is not empty: pass --overwrite to replace an earlier quickstart's "
                "results, or choose another --output_dir"
            )
        if not (out / MARKER).is_file():
            raise ConfigError(
                f"--output_dir={out} is not empty and was not made by the quickstart (no {MARKER}): "
                "refusing to delete it; choose another --output_dir"
            )
        shutil.rmtree(out)
    (out / "logs").mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def _stdout_to(path: Path):
    """Send prints (the phases' per-episode lines) to a log file; progress bars stay on stderr."""
    with open(path, "a", encoding="utf-8") as f, contextlib.redirect_stdout(f):
        yield


def duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def run_record(plan: Plan, progress: bool) -> float:
    """Records the demonstrations (in parallel processes when the plan has several parts, then merged);
    returns the seconds it took."""
    t0 = time.perf_counter()
    if len(plan.records) == 1:
        with _stdout_to(plan.out / "logs" / "record.log"):
            record(plan.records[0])
    else:
        record_in_parallel(plan, progress)
    return time.perf_counter() - t0


def record_in_parallel(plan: Plan, progress: bool) -> None:
    """One `robotlearn record` process per part (logs/record_<i>.log), a progress bar over their saved
    episodes, then `merge_datasets` of the parts into plan.dataset; the parts are removed once merged.
    Raises RobotlearnError naming the log of a process that failed."""
    import os
    import re
    import subprocess
    import sys

    from tqdm import tqdm

    from robotlearn.datasets.tools import merge_datasets

    # TQDM_DISABLE: no per-frame bars in the logs; the bar over all processes is drawn here
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    logs = [plan.out / "logs" / f"record_{i}.log" for i in range(len(plan.records))]
    procs = []
    for cfg, log in zip(plan.records, logs):
        argv = [sys.executable, "-m", "robotlearn.scripts.cli", "record", *config_to_flags(cfg)]
        with open(log, "w", encoding="utf-8") as f:
            procs.append(subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env))
    saved = re.compile(r"^episode \d+: ", re.M)  # the line `robotlearn record` prints per saved episode
    total = sum(cfg.dataset.num_episodes for cfg in plan.records)
    try:
        with tqdm(total=total, desc="record", unit="episode", disable=not progress, dynamic_ncols=True) as bar:
            while any(p.poll() is None for p in procs):
                time.sleep(0.5)
                done = sum(len(saved.findall(log.read_text(errors="replace"))) for log in logs)
                if done > bar.n:  # no redraw without news (a log file would get a line per poll)
                    bar.update(done - bar.n)
    finally:
        for p in procs:  # on Ctrl-C or an error: stop the others (each keeps the episodes it saved)
            if p.poll() is None:
                p.terminate()
            p.wait()
    for p, log in zip(procs, logs):
        if p.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise RobotlearnError(f"recording process failed (exit {p.returncode}), see {log}: {tail[0]}")
    with _stdout_to(plan.out / "logs" / "record.log"):
        result = merge_datasets([cfg.dataset.root for cfg in plan.records], plan.dataset)
        print("\n".join(result.lines))
    shutil.rmtree(plan.parts_dir)  # every episode is in plan.dataset now


def run_train(plan: Plan, progress: bool) -> tuple[list[dict], int, float, dict[int, float]]:
    """Trains; returns (metrics rows, number of parameters, seconds, {logged step: seconds since the
    start}) and writes train_metrics.jsonl."""
    import torch

    threads = torch.get_num_threads()
    t0 = time.perf_counter()
    step_times: dict[int, float] = {}

    def on_log(step: int, scalars: dict, prefix: str) -> None:
        step_times.setdefault(step, time.perf_counter() - t0)

    try:
        with _stdout_to(plan.out / "logs" / "train.log"):
            result = train(
                dataclasses.replace(plan.train, policy=dataclasses.replace(plan.train.policy), progress=progress),
                on_log=on_log,
            )
    finally:
        torch.set_num_threads(threads)
    seconds = time.perf_counter() - t0
    with open(plan.out / "train_metrics.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in result.metrics)
    n_params = sum(p.numel() for p in result.policy.parameters())
    return result.metrics, n_params, seconds, step_times


def run_curve_eval(plan: Plan, args: QuickstartConfig, policy_eval: dict, step_times: dict[int, float], train_s: float):
    """Success rate of every saved checkpoint against its training time (the report's plot): the
    earlier checkpoints on `--eval.curve_episodes` episodes, the final one as evaluated. Writes
    eval_curve.json; returns its rows {step, train_s, success_rate, n_episodes}."""
    from robotlearn.evaluation import evaluate_policy
    from robotlearn.policies import make_policy_from_pretrained
    from robotlearn.utils.device import resolve_device

    device = str(resolve_device(plan.eval.device))

    def time_at(step: int) -> float:  # the first logged step at or after `step`
        later = [t for s, t in step_times.items() if s >= step]
        return min(later) if later else train_s

    checkpoints = sorted(p for p in (plan.train_dir / "checkpoints").iterdir() if p.name.isdigit())
    rows = []
    with _stdout_to(plan.out / "logs" / "eval.log"):
        for checkpoint in checkpoints[:-1]:
            policy = make_policy_from_pretrained(checkpoint / "pretrained_model", device=device)
            results = evaluate_policy(
                policy,
                min(args.eval.curve_episodes, args.eval.n_episodes),
                args.eval.seed,
                max_steps=args.eval.max_steps,
                progress=args.progress,
                workers=plan.eval.eval.workers,
            )
            agg = results["aggregated"]
            rows.append(
                {
                    "step": int(checkpoint.name),
                    "train_s": time_at(int(checkpoint.name)),
                    "success_rate": agg["success_rate"],
                    "n_episodes": agg["n_episodes"],
                }
            )
    agg = policy_eval["aggregated"]
    rows.append(
        {"step": args.steps, "train_s": train_s, "success_rate": agg["success_rate"], "n_episodes": agg["n_episodes"]}
    )
    (plan.out / "eval_curve.json").write_text(json.dumps(rows, indent=2))
    return rows


def run_policy_eval(plan: Plan, progress: bool) -> dict:
    """`robotlearn eval`'s function on the checkpoint; its printed lines go to logs/eval.log."""
    with _stdout_to(plan.out / "logs" / "eval.log"):
        results = run_eval(dataclasses.replace(plan.eval, progress=progress))
        print(eval_summary_line(results, plan.eval.output_dir))
    return results


def run_expert_eval(plan: Plan, args: QuickstartConfig) -> dict:
    """The scripted expert through `evaluate_policy`, on the seeds the policy was evaluated on."""
    from robotlearn.evaluation import evaluate_policy
    from robotlearn.evaluation.expert import PushTExpertPolicy

    expert = PushTExpertPolicy(args.expert)
    try:
        results = evaluate_policy(
            expert,
            args.eval.n_episodes,
            args.eval.seed,
            max_steps=args.eval.max_steps,
            n_videos=1,
            video_dir=plan.expert_dir / "videos",
            device="cpu",
            progress=args.progress,
        )
    finally:
        expert.close()
    results["policy_path"] = f"scripted_pusht expert ({args.expert})"
    results["twin_resyncs"] = expert.resyncs
    plan.expert_dir.mkdir(parents=True, exist_ok=True)
    (plan.expert_dir / "eval_info.json").write_text(json.dumps(results, indent=2))
    return results


def quickstart(args: QuickstartConfig) -> dict:
    """Runs the four phases; returns the summary also written to <output_dir>/quickstart.json."""
    from robotlearn.datasets import LeRobotDatasetMetadata

    plan = make_plan(args)
    commands = plan.commands()  # before training fills in the policy's features; one flag per line for the report
    shown_commands = plan.commands(multiline=True)
    prepare_output_dir(plan.out, args.overwrite)
    summary: dict = {"argv": config_to_flags(args), "status": "running"}
    marker = plan.out / MARKER
    marker.write_text(json.dumps(summary, indent=2))
    timings: dict[str, float] = {}

    print(
        f"[1/4] record: {args.episodes} scripted-expert demonstrations of at most {args.episode_time_s:g} s"
        f"{f' by {len(plan.records)} processes' if len(plan.records) > 1 else ''} -> {plan.dataset}",
        flush=True,
    )
    timings["record"] = run_record(plan, args.progress)
    meta = LeRobotDatasetMetadata(REPO_ID, root=plan.dataset)
    print(
        f"      recorded {meta.total_episodes} episodes, {meta.total_frames} frames at {meta.fps} fps "
        f"in {duration(timings['record'])}",
        flush=True,
    )

    print(
        f"[2/4] train: {args.policy.type}, {args.steps} steps, batch {args.batch_size} -> {plan.train_dir}", flush=True
    )
    metrics, n_params, timings["train"], step_times = run_train(plan, args.progress)
    losses = [m["loss"] for m in metrics if "loss" in m]
    loss_text = f"loss {losses[0]:.4g} -> {losses[-1]:.4g}, " if losses else ""
    print(f"      trained {n_params / 1e6:.2f}M parameters: {loss_text}{duration(timings['train'])}", flush=True)

    print(
        f"[3/4] eval: {args.eval.n_episodes} episodes from reset seeds {args.eval.seed}.. "
        f"(policy{', then the expert' if args.eval.expert else ''})",
        flush=True,
    )
    t0 = time.perf_counter()
    policy_eval = run_policy_eval(plan, args.progress)
    expert_eval = run_expert_eval(plan, args) if args.eval.expert else None
    curve = run_curve_eval(plan, args, policy_eval, step_times, timings["train"])
    timings["eval"] = time.perf_counter() - t0
    rate = policy_eval["aggregated"]["success_rate"]
    expert_text = f", expert {expert_eval['aggregated']['success_rate']:.0%}" if expert_eval else ""
    print(f"      success rate: policy {rate:.0%}{expert_text} ({duration(timings['eval'])})", flush=True)

    t0 = time.perf_counter()
    report = build_report(
        plan, args, commands, shown_commands, metrics, n_params, policy_eval, expert_eval, timings, curve
    )
    timings["report"] = time.perf_counter() - t0
    summary.update(
        status="done",
        report=str(report),
        checkpoint=str(plan.checkpoint),
        policy_success_rate=rate,
        success_curve=curve,
        expert_success_rate=expert_eval["aggregated"]["success_rate"] if expert_eval else None,
        timings_s=timings,
        total_s=sum(timings.values()),
        commands=commands,
    )
    marker.write_text(json.dumps(summary, indent=2))
    print(f"[4/4] report: {report}  (total {duration(summary['total_s'])})", flush=True)
    return summary
