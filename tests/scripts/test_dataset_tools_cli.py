"""`robotlearn dataset <operation>`: a short subprocess run of each kind of command, then checks on what it wrote."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.datasets.tools.helpers import make_dataset

V21 = Path(__file__).resolve().parents[1] / "fixtures" / "lerobot-0.3.3"


def run(*args):
    proc = subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "dataset", *args],
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return proc


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    return make_dataset(tmp_path_factory.mktemp("cli") / "src", episodes=(5, 6, 7, 4))


def test_help_lists_every_operation():
    from robotlearn.scripts.dataset import SUBCOMMANDS

    out = run("--help")
    assert out.returncode == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in out.stdout


def test_split_merge_delete_from_the_command_line(source, tmp_path):
    out = run("split", f"--root={source}", "--fractions=a=0.5,b=0.5", f"--output={tmp_path / 'parts'}", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["splits"] == {"a": [0, 1], "b": [2, 3]}
    out = run("merge", f"--roots={tmp_path / 'parts/a'},{tmp_path / 'parts/b'}", f"--output={tmp_path / 'merged'}")
    assert out.returncode == 0, out.stderr
    out = run("delete-episodes", f"--root={tmp_path / 'merged'}", "--episodes=0", "--in_place")
    assert out.returncode == 0, out.stderr
    out = run("validate", f"--root={tmp_path / 'merged'}", "--deep", "--json")
    report = json.loads(out.stdout)
    assert out.returncode == 0 and report["ok"] and report["checked"]["episodes"] == 3


def test_dry_run_says_what_would_change(source, tmp_path):
    out = run("remove-feature", f"--root={source}", "--features=action", f"--output={tmp_path / 'x'}", "--dry_run")
    assert out.returncode == 0 and out.stdout.startswith("[dry run] remove ['action']"), out.stdout + out.stderr
    assert not (tmp_path / "x").exists()


def test_convert_from_the_command_line(tmp_path):
    out = run("convert", f"--root={V21 / 'v21_video'}", f"--output={tmp_path / 'v30'}")
    assert out.returncode == 0, out.stderr
    assert json.loads((tmp_path / "v30/meta/info.json").read_text())["codebase_version"] == "v3.0"


def test_dataset_info_alias_and_subcommand_agree():
    from tests.conftest import FIXTURES

    a = subprocess.run(
        [
            sys.executable,
            "-m",
            "robotlearn.scripts.cli",
            "dataset-info",
            f"--root={FIXTURES / 'pusht'}",
            "--validate=false",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    b = run("info", f"--root={FIXTURES / 'pusht'}", "--validate=false", "--json")
    assert a.returncode == b.returncode == 0 and json.loads(a.stdout) == json.loads(b.stdout)
