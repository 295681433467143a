"""--realtime_priority: the control loop's thread runs under SCHED_FIFO inside the block and gets
its old policy back afterwards; where that is not permitted, the error says how to permit it."""

import os
import sys

import pytest

from robotlearn.errors import ConfigError
from robotlearn.inference.realtime import realtime_scheduling

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SCHED_FIFO is Linux's")


def test_fifo_inside_the_block_and_restored_after_or_a_clear_refusal():
    before = os.sched_getscheduler(0)
    try:
        with realtime_scheduling(5):
            assert os.sched_getscheduler(0) == os.SCHED_FIFO
            assert os.sched_getparam(0).sched_priority == 5
    except ConfigError as e:
        assert "CAP_SYS_NICE" in str(e) and "setcap" in str(e)
    assert os.sched_getscheduler(0) == before
    with pytest.raises(ConfigError, match="1..99"):
        with realtime_scheduling(0):
            pass
    with realtime_scheduling(None):  # the default: nothing changes
        assert os.sched_getscheduler(0) == before
