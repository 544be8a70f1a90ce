"""Real ffmpeg and ffprobe clients of an RTSP URL (RTP over TCP by default, or UDP), a
raw-socket RTSP request, and the UDP ports a process holds."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from tests import support


@dataclass
class Recording:
    returncode: int
    stderr: str
    path: Path
    seconds: float  # wall time the client ran

    def frames(self) -> int:
        """Video frames in the recorded file (0 when there is no file or no video)."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return 0
        info = support.ffprobe_json(self.path, "-count_packets", "-select_streams", "v:0")
        streams = info.get("streams", [])
        return int(streams[0].get("nb_read_packets", 0)) if streams else 0


def ffmpeg_input(url: str, timeout_s: float = 3.0, transport: str = "tcp") -> list[str]:
    """ffmpeg's arguments to read `url` with RTP over `transport` (tcp or udp, and no other:
    no fallback) and a socket timeout."""
    return ["-rtsp_transport", transport, "-timeout", str(int(timeout_s * 1_000_000)),
            "-i", url]


def start_recording(url: str, path: Path, seconds: float, timeout_s: float = 3.0,
                    transport: str = "tcp") -> subprocess.Popen[str]:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-loglevel", "error",
           *ffmpeg_input(url, timeout_s, transport),
           "-t", str(seconds), "-c", "copy", "-y", str(path)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen[str], path: Path, started: float,
           timeout: float = 30.0) -> Recording:
    try:
        _, stderr = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return Recording(process.returncode, stderr, path, time.monotonic() - started)


def record(url: str, path: Path, seconds: float, timeout_s: float = 3.0,
           transport: str = "tcp") -> Recording:
    """Records `seconds` of `url` (stream copy) into `path` with ffmpeg."""
    started = time.monotonic()
    return finish(start_recording(url, path, seconds, timeout_s, transport), path, started)


def probe(url: str, timeout: float = 20.0, transport: str | None = "tcp",
          ) -> subprocess.CompletedProcess[str]:
    """ffprobe of an RTSP URL over `transport` (None: ffprobe's default, UDP falling back to
    TCP): streams as JSON on stdout, errors on stderr."""
    forced = ["-rtsp_transport", transport] if transport else []
    cmd = [support.ffprobe_path(), "-v", "error", *forced,
           "-timeout", "3000000", "-print_format", "json", "-show_streams", url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def probe_streams(url: str, transport: str = "tcp") -> list[dict[str, object]]:
    result = probe(url, transport=transport)
    assert result.returncode == 0, f"ffprobe failed on {url}: {result.stderr}"
    return json.loads(result.stdout)["streams"]


def options_round_trip(port: int, timeout: float = 10.0) -> tuple[float, str]:
    """Sends one OPTIONS on a raw socket; returns (seconds until the full reply, reply)."""
    request = f"OPTIONS rtsp://127.0.0.1:{port}/camera RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        started = time.monotonic()
        sock.sendall(request)
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
        return time.monotonic() - started, reply.decode(errors="replace")


def udp_ports(pid: int) -> set[int]:
    """The local UDP ports of the sockets process `pid` holds open (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    ports = set()
    with open(f"/proc/{pid}/net/udp") as table:
        for line in table.readlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def live_children() -> list[int]:
    """Processes whose parent is this one and that have not exited (zombies excluded)."""
    mine = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                state, ppid = f.read().rsplit(") ", 1)[1].split()[:2]
        except OSError:
            continue
        if int(ppid) == mine and state != "Z":
            found.append(int(entry))
    return found
