"""A short `robotlearn quickstart` gives the outputs recorded before the library refactor (issue 10).

Runs `python -m robotlearn.scripts.cli quickstart` with the flags of `tests/golden/quickstart.py`
(3 demonstrations of 5 s, 50 training steps on one thread, 2 evaluation episodes from reset seed
100003) into tmp_path, for the quickstart's default ACT and its Diffusion, and compares with
tests/fixtures/golden/quickstart_<policy>.{json,safetensors}. The output files it reads, which the
quickstart must keep writing:

- <output_dir>/train_metrics.jsonl: per logged step, `step`, `loss` and the other logged values
  (all but `samples_per_s` compared);
- <output_dir>/eval/eval_info.json: `per_episode` (seed, success, sum_reward, max_reward, steps),
  compared for ACT only (Diffusion's evaluation samples unseeded noise);
- <output_dir>/eval_expert/eval_info.json: `per_episode` of the scripted expert;
- <output_dir>/train/checkpoints/last/pretrained_model/: loaded with
  `robotlearn.policies.make_policy_from_pretrained`; its `select_action` outputs on the stored inputs.

Regenerate (only when a change is meant to alter them): `.venv/bin/python -m tests.golden.regenerate quickstart`.
"""

import json

import pytest
import torch

pytest.importorskip("gym_pusht")

from tests.golden import quickstart as golden

# Float kernels differ between CPU models: on an Intel Xeon the grad norm was 2.2e-5 relative from the
# recording machine's at the first logged steps and 1.6% after 27 steps of training amplified it. The
# first rows are compared tightly (a changed recipe moves them at once), the later ones only for their
# fields, and what the trained checkpoint does within LATE_RTOL.
RTOL, ATOL = 1e-3, 1e-6
TIGHT_ROWS, LATE_RTOL = 5, 5e-2


def assert_rows_close(
    actual: list[dict], expected: list[dict], what: str, rel: float, tight_rows: int | None = None
) -> None:
    """Rows equal field by field, floats within `rel`; past `tight_rows` rows only the non-float fields."""
    assert len(actual) == len(expected), f"{what}: {len(actual)} rows, golden has {len(expected)}"
    for i, (a, e) in enumerate(zip(actual, expected)):
        missing = sorted(set(e) - set(a))
        assert not missing, f"{what}[{i}] lacks {missing} (has {sorted(a)})"
        for key, value in e.items():
            if isinstance(value, float):
                if tight_rows is not None and i >= tight_rows:
                    continue  # amplified rounding (see above): only the first rows' figures are machine-stable
                assert a[key] == pytest.approx(value, rel=rel, abs=ATOL), f"{what}[{i}][{key!r}]"
            else:
                assert a[key] == value, f"{what}[{i}][{key!r}]"


@pytest.mark.parametrize("policy_type", golden.CASES)
def test_short_quickstart_matches_the_recorded_losses_evaluations_and_actions(tmp_path, policy_type):
    from safetensors.torch import load_file

    json_path, tensors_path = golden.golden_paths(policy_type)
    expected = json.loads(json_path.read_text())
    stored = load_file(str(tensors_path))
    observations = {k.removeprefix("input."): v for k, v in stored.items() if k.startswith("input.")}

    out = tmp_path / "out"
    golden.run_quickstart(policy_type, out)
    actual = golden.read_outputs(policy_type, out, observations)

    assert_rows_close(actual["train_metrics"], expected["train_metrics"], "train_metrics.jsonl", RTOL, TIGHT_ROWS)
    assert_rows_close(
        actual["eval_expert_per_episode"],
        expected["eval_expert_per_episode"],
        "eval_expert/eval_info.json per_episode",
        LATE_RTOL,
    )
    assert [e["success"] for e in actual["eval_expert_per_episode"]] == [True, False]  # 92 of 100 steps; 140 > 100
    if expected["eval_per_episode"] is not None:
        assert_rows_close(
            actual["eval_per_episode"], expected["eval_per_episode"], "eval/eval_info.json per_episode", LATE_RTOL
        )
    torch.testing.assert_close(actual["actions"], stored["actions"], rtol=LATE_RTOL, atol=1.0)  # pixels
