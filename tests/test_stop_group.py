"""`mediagrid.process.stop_group`, which the camera, the module tests and the benchmarks use to
stop a child they started in its own process group: the child and whatever it left behind in
that group are gone when it returns (rule H-19's "nothing left behind", for synchronous callers)."""

from __future__ import annotations

import os
import signal
import subprocess

from mediagrid.process import stop_group
from tests import support


def test_stop_group_ends_the_child_and_what_it_left_in_its_group(tmp_path):
    helper_file = tmp_path / "helper.pid"
    child = subprocess.Popen(  # leaves a helper in its group, then becomes a sleep
        ["sh", "-c", f"sleep 300 & echo $! > {helper_file}; exec sleep 300"],
        start_new_session=True)
    helper = 0
    try:
        assert support.wait_until(lambda: helper_file.exists() and helper_file.read_text(), 10)
        helper = int(helper_file.read_text())
        assert os.getpgid(helper) == child.pid  # in the child's group
        assert stop_group(child, grace=5) == -signal.SIGTERM  # the child obeyed SIGTERM,
        assert support.wait_dead(helper, 5), "stop_group left the child's helper running"
    finally:
        for pid in (child.pid, helper):
            if pid and support.alive(pid):
                os.kill(pid, signal.SIGKILL)
        child.wait()
