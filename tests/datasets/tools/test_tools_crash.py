"""SIGKILL at random instants of merge, delete-episodes, reencode and convert: the input's bytes never change,
and the output is absent, refused by `validate`, or complete (identical to an uninterrupted run).

A driver subprocess imports robotlearn once, then for each trial forks a child that runs the operation and
kills it with SIGKILL after a random delay drawn (seeded, logged) from [0, duration of a second, warm full run].
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest
from tests.datasets.tools.helpers import make_dataset, tree_digest

from robotlearn.datasets.tools import split_dataset, validate

TRIALS = 20

DRIVER = textwrap.dedent(
    """
    import hashlib, json, os, random, signal, sys, time
    from pathlib import Path
    from robotlearn.datasets.tools import delete_episodes, merge_datasets
    from robotlearn.datasets.tools.convert import convert_v21
    from robotlearn.datasets.tools.reencode import reencode

    op, inputs, work, trials, seed = sys.argv[1], sys.argv[2].split(","), Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])

    def run(out):
        if op == "delete-in-place":
            delete_episodes(out, "1,2", in_place=True)
        elif op == "merge":
            merge_datasets(inputs, out)
        elif op == "delete-episodes":
            delete_episodes(inputs[0], "1,2", output=out)
        elif op == "reencode":
            reencode(inputs[0], out, vcodec="h264", crf=30)
        elif op == "convert":
            convert_v21(inputs[0], out)

    def digest():
        h = hashlib.sha256()
        for root in inputs:
            for dirpath, dirs, files in sorted(os.walk(root)):
                dirs.sort()
                for name in sorted(files):
                    p = os.path.join(dirpath, name)
                    h.update(p.encode()); h.update(open(p, "rb").read())
        return h.hexdigest()

    def child(out):
        if op == "delete-in-place":  # each trial edits its own copy of the input in place
            import shutil
            shutil.copytree(inputs[0], out, symlinks=True)
        pid = os.fork()
        if pid == 0:
            try:
                run(out)
                os._exit(0)
            except BaseException as e:
                print(f"child failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
                os._exit(1)
        return pid

    before = digest()
    _, status = os.waitpid(child(work / "reference"), 0)
    assert status == 0, "the uninterrupted run failed"
    # Delays are drawn from a second run's duration: the first was measured up to ~2x slower (cold file
    # caches), and kills drawn from it often landed after the faster later runs had ended.
    t0 = time.perf_counter()
    _, status = os.waitpid(child(work / "warm"), 0)
    full = time.perf_counter() - t0
    assert status == 0, "the second uninterrupted run failed"
    rng = random.Random(seed)
    log = []
    for trial in range(trials):
        delay = rng.uniform(0.0, full)
        pid = child(work / f"out-{trial}")
        time.sleep(delay)
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        log.append({"trial": trial, "seed": seed, "delay_s": round(delay, 4), "killed": os.WIFSIGNALED(status),
                    "input_unchanged": digest() == before})
    print(json.dumps({"full_run_s": full, "trials": log}))
    """
)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("crash-inputs")
    src = make_dataset(base / "src", episodes=(8, 9, 10, 8, 9))
    split_dataset(src, base / "parts", fractions={"a": 0.4, "b": 0.6})
    v21 = base / "v21"
    shutil.copytree(__import__("tests.datasets.tools.test_convert", fromlist=["V21"]).V21 / "v21_video", v21)
    return {
        "merge": [base / "parts/a", base / "parts/b"],
        "delete-episodes": [src],
        "reencode": [src],
        "convert": [v21],
    }


def _tree(root):
    return {k: v for k, v in tree_digest(root).items()}


def test_sigkill_during_in_place_delete_leaves_the_old_or_the_new_dataset(inputs, tmp_path):
    """--in-place swaps the finished copy in with one renameat2(RENAME_EXCHANGE): the dataset's name holds the
    old dataset or the complete new one at every instant."""
    src = inputs["delete-episodes"][0]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, "delete-in-place", str(src), str(tmp_path), str(TRIALS), "7"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    old, new = tree_digest(src), tree_digest(tmp_path / "reference")
    states = []
    for t in result["trials"]:
        got = tree_digest(tmp_path / f"out-{t['trial']}")
        assert got in (old, new), t
        states.append("old" if got == old else "new")
    print(f"in-place delete: seed 7, {states.count('old')} kills left the old dataset, {states.count('new')} the new")


@pytest.mark.parametrize("op", ["merge", "delete-episodes", "reencode", "convert"])
def test_sigkill_never_damages_the_input_nor_leaves_a_complete_looking_output(op, inputs, tmp_path):
    seed = int.from_bytes(hashlib.sha256(op.encode()).digest()[:4], "little")
    before = [tree_digest(p) for p in inputs[op]]
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER, op, ",".join(map(str, inputs[op])), str(tmp_path), str(TRIALS), str(seed)],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"{op}: full run {result['full_run_s']:.3f} s, seed {seed}, delays {[t['delay_s'] for t in result['trials']]}"
    )
    reference = _tree(tmp_path / "reference")
    killed = 0
    for t in result["trials"]:
        assert t["input_unchanged"], t
        killed += t["killed"]
        out = tmp_path / f"out-{t['trial']}"
        if not out.exists():
            continue
        report = validate(out)
        if report.ok:  # complete: the same files as the uninterrupted run
            assert _tree(out) == reference, t
    assert killed >= TRIALS // 2, result  # most kills landed while the operation ran
    assert [tree_digest(p) for p in inputs[op]] == before
    assert not [
        p
        for p in tmp_path.iterdir()
        if not p.name.startswith(".") and p.name != "reference" and not (p / "meta/info.json").exists()
    ]  # nothing half-written under a final name
