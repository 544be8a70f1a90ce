"""Fixtures of the reference-module tests: each module a real process on a free port, and a
virtual X screen for the display's window."""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mediagrid.process import die_with_parent_preexec, free_port, stop_group
from mediagrid.reference.modules.wiring import ModuleClient
from mediagrid.simulator.camera.fixtures import skip_or_fail
from tests import support


def ffmpeg_children(pid: int) -> list[int]:
    """Live ffmpeg processes whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in "ZX" and b"ffmpeg" in cmdline:
            found.append(int(entry.name))
    return found


@dataclass
class RunningModule:
    name: str
    process: subprocess.Popen[bytes]
    client: ModuleClient
    log_path: str
    seen_children: set[int] = field(default_factory=set)

    def log(self) -> str:
        with contextlib.suppress(OSError), open(self.log_path, errors="replace") as f:
            return f.read()[-6000:]
        return ""

    def children(self) -> list[int]:
        found = ffmpeg_children(self.process.pid)
        self.seen_children.update(found)
        return found

    def stop(self, grace: float = 10.0) -> int:
        self.children()
        code = stop_group(self.process, grace)
        self.client.close()
        return code


StartModule = Callable[..., RunningModule]


@pytest.fixture
def start_module() -> Iterator[StartModule]:
    """`start_module("recorder", DISPLAY=":5")`: `python -m mediagrid.reference.modules.NAME`
    with GRPC_PORT set, in its own process group, READY before it returns. Every module is
    stopped at teardown, and none may leave an ffmpeg behind."""
    started: list[RunningModule] = []

    def start(name: str, **env: str) -> RunningModule:
        port = free_port()
        fd, log_path = tempfile.mkstemp(prefix=f"mediagrid-{name}-", suffix=".log")
        process = subprocess.Popen(
            [sys.executable, "-m", f"mediagrid.reference.modules.{name}"],
            env={**os.environ, "GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": name, **env},
            stdout=fd, stderr=fd,
            stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=die_with_parent_preexec(),
        )
        os.close(fd)
        try:
            client = ModuleClient(f"127.0.0.1:{port}", wait=30)
        except TimeoutError:
            process.kill()
            process.wait()
            with open(log_path, errors="replace") as f:
                pytest.fail(f"module {name} did not start: {f.read()[-3000:]}")
        module = RunningModule(name, process, client, log_path)
        started.append(module)
        return module

    yield start
    for module in started:
        module.stop()
    for module in started:
        left = [pid for pid in module.seen_children if not support.wait_dead(pid, 5)]
        os.unlink(module.log_path)
        assert not left, f"{module.name} left ffmpeg processes {left} behind"


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A virtual X screen (640x480) for the display's window: yields its DISPLAY (":N")."""
    if shutil.which("Xvfb") is None:
        skip_or_fail("Xvfb is not installed: apt-get install xvfb (tools/install-system-packages)")
    read_end, write_end = os.pipe()
    process = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", "640x480x24", "-nolisten", "tcp"],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, preexec_fn=die_with_parent_preexec(),
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20)
        number = os.read(read_end, 64).decode().strip() if ready else ""
        if not number.isdigit():
            pytest.fail("Xvfb did not report its display number within 20 s")
        yield f":{number}"
    finally:
        os.close(read_end)
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
