"""The learning curve of an RL run as an HTML page: success, intervention rate and return against
wall-clock minutes, and the critic's loss against updates (from the learner's JSON-lines logs)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np

from robotlearn.report.html import CSS
from robotlearn.report.svg import line_chart


def read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut by a crash
    return rows


def rolling(values: list[float], window: int) -> list[float]:
    """Mean of the last `window` values at each point (fewer at the start)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def render_rl_report(episodes: list[dict], training: list[dict], title: str = "RL run", window: int = 20) -> str:
    t0 = min([r["time"] for r in episodes + training], default=0.0)
    minutes = [(e["time"] - t0) / 60 for e in episodes]
    parts = [f"<h1>{escape(title)}</h1>"]
    if episodes:
        success = [float(e.get("success", False)) for e in episodes]
        rate = [e.get("interventions", 0) / max(1, e.get("steps", 1)) for e in episodes]
        last = episodes[-window:]
        parts.append(
            f"<p>{len(episodes)} episodes, {episodes[-1]['transitions']:,} transitions, {episodes[-1]['updates']:,} "
            f"updates in {minutes[-1]:.1f} min. Last {len(last)} episodes: success "
            f"{100 * np.mean([e.get('success', False) for e in last]):.0f}%, intervention rate "
            f"{100 * np.mean(rate[-window:]):.1f}%, return {np.mean([e['return'] for e in last]):.2f}.</p>"
        )
        parts.append(
            line_chart(
                {
                    f"success (mean of {window})": (minutes, rolling(success, window)),
                    f"intervention rate (mean of {window})": (minutes, rolling(rate, window)),
                },
                title="success and interventions",
                x_label="minutes",
                y_label="fraction",
            )
        )
        parts.append(
            line_chart(
                {"return": (minutes, [e["return"] for e in episodes])},
                title="episode return",
                x_label="minutes",
                y_label="return",
            )
        )
    else:
        parts.append("<p>No episode has finished yet.</p>")
    losses = [(r["updates"], r["critic_loss"]) for r in training if "critic_loss" in r]
    if losses:
        xs, ys = zip(*losses)
        parts.append(
            line_chart(
                {"critic loss": (list(xs), list(ys))},
                title="critic loss",
                x_label="updates",
                y_label="loss",
                log_y=True,
            )
        )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_rl_report(output_dir: str | Path) -> Path:
    """output_dir/report.html from output_dir/episodes.jsonl and training.jsonl."""
    output_dir = Path(output_dir)
    html = render_rl_report(
        read_jsonl(output_dir / "episodes.jsonl"),
        read_jsonl(output_dir / "training.jsonl"),
        title=f"RL run: {output_dir}",
    )
    path = output_dir / "report.html"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(html)
    tmp.replace(path)
    return path
