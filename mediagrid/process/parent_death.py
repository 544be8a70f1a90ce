"""Make a child process die with its parent, even when the parent is SIGKILLed (Linux).

`die_with_parent(parent_pid)` runs in the child between fork and exec (as Popen's preexec_fn):
it asks the kernel for SIGKILL when the parent goes away (prctl PR_SET_PDEATHSIG), then closes
the race where the parent died *before* the prctl call: in that case the child has already been
re-parented (getppid() no longer returns the parent's pid) and it exits at once.

Caveats (docs/media.md): the signal fires when the *thread* that forked the child exits, not the
whole process, so spawn from a long-lived thread (the asyncio event loop's). The setting survives
exec of ffmpeg (it is cleared only for set-uid binaries). Elsewhere than Linux this is a no-op
and the supervisor relies on its own shutdown path (stop() kills the process group).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
from collections.abc import Callable

PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[..., int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl = libc.prctl
    prctl.restype = ctypes.c_int
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return prctl


# Loaded once in the parent: the child must not load libraries between fork and exec.
_PRCTL = _load_prctl()

SUPPORTED = _PRCTL is not None


def die_with_parent(parent_pid: int) -> None:
    """preexec_fn body: SIGKILL this child when `parent_pid`'s forking thread exits."""
    if _PRCTL is None:
        return
    if _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
        os._exit(126)  # cannot promise to die with the parent: refuse to run at all
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(126)


def preexec_for_current_process() -> Callable[[], None] | None:
    """A preexec_fn bound to this process's pid, or None where unsupported."""
    if _PRCTL is None:
        return None
    parent = os.getpid()
    return lambda: die_with_parent(parent)
