from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
FIXTURES = SHARED / "fixtures" / "lerobot-0.6.1"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    # No test may write to the user's cache or reach the hub.
    monkeypatch.setenv("ROBOTLEARN_HOME", str(tmp_path / "robotlearn_home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
