import subprocess
import sys
from functools import cache

import pytest


@cache
def _fresh_process_threads() -> int:
    """torch's thread count in a new process: what the policy server runs with."""
    out = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(out.stdout.strip())


@pytest.fixture(autouse=True)
def _same_torch_threads_as_a_server():
    """Bit-identical comparisons with a server process need the same float summation order: other
    tests in this worker may have changed torch's thread count (training sets it)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(_fresh_process_threads())
    yield
    torch.set_num_threads(before)
