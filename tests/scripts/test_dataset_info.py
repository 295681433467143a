import json
import shutil
import subprocess
import sys

from tests.conftest import FIXTURES


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "robotlearn.scripts.cli", "dataset-info", *args], capture_output=True, text=True
    )


def test_dataset_info_summarizes_and_validates_a_fixture():
    out = run(f"--root={FIXTURES / 'rollover'}", "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["episodes"] == 7 and summary["frames"] == 386 and summary["problems"] == []
    assert set(summary["cameras"]) == {"observation.images.front", "observation.images.side"}


def test_dataset_info_reports_a_broken_video(tmp_path):
    root = tmp_path / "pusht"
    shutil.copytree(FIXTURES / "pusht", root)
    video = root / "videos/observation.image/chunk-000/file-000.mp4"
    video.write_bytes(video.read_bytes()[:3000])
    out = run(f"--root={root}")
    assert out.returncode == 1
    assert "problem" in out.stdout and "file-000.mp4" in out.stdout


def test_help_explains_flags():
    out = run("--help")
    assert out.returncode == 0 and "--root" in out.stdout and "--validate" in out.stdout
