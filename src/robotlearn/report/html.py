"""The quickstart's HTML report: one self-contained page a person can open after a run.

    data = ReportData(title=..., dataset=DatasetSummary(...), training=TrainingSummary(...),
                      evaluation=EvaluationSummary(...), commands={"record": "robotlearn record ..."})
    write_report("outputs/quickstart/report.html", data)

Sections: headline (policy vs expert success rate), dataset (counts, tasks, sample camera
frames as inline PNGs), training (loss curve as inline SVG), evaluation (success rates side by
side, rollout videos, per-episode table), and the commands that reproduce each phase. Videos are
referenced by paths relative to the report, so the page stays small and the folder can be moved
as a whole. Everything else is inline: no network access, no JavaScript needed.
"""

from __future__ import annotations

import base64
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import numpy as np

from robotlearn.report.svg import line_chart


@dataclass
class DatasetSummary:
    """What was recorded. `frames`: camera key -> list of (caption, PNG data URI)."""

    root: str
    repo_id: str
    episodes: int
    frames_total: int
    fps: int
    tasks: list[str]
    features: dict[str, str]  # key -> short description, e.g. "video 96x96x3"
    frames: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    wall_time_s: float | None = None


@dataclass
class TrainingSummary:
    """How the policy was trained. `metrics`: rows {"step": int, "loss": float, ...} in step order."""

    policy_type: str
    steps: int
    batch_size: int
    checkpoint: str
    metrics: list[dict] = field(default_factory=list)
    n_params: int | None = None
    wall_time_s: float | None = None
    details: dict[str, str] = field(default_factory=dict)  # extra "name: value" lines (inputs, lr, device)
    # Checkpoints evaluated during/after training: {"step", "train_s", "success_rate", "n_episodes"}, in step order.
    success_curve: list[dict] = field(default_factory=list)


@dataclass
class EvaluationSummary:
    """Results of `evaluate_policy` for the policy and the expert on the same seeds.

    `policy` / `expert`: the dicts `evaluate_policy` returns (per_episode, aggregated); `videos`:
    (caption, path relative to the report) pairs."""

    policy: dict
    expert: dict | None
    seed: int
    max_steps: int
    videos: list[tuple[str, str]] = field(default_factory=list)
    wall_time_s: float | None = None


@dataclass
class ReportData:
    title: str
    dataset: DatasetSummary
    training: TrainingSummary
    evaluation: EvaluationSummary
    commands: dict[str, str] = field(default_factory=dict)  # phase -> shell command
    total_time_s: float | None = None
    next_steps: list[str] = field(default_factory=list)  # advice, as HTML snippets


def png_data_uri(image: np.ndarray, scale: int = 1) -> str:
    """(H, W, 3) uint8 -> "data:image/png;base64,..." (nearest-neighbour upscaled by `scale`)."""
    from PIL import Image

    picture = Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8))
    if scale > 1:
        picture = picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def _rate(result: dict | None) -> tuple[str, int, int]:
    if not result:
        return "n/a", 0, 0
    episodes = result["per_episode"]
    wins = sum(bool(e["success"]) for e in episodes)
    return f"{result['aggregated']['success_rate']:.0%}", wins, len(episodes)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
.muted{color:#666;font-size:.9em}
.headline{display:flex;gap:1.5em;flex-wrap:wrap;margin:1em 0}
.card{border:1px solid #ddd;border-radius:8px;padding:.8em 1.2em;min-width:220px}
.card .big{font-size:2.4em;font-weight:700}
.policy .big{color:#1f77b4}.expert .big{color:#2ca02c}
.bar{height:10px;background:#eee;border-radius:5px;overflow:hidden}.bar div{height:100%}
.policy .bar div{background:#1f77b4}.expert .bar div{background:#2ca02c}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f6f6f6}td:first-child,th:first-child{text-align:left}
.ok{color:#2ca02c;font-weight:600}.fail{color:#d62728}
.frames{display:flex;gap:.6em;flex-wrap:wrap}.frames figure{margin:0;text-align:center;font-size:.8em}
.frames img{image-rendering:pixelated;border:1px solid #ccc}
.videos{display:flex;gap:1em;flex-wrap:wrap}.videos figure{margin:0;font-size:.85em;text-align:center}
.videos video{width:256px;height:256px;border:1px solid #ccc;background:#000}
pre{background:#f6f8fa;border:1px solid #e1e4e8;border-radius:6px;padding:.7em;overflow-x:auto;white-space:pre-wrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:600}dd{margin:0}
"""


def _headline(ev: EvaluationSummary) -> str:
    cards = []
    for role, label, result in (("policy", "Trained policy", ev.policy), ("expert", "Scripted expert", ev.expert)):
        if result is None:
            continue
        rate, wins, n = _rate(result)
        value = result["aggregated"]["success_rate"] * 100
        cards.append(
            f'<div class="card {role}"><div>{label}</div><div class="big" id="{role}-success-rate">{rate}</div>'
            f'<div class="bar"><div style="width:{value:.1f}%"></div></div>'
            f'<div class="muted">{wins} of {n} episodes succeeded</div></div>'
        )
    n = len(ev.policy["per_episode"])
    return (
        f'<div class="headline">{"".join(cards)}</div><p class="muted">Success: the T covers more than 95% '
        f"of its target within {ev.max_steps} steps. Both were evaluated on the same {n} initial states "
        f"(reset seeds {ev.seed} to {ev.seed + n - 1}).</p>"
    )


def _dataset_section(ds: DatasetSummary) -> str:
    rows = [
        ("Folder", f"<code>{escape(ds.root)}</code>"),
        ("Episodes", str(ds.episodes)),
        ("Frames", f"{ds.frames_total} ({ds.frames_total / max(ds.fps, 1):.0f} s at {ds.fps} fps)"),
        ("Tasks", "<br>".join(escape(t) for t in ds.tasks)),
        ("Features", "<br>".join(f"<code>{escape(k)}</code>: {escape(v)}" for k, v in ds.features.items())),
    ]
    if ds.wall_time_s is not None:
        rows.append(("Recording time", _duration(ds.wall_time_s)))
    html = ["<h2>1. Demonstrations</h2><dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>"]
    for camera, frames in ds.frames.items():
        html.append(f"<h3><code>{escape(camera)}</code></h3><div class='frames'>")
        html += [
            f"<figure><img src='{uri}' alt='{escape(caption)}'><figcaption>{escape(caption)}</figcaption></figure>"
            for caption, uri in frames
        ]
        html.append("</div>")
    return "".join(html)


def _training_section(tr: TrainingSummary, expert_rate: float | None = None) -> str:
    rows = [("Policy", escape(tr.policy_type)), ("Steps", str(tr.steps)), ("Batch size", str(tr.batch_size))]
    if tr.n_params is not None:
        rows.append(("Parameters", f"{tr.n_params / 1e6:.2f} M"))
    rows += [(escape(k), escape(v)) for k, v in tr.details.items()]
    rows.append(("Checkpoint", f"<code>{escape(tr.checkpoint)}</code>"))
    if tr.wall_time_s is not None:
        rows.append(("Training time", _duration(tr.wall_time_s)))
    html = ["<h2>2. Training</h2><dl>", *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl>"]
    steps = [m["step"] for m in tr.metrics if "loss" in m]
    losses = [m["loss"] for m in tr.metrics if "loss" in m]
    if losses:
        html.append(
            line_chart(
                {"training loss": (steps, losses)},
                title="Training loss",
                x_label="step",
                y_label="loss",
                log_y=min(losses) > 0,
            )
        )
        html.append(f"<p class='muted'>First logged loss {losses[0]:.4g}, last {losses[-1]:.4g}.</p>")
        lrs = [(m["step"], m["lr"]) for m in tr.metrics if "lr" in m]
        if len({v for _, v in lrs}) > 1:  # a constant learning rate needs no chart
            html.append(
                line_chart(
                    {"learning rate": ([s for s, _ in lrs], [v for _, v in lrs])},
                    title="Learning rate",
                    x_label="step",
                    height=200,
                )
            )
    else:
        html.append("<p>No training metrics were logged.</p>")
    if tr.success_curve:
        minutes = [row["train_s"] / 60 for row in tr.success_curve]
        rates = [100 * row["success_rate"] for row in tr.success_curve]
        series = {"policy success": (minutes, rates)}
        if expert_rate is not None:  # the level to reach, drawn across the whole run
            series["expert"] = ([0.0, max(minutes)], [100 * expert_rate] * 2)
        html.append(
            line_chart(
                series,
                title="Success rate against training time",
                x_label="training time (min)",
                y_label="success (%)",
                height=240,
                x_range=(0.0, max(minutes)),
                y_range=(0.0, 100.0),
                markers=True,
            )
        )
        points = ", ".join(
            f"step {row['step']}: {row['success_rate']:.0%} of {row['n_episodes']}" for row in tr.success_curve
        )
        html.append(f"<p class='muted'>Checkpoints evaluated ({escape(points)}).</p>")
    return "".join(html)


def _episode_table(ev: EvaluationSummary) -> str:
    expert = {e["seed"]: e for e in (ev.expert or {}).get("per_episode", [])}
    head = "<tr><th>Episode</th><th>Reset seed</th><th>Policy</th><th>max reward</th><th>steps</th>"
    head += "<th>Expert</th><th>max reward</th><th>steps</th></tr>" if expert else "</tr>"
    rows = [head]
    for i, e in enumerate(ev.policy["per_episode"]):
        cells = [str(i), str(e["seed"]), _verdict(e["success"]), f"{e['max_reward']:.3f}", str(e["steps"])]
        x = expert.get(e["seed"])
        if expert:
            cells += [_verdict(x["success"]), f"{x['max_reward']:.3f}", str(x["steps"])] if x else ["", "", ""]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f"<table id='episodes'>{''.join(rows)}</table>"


def _verdict(success: bool) -> str:
    return "<span class='ok'>success</span>" if success else "<span class='fail'>fail</span>"


def _evaluation_section(ev: EvaluationSummary) -> str:
    html = ["<h2>3. Evaluation in simulation</h2>"]
    agg = ev.policy["aggregated"]
    html.append(
        f"<p>Policy: mean max reward {agg['avg_max_reward']:.3f}, mean sum of rewards "
        f"{agg['avg_sum_reward']:.2f} over {agg['n_episodes']} episodes."
    )
    if ev.expert is not None:
        ex = ev.expert["aggregated"]
        html.append(
            f" Expert: mean max reward {ex['avg_max_reward']:.3f}, mean sum of rewards {ex['avg_sum_reward']:.2f}."
        )
    if ev.wall_time_s is not None:
        html.append(f" <span class='muted'>(evaluation took {_duration(ev.wall_time_s)})</span>")
    html.append("</p>")
    if ev.videos:
        html.append("<h3>Rollouts</h3><div class='videos'>")
        html += [
            f"<figure><video controls muted autoplay loop playsinline preload='auto' "
            f"src='{escape(path, quote=True)}'></video><figcaption>{escape(caption)}</figcaption></figure>"
            for caption, path in ev.videos
        ]
        html.append("</div>")
    html.append("<h3>Per episode</h3>")
    html.append(_episode_table(ev))
    return "".join(html)


def _commands_section(commands: dict[str, str]) -> str:
    if not commands:
        return ""
    html = [
        "<h2>4. Reproduce each phase</h2><p>The same steps as separate commands "
        "(the quickstart ran exactly these, with the same seeds):</p>"
    ]
    for phase, command in commands.items():
        html.append(f"<h3>{escape(phase)}</h3><pre><code>{escape(command)}</code></pre>")
    return "".join(html)


def _next_steps_section(items: list[str]) -> str:
    if not items:
        return ""
    return "<h2>What next</h2><ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def render_report(data: ReportData) -> str:
    """The report as an HTML string."""
    ev = data.evaluation
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    total = f" in {_duration(data.total_time_s)}" if data.total_time_s is not None else ""
    return "".join(
        [
            "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{escape(data.title)}</title>",
            f"<style>{CSS}</style></head><body>",
            f"<h1>{escape(data.title)}</h1><p class='muted'>Generated {when}{total}: recorded {data.dataset.episodes} "
            f"demonstrations, trained a policy ({escape(data.training.policy_type)}) for {data.training.steps} steps, "
            f"evaluated it on {len(ev.policy['per_episode'])} episodes.</p>",
            _headline(ev),
            _dataset_section(data.dataset),
            _training_section(data.training, ev.expert["aggregated"]["success_rate"] if ev.expert else None),
            _evaluation_section(ev),
            _commands_section(data.commands),
            _next_steps_section(data.next_steps),
            "</body></html>\n",
        ]
    )


def write_report(path: str | Path, data: ReportData) -> Path:
    """Writes the report atomically (temp file + rename); returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_report(data), encoding="utf-8")
    os.replace(tmp, path)
    return path
