"""`robotlearn quickstart` end to end on a tiny run (real subprocesses, real videos, headless Chromium)."""

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gym_pusht")

from robotlearn.configs import ConfigError
from robotlearn.quickstart import MARKER, prepare_output_dir

CHROMIUM = os.environ.get("ROBOTLEARN_CHROMIUM") or next(
    (
        path
        for path in ("/usr/bin/chromium", *map(shutil.which, ("chromium", "chromium-browser", "google-chrome")))
        if path and Path(path).exists()
    ),
    "/usr/bin/chromium",
)
# Seeds 100002/100003: the expert succeeds in 64 steps on the first and needs 88 on the second,
# so with 70 steps the table shows one expert success and one failure.
EVAL_SEED, MAX_STEPS = 100_002, 70
TINY_ACT = [
    "--policy.type=act",
    "--policy.dim_model=16",
    "--policy.n_heads=2",
    "--policy.dim_feedforward=32",
    "--policy.n_encoder_layers=1",
    "--policy.chunk_size=4",
    "--policy.n_action_steps=2",
]


def robotlearn(*args, timeout=180):
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 0, f"robotlearn {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One tiny quickstart: 2 episodes of 3 s (one per recording process, the default 2), 5 training steps
    of a tiny ACT, 2 eval episodes; the planner expert (its seeds are chosen above)."""
    out = tmp_path_factory.mktemp("quickstart") / "out"
    proc = robotlearn(
        "quickstart",
        "--episodes=2",
        "--expert=planner",
        "--episode_time_s=3",
        "--steps=5",
        "--batch_size=8",
        "--num_workers=0",
        "--eval.n_episodes=2",
        f"--eval.seed={EVAL_SEED}",
        f"--eval.max_steps={MAX_STEPS}",
        "--eval.n_videos=1",
        "--device=cpu",
        "--progress=false",
        f"--output_dir={out}",
        *TINY_ACT,
    )
    return out, proc.stdout


def test_quickstart_prints_one_line_per_phase_and_the_report_path(run):
    out, stdout = run
    lines = stdout.strip().splitlines()
    assert [line[:5] for line in lines if line.startswith("[")] == ["[1/4]", "[2/4]", "[3/4]", "[4/4]"]
    assert len(lines) == 7, stdout  # 4 phase headers + 3 summary lines: the details went to logs/
    assert "recorded 2 episodes, 60 frames at 10 fps" in stdout
    assert lines[-1].startswith(f"[4/4] report: {out / 'report.html'}")
    for name in ("record.log", "record_0.log", "record_1.log", "train.log", "eval.log"):
        assert (out / "logs" / name).stat().st_size > 0
    assert not (out / "dataset_parts").exists()  # merged into dataset/, then removed
    summary = json.loads((out / MARKER).read_text())
    assert summary["status"] == "done" and summary["expert_success_rate"] == 0.5
    metrics = [json.loads(line) for line in (out / "train_metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics] == [1, 2, 3, 4, 5] and all(np.isfinite(m["loss"]) for m in metrics)


def test_report_success_rate_is_what_robotlearn_eval_gives_for_the_checkpoint(run, tmp_path):
    out, _ = run
    summary = json.loads((out / MARKER).read_text())
    proc = robotlearn(
        "eval",
        f"--policy.path={summary['checkpoint']}",
        "--env.type=pusht",
        "--eval.n_episodes=2",
        f"--eval.seed={EVAL_SEED}",
        f"--eval.max_steps={MAX_STEPS}",
        "--eval.n_videos=0",
        "--device=cpu",
        "--progress=false",
        f"--output_dir={tmp_path / 'eval'}",
    )
    cli = json.loads((tmp_path / "eval" / "eval_info.json").read_text())
    quick = json.loads((out / "eval" / "eval_info.json").read_text())
    assert [e["seed"] for e in cli["per_episode"]] == [EVAL_SEED, EVAL_SEED + 1]
    assert cli["per_episode"] == quick["per_episode"]  # rewards to the last bit, not just the rate
    assert summary["policy_success_rate"] == cli["aggregated"]["success_rate"]
    html = (out / "report.html").read_text()
    shown = re.search(r'id="policy-success-rate">([0-9]+)%<', html).group(1)
    assert int(shown) == round(cli["aggregated"]["success_rate"] * 100)
    assert f"success rate {cli['aggregated']['success_rate']:.2%}" in proc.stdout
    # the report's per-episode table has the CLI's max rewards
    for e in cli["per_episode"]:
        assert f"<td>{e['seed']}</td>" in html and f"<td>{e['max_reward']:.3f}</td>" in html


def test_expert_is_evaluated_on_the_same_seeds_with_the_plain_expert_loop(run):
    """The expert behind evaluate_policy (via its simulator twin) acts exactly as when it reads the env."""
    from robotlearn.envs.pusht import PushTEnv
    from robotlearn.envs.pusht_expert import PushTExpert

    out, _ = run
    expert = json.loads((out / "eval_expert" / "eval_info.json").read_text())
    assert expert["twin_resyncs"] == 0
    env, planner = PushTEnv(max_steps=MAX_STEPS), PushTExpert()
    for episode in expert["per_episode"]:
        env.reset(seed=episode["seed"])
        planner.reset()
        steps, success = 0, False
        while not success and steps < MAX_STEPS:
            _, _, success, _, _ = env.step(planner.act(env.get_state(), env.agent_velocity(), env.coverage()))
            steps += 1
        assert (episode["success"], episode["steps"]) == (success, steps)
    assert [e["success"] for e in expert["per_episode"]] == [True, False]
    env.close()


def test_report_lists_commands_that_reproduce_each_phase(run, tmp_path):
    out, _ = run
    summary = json.loads((out / MARKER).read_text())
    html = (out / "report.html").read_text()
    for phase in ("record", "train", "eval"):
        assert re.match(rf"(OMP_NUM_THREADS=1 )?robotlearn {phase} ", summary["commands"][phase])
    # the recorded commands (2 recording processes, then a merge), run again into another folder, record
    # the very same demonstrations
    again = tmp_path / "again"
    script = summary["commands"]["record"].replace(str(out), str(again))
    assert script.count("robotlearn record ") == 2 and "robotlearn dataset merge " in script
    script = script.replace("robotlearn ", f"{sys.executable} -m robotlearn.scripts.cli ")
    done = subprocess.run(["bash", "-c", f"set -e\nmkdir -p {again}\n{script}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    from robotlearn.datasets import LeRobotDataset

    a = LeRobotDataset("local/quickstart_pusht", root=out / "dataset")
    b = LeRobotDataset("local/quickstart_pusht", root=again / "dataset")
    assert len(a) == len(b) == 60 and a.meta.total_episodes == 2
    for i in (0, 29, 30, 59):  # both episodes: the first from --robot.seed=0, the second from seed 1
        np.testing.assert_array_equal(a[i]["action"].numpy(), b[i]["action"].numpy())
        np.testing.assert_array_equal(a[i]["observation.environment_state"], b[i]["observation.environment_state"])
    assert not np.array_equal(a[0]["observation.environment_state"], a[30]["observation.environment_state"])
    # the report shows the same commands, one flag per line
    import html as html_lib

    blocks = [
        html_lib.unescape(b).replace(" \\\n    ", " ") for b in re.findall(r"<pre><code>(.*?)</code></pre>", html, re.S)
    ]
    for phase in ("record", "train", "eval"):
        assert summary["commands"][phase] in blocks
    assert "<h2>What next</h2>" in html and "well below the expert (0% vs 50%)" in html


PROBE = """<script>
// test-only: record each video's playback state on the element, for --dump-dom
for (const v of document.querySelectorAll('video')) {
  v.dataset.maxTime = '0';
  v.addEventListener('playing', () => { v.dataset.playing = '1'; });
  v.addEventListener('error', () => { v.dataset.error = String(v.error && v.error.code); });
  setInterval(() => {
    v.dataset.readyState = String(v.readyState);
    v.dataset.maxTime = String(Math.max(parseFloat(v.dataset.maxTime), v.currentTime));
    v.dataset.duration = String(v.duration);
  }, 50);
}
</script></body>"""


def test_report_renders_in_chromium_with_rates_plots_and_playing_videos(run, tmp_path):
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or set "
            "ROBOTLEARN_CHROMIUM; this test opens the report in a real browser"
        )
    out, _ = run
    probe = out / "report_probe.html"  # next to the report so the relative video paths resolve
    probe.write_text((out / "report.html").read_text().replace("</body>", PROBE))
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--autoplay-policy=no-user-gesture-required",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0 and "<html" in proc.stdout, proc.stderr[-2000:]
    dom = proc.stdout
    assert re.search(r'id="policy-success-rate">[0-9]+%<', dom) and 'id="expert-success-rate">50%<' in dom
    loss_path = re.search(r'<path class="series" data-name="training loss" d="(M[^"]+)"', dom)
    assert loss_path and loss_path.group(1).count("L") == 4  # 5 logged steps
    videos = re.findall(r"<video[^>]*>", dom)
    assert len(videos) == 2  # one policy rollout, one expert rollout
    for tag in videos:
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        assert "data-error" not in attrs, tag
        assert attrs.get("data-playing") == "1", tag
        assert int(attrs["data-ready-state"]) >= 2, tag
        assert float(attrs["data-max-time"]) > 0.5, tag  # playback advanced
        assert float(attrs["data-duration"]) > 1.0, tag


def test_output_dir_is_only_replaced_when_the_quickstart_made_it(tmp_path):
    mine = tmp_path / "data"
    mine.mkdir()
    (mine / "precious.txt").write_text("x")
    with pytest.raises(ConfigError, match="--overwrite"):
        prepare_output_dir(mine, overwrite=False)
    with pytest.raises(ConfigError, match="not made by the quickstart"):
        prepare_output_dir(mine, overwrite=True)
    assert (mine / "precious.txt").exists()
    previous = tmp_path / "previous"
    (previous / "dataset").mkdir(parents=True)
    (previous / MARKER).write_text("{}")
    prepare_output_dir(previous, overwrite=True)
    assert sorted(p.name for p in previous.iterdir()) == ["logs"]
    shutil.rmtree(previous)


def test_demo_and_quickstart_help_explain_every_flag():
    for cmd in ("quickstart", "demo"):
        text = robotlearn(cmd, "--help", timeout=60).stdout
        for flag in (
            "--episodes",
            "--steps",
            "--policy.type",
            "--batch_size",
            "--eval.n_episodes",
            "--output_dir",
            "--seed",
            "--device",
        ):
            assert flag in text, (cmd, flag)
        assert f"robotlearn {cmd}" in text


@pytest.mark.parametrize("policy_type", ["act", "diffusion"])
def test_planned_train_command_parses_and_users_policy_flags_win(tmp_path, policy_type):
    from robotlearn.configs import parse_config
    from robotlearn.quickstart import make_plan
    from robotlearn.scripts.quickstart import parse_args
    from robotlearn.training import TrainConfig

    args = parse_args(
        [f"--policy.type={policy_type}", "--policy.lr=5e-4", "--policy.n_action_steps=1", f"--output_dir={tmp_path}"]
    )
    plan = make_plan(args)
    train_argv = shlex.split(plan.commands()["train"])[2:]
    for train_args in (plan.train, parse_config(TrainConfig, train_argv)):  # object and command agree
        assert train_args.policy.type == policy_type
        assert train_args.policy.lr == 5e-4 and train_args.policy.n_action_steps == 1  # overrides the defaults
        assert train_args.policy.input_features == ["observation.state", "observation.environment_state"]
        assert train_args.dataset.root == str(tmp_path / "dataset") and train_args.steps == args.steps
    small = {"act": ("dim_model", 128), "diffusion": ("down_dims", (32, 64, 128))}[policy_type]
    assert getattr(plan.train.policy, small[0]) == small[1]  # the quickstart's CPU size, not the class default


def test_report_plots_success_against_training_time_from_the_saved_checkpoints(run):
    out, _ = run
    curve = json.loads((out / "eval_curve.json").read_text())
    # 5 steps, 3 curve points: checkpoints every ceil(5 / 3) = 2 steps (2, 4) and the final one at 5; the earlier
    # ones on min(curve_episodes, n_episodes) = 2 episodes, the final one as evaluated
    assert [row["step"] for row in curve] == [2, 4, 5]
    assert [row["n_episodes"] for row in curve] == [2, 2, 2]
    times = [row["train_s"] for row in curve]
    assert times == sorted(times) and times[-1] > 0
    final = json.loads((out / "eval" / "eval_info.json").read_text())["aggregated"]["success_rate"]
    assert curve[-1]["success_rate"] == final
    assert "Success rate against training time" in (out / "report.html").read_text()


def test_expert_flag_records_with_and_evaluates_the_chosen_expert(tmp_path):
    """--expert=feedback reaches the record command, and the expert evaluated beside the policy is that one."""
    import numpy as np
    import torch

    from robotlearn.configs import parse_config
    from robotlearn.envs.pusht import PushTEnv
    from robotlearn.envs.pusht_feedback_expert import PushTFeedbackExpert
    from robotlearn.errors import ConfigError
    from robotlearn.evaluation.expert import PushTExpertPolicy
    from robotlearn.quickstart import make_plan
    from robotlearn.recording.session import RecordConfig
    from robotlearn.scripts.quickstart import parse_args

    plan = make_plan(parse_args(["--expert=feedback", f"--output_dir={tmp_path}"]))
    assert [cfg.teleop.expert for cfg in plan.records] == ["feedback", "feedback"]
    first_record = shlex.split(plan.commands()["record"].splitlines()[0])[2:-1]  # "robotlearn record ... &"
    assert parse_config(RecordConfig, first_record).teleop.expert == "feedback"
    with pytest.raises(ConfigError, match="--expert='nobody'.*planner, feedback"):
        make_plan(parse_args(["--expert=nobody", f"--output_dir={tmp_path}"]))

    env, policy, direct = PushTEnv(max_steps=None), PushTExpertPolicy("feedback"), PushTFeedbackExpert()
    env.reset(seed=3)
    for _ in range(5):  # the policy wrapper gives the feedback expert's targets, not the planner's
        want = np.asarray(direct.act(env.get_state()), np.float32)
        got = policy.select_action({"observation.environment_state": torch.from_numpy(env.get_state()[None])})
        np.testing.assert_allclose(got[0].numpy(), want, atol=1e-4)
        env.step(want)
    policy.close()
    env.close()


def test_recording_is_split_over_processes_with_their_own_simulator_seeds(tmp_path):
    from robotlearn.quickstart import make_plan
    from robotlearn.scripts.quickstart import parse_args

    plan = make_plan(parse_args(["--episodes=5", "--record_workers=2", "--seed=7", f"--output_dir={tmp_path}"]))
    assert [cfg.dataset.num_episodes for cfg in plan.records] == [3, 2]
    assert [cfg.robot.seed for cfg in plan.records] == [7, 8]
    assert [cfg.dataset.root for cfg in plan.records] == [str(plan.parts_dir / "0"), str(plan.parts_dir / "1")]
    assert plan.train.dataset.root == str(plan.dataset)  # training reads the merged dataset
    single = make_plan(parse_args(["--episodes=5", "--record_workers=1", f"--output_dir={tmp_path}"]))
    assert [cfg.dataset.root for cfg in single.records] == [str(single.dataset)]
    assert "merge" not in single.commands()["record"]
    assert len(make_plan(parse_args(["--episodes=1", f"--output_dir={tmp_path}"])).records) == 1  # no empty part
    with pytest.raises(ConfigError, match="--record_workers=0 must be at least 1"):
        make_plan(parse_args(["--record_workers=0", f"--output_dir={tmp_path}"]))
