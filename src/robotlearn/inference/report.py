"""An HTML page of inference metrics (from `metrics.episode_metrics`): per-stage times, idle ticks,
queue size over time, bytes per observation. Built from the report package's parts (CSS, SVG charts)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from robotlearn.inference.metrics import STAGES
from robotlearn.report.html import CSS
from robotlearn.report.svg import line_chart


def _ms(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def render_inference_report(episodes: list[dict], title: str = "Async inference", extra_html: str = "") -> str:
    """`episodes`: dicts from `episode_metrics`. Returns a self-contained HTML page."""
    rows = []
    for e in episodes:
        rows.append(
            f"<tr><td>{e['episode']}</td><td>{e['executed']}</td><td>{e['ticks']}</td><td>{e['idle_ticks']}</td>"
            f"<td>{100 * e['executed_fraction']:.2f}%</td><td>{e['chunks']}</td><td>{e['rejected_chunks']}</td>"
            f"<td>{e['reconnects']}</td><td>{_ms(e['tick_jitter_ms']['p99'])}</td>"
            f"<td>{e['obs_bytes']['p50'] or 0:.0f}</td></tr>"
        )
    parts = [
        f"<h1>{escape(title)}</h1>",
        "<h2>Episodes</h2><table><tr><th>episode</th><th>executed</th><th>ticks</th>"
        "<th>idle ticks</th><th>executed / tick</th><th>chunks</th><th>rejected</th><th>reconnects</th>"
        "<th>jitter p99 ms</th><th>bytes / obs</th></tr>",
        *rows,
        "</table>",
    ]
    if episodes:
        last = episodes[-1]
        parts.append(
            "<h2>Per-chunk stages, ms (last episode, first chunk excluded)</h2><table><tr><th>stage</th>"
            "<th>p50</th><th>p95</th><th>p99</th></tr>"
        )
        for stage in STAGES:
            p = last["stages_ms"][stage]
            parts.append(
                f"<tr><td>{stage}</td><td>{_ms(p['p50'])}</td><td>{_ms(p['p95'])}</td><td>{_ms(p['p99'])}</td></tr>"
            )
        parts.append("</table>")
        series = {
            f"episode {e['episode']}": (list(range(len(e["queue_sizes"]))), e["queue_sizes"]) for e in episodes[:6]
        }
        parts.append(line_chart(series, title="queue size (actions) per tick", x_label="tick", y_label="actions"))
    parts.append(extra_html)
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def write_inference_report(path: str | Path, episodes: list[dict], **kwargs) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_inference_report(episodes, **kwargs), encoding="utf-8")
    return path
