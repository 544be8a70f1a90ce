"""Starts serve.py under the system Python on a free port, waits until it accepts RTSP
connections, and stops its process group at the end.

    with GStreamerRtspServer() as gst:
        record(gst.url)    # rtsp://127.0.0.1:PORT/test
"""

from __future__ import annotations

import contextlib
import functools
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from mediagrid.process import die_with_parent_preexec

SERVE = Path(__file__).with_name("serve.py")
SYSTEM_PYTHON = "/usr/bin/python3"
READY_TIMEOUT = 20.0
APT = "apt-get install"

# (what to check, the Debian packages that provide it)
_CHECK = """
import sys
try:
    import gi
except ImportError:
    sys.exit("gi|python3-gi")
try:
    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import Gst, GstRtspServer
except (ImportError, ValueError):
    sys.exit("GstRtspServer|gir1.2-gst-rtsp-server-1.0 gstreamer1.0-rtsp")
Gst.init(None)
need = {"videotestsrc": "gstreamer1.0-plugins-base", "x264enc": "gstreamer1.0-plugins-ugly",
        "rtph264pay": "gstreamer1.0-plugins-good"}
missing = [(e, p) for e, p in need.items() if Gst.ElementFactory.find(e) is None]
if missing:
    sys.exit(",".join(e for e, _ in missing) + "|" + " ".join(p for _, p in missing))
"""


class GStreamerUnavailable(RuntimeError):
    """The system lacks what serve.py needs; the message names the packages to install."""


def system_python() -> str | None:
    if os.access(SYSTEM_PYTHON, os.X_OK):
        return SYSTEM_PYTHON
    return None


@functools.cache
def unavailable_reason() -> str | None:
    """None when GStreamer's RTSP server can run here, else why not and what to install."""
    python = system_python()
    if python is None:
        return f"no system Python at {SYSTEM_PYTHON}: {APT} python3 python3-gi"
    result = subprocess.run([python, "-I", "-c", _CHECK], capture_output=True, text=True,
                            timeout=60)
    if result.returncode == 0:
        return None
    what, _, packages = result.stderr.strip().rpartition("\n")[2].partition("|")
    if not packages:
        return f"GStreamer check failed: {result.stderr.strip()[-500:]}"
    return f"missing packages ({what} not found): {APT} {packages}"


def _accepts(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
        return True
    return False


class GStreamerRtspServer:
    """GStreamer's RTSP server serving videotestsrc ! x264enc ! rtph264pay on `mount`."""

    def __init__(self, mount: str = "/test", size: str = "320x240", fps: int = 25,
                 port: int = 0) -> None:
        self.mount = "/" + mount.lstrip("/")
        self.size = size
        self.fps = fps
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._stderr: tempfile._TemporaryFileWrapper[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}{self.mount}"

    def start(self) -> GStreamerRtspServer:
        reason = unavailable_reason()
        if reason is not None:
            raise GStreamerUnavailable(reason)
        cmd = [SYSTEM_PYTHON, "-I", str(SERVE), "--port", str(self.port), "--mount", self.mount,
               "--size", self.size, "--fps", str(self.fps)]
        self._stderr = tempfile.NamedTemporaryFile(prefix="mediagrid-gst-", suffix=".log")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent_preexec())
        try:
            self.port = self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.process.stdout], [], [], max(0.0, left))
            if not ready:
                raise GStreamerUnavailable(f"serve.py did not get ready in {READY_TIMEOUT} s")
            chunk = os.read(self.process.stdout.fileno(), 1)
            if not chunk:
                raise GStreamerUnavailable(f"serve.py exited: {self.stderr()[-1000:]}")
            line += chunk
        port = int(line.split()[1])
        while not _accepts(port):
            if time.monotonic() > deadline:
                raise GStreamerUnavailable(f"port {port} does not accept connections")
            time.sleep(0.05)
        return port

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM to the process group, SIGKILL after `grace` seconds."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def stderr(self) -> str:
        """What serve.py (and GStreamer) wrote to stderr so far."""
        if self._stderr is None:
            return ""
        with open(self._stderr.name, errors="replace") as f:
            return f.read().strip()

    def __enter__(self) -> GStreamerRtspServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
