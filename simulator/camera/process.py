"""A fake camera in its own process, driven through its stdin control channel: what the
pytest fixture and the benchmark use, and any synchronous caller can.

    with start_camera(size="320x240", faults=["slow=0.2"]) as camera:
        print(camera.url)
        camera.inject("stall"); camera.clear()
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from mediagrid.process import die_with_parent_preexec, stop_group

READY_TIMEOUT = 20.0
REPLY_TIMEOUT = 10.0


class CameraProcessError(RuntimeError):
    """The camera process did not start, did not answer, or refused a command."""


@dataclass
class FakeCamera:
    """A running `mediagrid camera --json` process."""

    process: subprocess.Popen[bytes]
    stderr_path: str
    ready: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    password: str | None = None
    _buffer: bytes = b""

    @property
    def urls(self) -> list[str]:
        return list(self.ready["urls"])

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def port(self) -> int:
        return int(self.ready["port"])

    def url_with_credentials(self, path_index: int = 0) -> str:
        """The URL with `user:password@` in it, as ffmpeg takes credentials."""
        creds = self.ready.get("credentials", {})
        user = self.user if self.user is not None else creds.get("user", "")
        password = self.password if self.password is not None else creds.get("password", "")
        scheme, rest = self.urls[path_index].split("://", 1)
        return f"{scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{rest}"

    # --- control channel -------------------------------------------------------------------
    def _read_line(self, timeout: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise CameraProcessError(f"camera did not answer in {timeout} s: {self.stderr()}")
            readable, _, _ = select.select([fd], [], [], left)
            if readable:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise CameraProcessError(f"camera process ended: {self.stderr()}")
                self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def command(self, line: str) -> dict[str, Any]:
        """Sends one control command and returns its JSON reply."""
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()
        reply = json.loads(self._read_line(REPLY_TIMEOUT))
        if not reply.get("ok"):
            raise CameraProcessError(f"camera refused {line!r}: {reply.get('error')}")
        return reply

    def inject(self, fault: str) -> dict[str, Any]:
        """Turns a fault on (`stall`, `slow=0.5`, `drop=2`, ...); returns the faults in force."""
        return self.command(f"inject {fault}")["faults"]

    def clear(self, fault: str | None = None) -> dict[str, Any]:
        """Turns one fault, or all, off; returns the faults in force."""
        return self.command("clear" if fault is None else f"clear {fault}")["faults"]

    def drop(self) -> int:
        """Closes every client connection now; returns how many."""
        return int(self.command("drop")["dropped"])

    def status(self) -> dict[str, Any]:
        return self.command("status")

    def stderr(self) -> str:
        with contextlib.suppress(OSError), open(self.stderr_path, errors="replace") as f:
            return f.read()[-4000:]
        return ""

    # --- lifecycle -------------------------------------------------------------------------
    def stop(self, grace: float = 5.0) -> int | None:
        """Stops the camera (SIGTERM, then SIGKILL to its process group)."""
        stop_group(self.process, grace)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        with contextlib.suppress(OSError):
            os.unlink(self.stderr_path)
        return self.process.returncode

    def __enter__(self) -> FakeCamera:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def camera_args(
    *,
    port: int = 0,
    paths: Iterable[str] = ("camera",),
    size: str = "320x240",
    fps: str | float = 25,
    bitrate: str = "300k",
    gop: int | None = None,
    audio: str = "aac",
    pattern: str = "testsrc2",
    faults: Iterable[str] = (),
    user: str | None = None,
    password: str | None = None,
    auth: str = "digest",
    timecode: bool = False,
    video_filters: Iterable[str] = (),
    linger: float = 5.0,
    always_on: bool = False,
    transports: Iterable[str] = ("tcp", "udp"),
) -> list[str]:
    """The `mediagrid camera` arguments for these options (small and cheap by default)."""
    args = ["--port", str(port), "--size", size, "--fps", str(fps), "--bitrate", bitrate,
            "--audio", audio, "--pattern", pattern, "--auth", auth, "--linger", str(linger),
            "--transports", ",".join(transports)]
    for path in paths:
        args += ["--path", path]
    for fault in faults:
        args += ["--fault", fault]
    for video_filter in video_filters:
        args += ["--vf", video_filter]
    if gop is not None:
        args += ["--gop", str(gop)]
    if user is not None and password is not None:
        args += ["--user", user, "--password", password]
    if timecode:
        args.append("--timecode")
    if always_on:
        args.append("--always-on")
    return args


def start_camera(**options: Any) -> FakeCamera:
    """Starts `mediagrid camera --json` on a free port with `camera_args(**options)` and
    returns once it listens (or is set up to refuse)."""
    args = [sys.executable, "-m", "mediagrid.cli", "camera", "--json", *camera_args(**options)]
    fd, stderr_path = tempfile.mkstemp(prefix="mediagrid-camera-", suffix=".log")
    process = subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fd, start_new_session=True,
        preexec_fn=die_with_parent_preexec(),
    )
    os.close(fd)
    camera = FakeCamera(process, stderr_path, user=options.get("user"),
                        password=options.get("password"))
    try:
        camera.ready = json.loads(camera._read_line(READY_TIMEOUT))
    except BaseException:
        camera.stop()
        raise
    return camera
