"""Inline SVG line charts for HTML reports (no plotting library needed).

    svg = line_chart({"loss": (steps, losses)}, title="Training loss", x_label="step", log_y=True)

The result is a self-contained `<svg>` element string: axes with "nice" tick values, one
`<path>` per series (in data coordinates mapped to pixels), and a legend. Non-finite points are
dropped; a log-scale axis drops values <= 0.
"""

from __future__ import annotations

import math
from html import escape

COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About `count` round tick values (1, 2, 2.5 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return []
    if hi <= lo:
        hi = lo + (abs(lo) if lo else 1.0)
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(k * step, 12) for k in range(first, last + 1)]


def _format(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e4 or abs(value) < 1e-3:
        return f"{value:.3g}"
    return f"{value:.4g}"


def line_chart(
    series: dict[str, tuple[list[float], list[float]]],
    title: str = "",
    x_label: str = "",
    y_label: str = "",
    width: int = 640,
    height: int = 300,
    log_y: bool = False,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    markers: bool = False,
) -> str:
    """An SVG line chart of `series` (name -> (xs, ys)). Returns the `<svg>` markup as a string.

    With `log_y`, y is plotted as log10 (ticks at powers of ten); use it for losses that fall by
    orders of magnitude. `x_range`/`y_range`: the axes span at least these (e.g. 0-100 for a rate);
    `markers`: a dot on every point (for a few measured points).
    """
    clean: dict[str, list[tuple[float, float]]] = {}
    for name, (xs, ys) in series.items():
        points = [
            (float(x), float(y))
            for x, y in zip(xs, ys)
            if math.isfinite(float(x)) and math.isfinite(float(y)) and (not log_y or float(y) > 0)
        ]
        if points:
            clean[name] = points
    left, right, top, bottom = 64, 16, 28 if title else 12, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title or y_label)}">',
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" stroke="#ccc"/>',
    ]
    if title:
        parts.append(
            f'<text x="{width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="600">{escape(title)}</text>'
        )
    if not clean:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" fill="#888">'
            "no data</text></svg>"
        )
        return "".join(parts)

    fy = (lambda y: math.log10(y)) if log_y else (lambda y: y)
    all_x = [x for pts in clean.values() for x, _ in pts] + list(x_range or ())
    all_y = [fy(y) for pts in clean.values() for _, y in pts] + [fy(y) for y in y_range or ()]
    x_lo, x_hi = min(all_x), max(all_x)
    if log_y:
        y_lo, y_hi = math.floor(min(all_y)), math.ceil(max(all_y))
        y_hi = y_hi if y_hi > y_lo else y_lo + 1
        y_ticks = [float(t) for t in range(int(y_lo), int(y_hi) + 1)]
    else:
        y_ticks = nice_ticks(min(all_y), max(all_y))
        y_lo, y_hi = y_ticks[0], y_ticks[-1]
        if y_hi <= y_lo:
            y_hi = y_lo + 1.0
    x_ticks = [t for t in nice_ticks(x_lo, x_hi) if x_lo <= t <= x_hi] if x_hi > x_lo else [x_lo]
    x_span = (x_hi - x_lo) or 1.0

    def px(x: float) -> float:
        return left + (x - x_lo) / x_span * plot_w

    def py(y: float) -> float:
        return top + plot_h - (y - y_lo) / (y_hi - y_lo) * plot_h

    for t in y_ticks:
        label = _format(10**t) if log_y else _format(t)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{py(t):.1f}" y2="{py(t):.1f}" stroke="#eee"/>'
            f'<text x="{left - 6}" y="{py(t) + 4:.1f}" text-anchor="end" font-size="11">{label}</text>'
        )
    for t in x_ticks:
        parts.append(
            f'<line x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" '
            f'stroke="#888"/><text x="{px(t):.1f}" y="{top + plot_h + 17}" text-anchor="middle" '
            f'font-size="11">{_format(t)}</text>'
        )
    if x_label:
        parts.append(
            f'<text x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle" font-size="12">'
            f"{escape(x_label)}</text>"
        )
    if y_label:
        parts.append(
            f'<text x="14" y="{top + plot_h / 2}" text-anchor="middle" font-size="12" '
            f'transform="rotate(-90 14 {top + plot_h / 2})">{escape(y_label)}</text>'
        )
    for i, (name, points) in enumerate(clean.items()):
        color = COLORS[i % len(COLORS)]
        coords = [(px(x), py(fy(y))) for x, y in points]
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(
            f'<path class="series" data-name="{escape(name)}" d="{d}" fill="none" stroke="{color}" '
            'stroke-width="1.6" stroke-linejoin="round"/>'
        )
        if len(coords) == 1 or markers:
            parts.extend(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in coords)
        lx, ly = left + plot_w - 150, top + 14 + 16 * i
        parts.append(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" '
            f'stroke-width="2"/><text x="{lx + 24}" y="{ly}" font-size="11">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
