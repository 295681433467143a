"""The HTML report builder and its inline SVG charts."""

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from robotlearn.report import (
    DatasetSummary,
    EvaluationSummary,
    ReportData,
    TrainingSummary,
    line_chart,
    nice_ticks,
    png_data_uri,
    render_report,
    write_report,
)


def path_points(svg: str) -> list[tuple[float, float]]:
    d = re.search(r'<path class="series"[^>]* d="([^"]+)"', svg).group(1)
    return [tuple(map(float, p.split(","))) for p in d[1:].split(" L")]


def test_nice_ticks_are_round_and_cover_the_range():
    assert nice_ticks(0.0, 1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(3.7, 1234.0)
    assert ticks[0] <= 3.7 and ticks[-1] >= 1234.0 and ticks == [0.0, 250.0, 500.0, 750.0, 1000.0, 1250.0]
    assert nice_ticks(5.0, 5.0)[0] <= 5.0 <= nice_ticks(5.0, 5.0)[-1]  # a constant series still gets an axis


def test_line_chart_maps_data_to_pixels():
    svg = line_chart({"loss": ([0, 50, 100], [1.0, 0.5, float("nan")])}, title="t", width=400, height=200)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    points = path_points(svg)
    assert len(points) == 2  # the NaN is dropped
    (x0, y0), (x1, y1) = points
    assert x0 == 64.0 and x1 == 400 - 16  # first/last x at the plot's left and right edges
    assert y1 > y0  # a smaller value is lower on the page (larger pixel y)


def test_line_chart_log_scale_spaces_decades_evenly_and_drops_non_positive():
    svg = line_chart({"loss": ([1, 2, 3, 4], [1.0, 0.1, 0.01, 0.0])}, log_y=True)
    (_, a), (_, b), (_, c) = path_points(svg)
    assert abs((b - a) - (c - b)) < 0.2
    assert ">0.01<" in svg and ">1<" in svg  # decade tick labels


def test_line_chart_axes_span_the_given_ranges_and_markers_dot_every_point():
    svg = line_chart(
        {"success": ([10, 20], [60.0, 70.0])}, width=400, height=200, x_range=(0, 20), y_range=(0, 100), markers=True
    )
    (x0, y0), (x1, y1) = path_points(svg)
    left, right, top, bottom = 64.0, 400 - 16.0, 12.0, 200 - 44.0  # the plot area (no title)
    assert x0 == (left + right) / 2 and x1 == right  # x from 0, not from the first point
    assert y0 == pytest.approx(bottom - 0.6 * (bottom - top), abs=0.05)  # y from 0 to 100
    assert y1 == pytest.approx(bottom - 0.7 * (bottom - top), abs=0.05)
    assert ">0<" in svg and ">100<" in svg and svg.count("<circle") == 2


def test_line_chart_without_data_says_so():
    assert "no data" in line_chart({"loss": ([], [])})


def test_png_data_uri_round_trips_pixels():
    image = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    uri = png_data_uri(image, scale=2)
    assert uri.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (10, 14, 3)
    np.testing.assert_array_equal(decoded[::2, ::2], image)


def make_data(expert=True) -> ReportData:
    episodes = [
        {"seed": 7 + i, "success": i == 0, "sum_reward": 3.0, "max_reward": 0.5 + i / 10, "steps": 30} for i in range(4)
    ]
    policy = {
        "per_episode": episodes,
        "aggregated": {"success_rate": 0.25, "avg_sum_reward": 3.0, "avg_max_reward": 0.65, "n_episodes": 4},
    }
    expert_eval = {
        "per_episode": [{**e, "success": True, "steps": 12} for e in episodes],
        "aggregated": {"success_rate": 1.0, "avg_sum_reward": 5.0, "avg_max_reward": 1.0, "n_episodes": 4},
    }
    frame = png_data_uri(np.zeros((4, 4, 3), np.uint8))
    return ReportData(
        title="Run <1>",
        dataset=DatasetSummary(
            root="/data/x",
            repo_id="local/x",
            episodes=3,
            frames_total=90,
            fps=10,
            tasks=["push <the> T"],
            features={"action": "float32 2"},
            frames={"observation.images.top": [("ep 0", frame)]},
        ),
        training=TrainingSummary(
            policy_type="act",
            steps=100,
            batch_size=8,
            checkpoint="/ckpt",
            metrics=[{"step": s, "loss": 1.0 / s, "lr": 1e-4} for s in range(1, 101)],
        ),
        evaluation=EvaluationSummary(
            policy=policy,
            expert=expert_eval if expert else None,
            seed=7,
            max_steps=30,
            videos=[("policy episode 0", "eval/videos/eval_episode_0.mp4")],
        ),
        commands={"Train": "robotlearn train --a='b c'"},
    )


def test_report_shows_rates_table_chart_video_and_commands(tmp_path):
    path = write_report(tmp_path / "sub" / "report.html", make_data())
    html = path.read_text()
    assert re.search(r'id="policy-success-rate">25%<', html) and re.search(r'id="expert-success-rate">100%<', html)
    assert "1 of 4 episodes succeeded" in html and "4 of 4 episodes succeeded" in html
    assert "seeds 7 to 10" in html
    # per-episode table: header + one row per episode, policy and expert side by side
    table = re.search(r"<table id='episodes'>(.*?)</table>", html).group(1)
    assert table.count("<tr>") == 5 and table.count("success") == 1 + 4
    assert len(path_points(html)) == 100  # loss curve, one point per logged step
    assert "<video controls muted autoplay loop" in html and "src='eval/videos/eval_episode_0.mp4'" in html
    assert "robotlearn train --a=&#x27;b c&#x27;" in html  # commands are escaped, not interpreted
    assert "push &lt;the&gt; T" in html and "<title>Run &lt;1&gt;</title>" in html
    assert "Learning rate" not in html  # constant LR: no chart
    assert not (tmp_path / "sub" / "report.html.tmp").exists()


def test_success_curve_is_drawn_from_zero_to_100_percent_with_the_expert_level():
    data = make_data()
    data.training.success_curve = [
        {"step": 50, "train_s": 60.0, "success_rate": 0.5, "n_episodes": 2},
        {"step": 100, "train_s": 120.0, "success_rate": 0.25, "n_episodes": 4},
    ]
    html = render_report(data)
    chart = html[html.index('aria-label="Success rate against training time"') :]
    chart = chart[: chart.index("</svg>")]
    assert 'data-name="policy success"' in chart and 'data-name="expert"' in chart
    assert ">0<" in chart and ">100<" in chart  # the rate axis, whatever the points
    assert "step 50: 50% of 2, step 100: 25% of 4" in html
    data.evaluation.expert = None
    assert 'data-name="expert"' not in render_report(data)


def test_report_without_expert_has_one_card_and_a_narrower_table():
    html = render_report(make_data(expert=False))
    assert "policy-success-rate" in html and "expert-success-rate" not in html
    assert "<th>Expert</th>" not in html
