from pathlib import Path

import pytest

# Datasets written by the reference lerobot 0.6.1, copied into the repository (tests/fixtures/README.md).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "lerobot-0.6.1"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    # No test may write to the user's cache or reach the hub.
    monkeypatch.setenv("ROBOTLEARN_HOME", str(tmp_path / "robotlearn_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
