"""Shared by the module benchmarks: reference modules as real processes, and their CPU."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

from mediagrid.process import die_with_parent_preexec, free_port, stop_group
from mediagrid.reference.modules.wiring import ModuleClient

TICKS = os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def module(name: str, **env: str) -> Iterator[tuple[subprocess.Popen[bytes], ModuleClient]]:
    """`python -m mediagrid.reference.modules.NAME` on a free port, READY, stopped at the end."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", f"mediagrid.reference.modules.{name}"],
        env={**os.environ, "GRPC_PORT": str(port), "MEDIAGRID_MODULE_ID": name, **env},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        start_new_session=True, preexec_fn=die_with_parent_preexec())
    try:
        client = ModuleClient(f"127.0.0.1:{port}", wait=60)
        yield process, client
        client.close()
    finally:
        stop_group(process, 15)


def cpu_seconds(pid: int) -> float:
    """user+sys of a live process plus its reaped children (its ffmpeg runs), from /proc."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICKS
