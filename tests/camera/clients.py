"""Real ffmpeg and ffprobe clients of an RTSP URL (RTP over TCP by default, or UDP), a
raw-socket RTSP request, and the UDP ports a process holds."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
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


class RawRtsp:
    """An RTSP client that sends exactly what the test says, on one TCP connection (ffmpeg
    always re-sends credentials, so it cannot show that a method without them is refused)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.cseq = 0

    def request(self, method: str, url: str, **headers: str) -> tuple[int, dict[str, str], str]:
        """Sends one request; returns (status, headers with lower-case names, body)."""
        self.cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self.cseq}"]
        lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"connection closed; got {reply!r}")
            reply += chunk
        head, _, body = reply.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        fields = {k.strip().lower(): v.strip() for k, v in
                  (line.split(":", 1) for line in header_lines)}
        while len(body) < int(fields.get("content-length", 0)):
            body += self.sock.recv(65536)
        return int(status_line.split()[1]), fields, body.decode(errors="replace")

    def close(self) -> None:
        self.sock.close()


def authorization(scheme: str, user: str, password: str, method: str, url: str,
                  challenge: str = "") -> str:
    """The Authorization value for Basic, or for Digest (MD5, no qop) answering `challenge`."""
    if scheme == "basic":
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    params = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm, nonce = params["realm"], params["nonce"]

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    response = md5(f"{md5(f'{user}:{realm}:{password}')}:{nonce}:{md5(f'{method}:{url}')}")
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{url}",'
            f' response="{response}", algorithm=MD5')
