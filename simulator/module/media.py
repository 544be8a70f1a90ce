"""Real MPEG-TS for the simulated module, without an ffmpeg per flow.

One short clip per codec is encoded once with the bundled ffmpeg (and cached); a source
loops it, paced by its own timestamps, rewriting PCR, PTS, DTS and continuity counters on
every loop so a receiver sees one endless, well-formed stream (a keyframe every second, rule
P-23). A target counts what arrives itself: bytes on the wire and one frame per PES
(contract §4.4: video frames, or audio packets).
"""

from __future__ import annotations

import asyncio
import collections
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

PACKET = 188
PER_DATAGRAM = 7  # 1316 bytes: the pkt_size of contract §4.1
CLIP_SECONDS = 4
VIDEO_FPS = 10
VIDEO_ENCODERS = {
    "h264": ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"],
    "hevc": ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
    "mpeg2video": ["-c:v", "mpeg2video"],
    "mpeg1video": ["-c:v", "mpeg1video"],
    "mpeg4": ["-c:v", "mpeg4"],
}
AUDIO_ENCODERS = {
    "aac": ["-c:a", "aac"], "mp2": ["-c:a", "mp2"], "mp3": ["-c:a", "libmp3lame"],
    "ac3": ["-c:a", "ac3"], "eac3": ["-c:a", "eac3"], "opus": ["-c:a", "libopus"],
}
ENCODABLE = frozenset(VIDEO_ENCODERS) | frozenset(AUDIO_ENCODERS)
WRAP = 1 << 33  # PTS, DTS and PCR base count 90 kHz ticks in 33 bits
_locks: dict[str, asyncio.Lock] = {}


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(tempfile.gettempdir(),
                                                            f"mediagrid-{os.getuid()}")
    return Path(base) / "mediagrid-sim-media"


def encode_args(codec: str, out: Path) -> list[str]:
    if codec in VIDEO_ENCODERS:
        source = ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={VIDEO_FPS}"]
        codec_args = [*VIDEO_ENCODERS[codec], "-g", str(VIDEO_FPS), "-b:v", "80k",
                      "-pix_fmt", "yuv420p"]
    elif codec in AUDIO_ENCODERS:
        source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
        codec_args = [*AUDIO_ENCODERS[codec], "-b:a", "64k"]
    else:
        raise ValueError(f"the simulator cannot encode {codec!r}: use one of"
                         f" {', '.join(sorted(ENCODABLE))}")
    return [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-nostdin",
            *source, "-t", str(CLIP_SECONDS), *codec_args, "-muxdelay", "0", "-muxpreload", "0",
            "-f", "mpegts", "-y", str(out)]


async def clip(codec: str) -> TsClip:
    """The looping clip of `codec`, encoded on first use and cached on disk."""
    path = cache_dir() / f"clip-{codec}-v1.ts"
    lock = _locks.setdefault(codec, asyncio.Lock())
    async with lock:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.part")
            process = await asyncio.create_subprocess_exec(
                *encode_args(codec, partial), stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, err = await process.communicate()
            if process.returncode != 0:
                raise RuntimeError(f"ffmpeg could not encode the {codec} clip: {err.decode()}")
            os.replace(partial, path)  # atomic: other modules never read half a clip
    return TsClip.parse(path.read_bytes())


def read_ts(b: bytes | bytearray, i: int) -> int:
    return (((b[i] >> 1) & 7) << 30 | b[i + 1] << 22 | ((b[i + 2] >> 1) & 0x7F) << 15
            | b[i + 3] << 7 | b[i + 4] >> 1)


def write_ts(b: bytearray, i: int, value: int) -> None:
    value %= WRAP
    b[i] = (b[i] & 0xF0) | ((value >> 30) & 7) << 1 | 1
    b[i + 1] = (value >> 22) & 0xFF
    b[i + 2] = ((value >> 15) & 0x7F) << 1 | 1
    b[i + 3] = (value >> 7) & 0xFF
    b[i + 4] = (value & 0x7F) << 1 | 1


def read_pcr(b: bytes | bytearray, i: int) -> int:
    return b[i] << 25 | b[i + 1] << 17 | b[i + 2] << 9 | b[i + 3] << 1 | b[i + 4] >> 7


def write_pcr(b: bytearray, i: int, base: int) -> None:
    base %= WRAP
    b[i], b[i + 1], b[i + 2], b[i + 3] = (base >> 25) & 0xFF, (base >> 17) & 0xFF, \
        (base >> 9) & 0xFF, (base >> 1) & 0xFF
    b[i + 4] = (base & 1) << 7 | (b[i + 4] & 0x7F)


@dataclass(frozen=True)
class Packet:
    data: bytes
    pid: int
    at: float  # seconds from the clip's start at which it is due
    payload: bool
    pes: bool  # starts a PES: one frame (video) or audio packet
    pcr: int = -1  # byte offsets of the fields rewritten on every loop (-1: none)
    pts: int = -1
    dts: int = -1


def parse_packet(data: bytes) -> tuple[int, bool, bool, int, int, int]:
    """(pid, has payload, starts a PES, pcr offset, pts offset, dts offset)."""
    if data[0] != 0x47:
        raise ValueError("not an MPEG-TS packet (no 0x47 sync byte)")
    pid = (data[1] & 0x1F) << 8 | data[2]
    start, control = bool(data[1] & 0x40), (data[3] >> 4) & 3
    pos, pcr = 4, -1
    if control & 2:
        length = data[4]
        if length and data[5] & 0x10:
            pcr = 6
        pos = 5 + length
    payload = bool(control & 1)
    pes = payload and start and data[pos:pos + 3] == b"\0\0\1" and data[pos + 3] not in (
        0xBE, 0xBF)  # padding and private stream 2 carry no media
    pts = dts = -1
    if pes:
        flags = data[pos + 7] >> 6
        if flags & 2:
            pts = pos + 9
        if flags == 3:
            dts = pos + 14
    return pid, payload, pes, pcr, pts, dts


@dataclass(frozen=True)
class TsClip:
    packets: tuple[Packet, ...]
    duration: float  # seconds: one loop
    ticks: int  # the same in 90 kHz ticks

    @classmethod
    def parse(cls, data: bytes) -> TsClip:
        raw = [data[i:i + PACKET] for i in range(0, len(data) - PACKET + 1, PACKET)]
        times: dict[int, list[int]] = collections.defaultdict(list)
        parsed = []
        for packet in raw:
            pid, payload, pes, pcr, pts, dts = parse_packet(packet)
            stamp = read_ts(packet, dts if dts >= 0 else pts) if pts >= 0 else None
            if stamp is not None:
                times[pid].append(stamp)
            parsed.append((packet, pid, payload, pes, pcr, pts, dts, stamp))
        if not times:
            raise ValueError("the clip has no timestamps")
        first = min(min(v) for v in times.values())
        ticks = max(v[-1] - v[0] + (v[-1] - v[0]) // max(1, len(v) - 1)
                    for v in times.values()) or 90_000
        packets, now, current = [], 0.0, {}
        for packet, pid, payload, pes, pcr, pts, dts, stamp in parsed:
            if stamp is not None:
                current[pid] = (stamp - first) / 90_000
            now = max(now, current.get(pid, now))
            packets.append(Packet(packet, pid, now, payload, pes, pcr, pts, dts))
        return cls(tuple(packets), ticks / 90_000, ticks)


class TsLoop:
    """The clip played for ever: `due(elapsed)` hands out the packets due by then, rewritten
    so timestamps keep rising across loops and continuity counters never jump."""

    def __init__(self, clip: TsClip) -> None:
        self.clip = clip
        self.loop = self.index = 0
        self._cc: dict[int, int] = {}

    def due(self, elapsed: float) -> list[bytes]:
        out = []
        packets = self.clip.packets
        while self.loop * self.clip.duration + packets[self.index].at <= elapsed:
            out.append(self._rewrite(packets[self.index]))
            self.index += 1
            if self.index == len(packets):
                self.index, self.loop = 0, self.loop + 1
        return out

    def _rewrite(self, packet: Packet) -> bytes:
        data = bytearray(packet.data)
        shift = self.loop * self.clip.ticks
        if shift:
            if packet.pcr >= 0:
                write_pcr(data, packet.pcr, read_pcr(data, packet.pcr) + shift)
            for offset in (packet.pts, packet.dts):
                if offset >= 0:
                    write_ts(data, offset, read_ts(data, offset) + shift)
        previous = self._cc.get(packet.pid)
        cc = data[3] & 0x0F if previous is None else (
            (previous + 1) & 0x0F if packet.payload else previous)
        data[3] = (data[3] & 0xF0) | cc
        self._cc[packet.pid] = cc
        return bytes(data)


class TsCounter:
    """Counts what a receiver got: bytes on the wire and frames (one per PES)."""

    def __init__(self) -> None:
        self.bytes = self.frames = 0

    def feed(self, data: bytes) -> None:
        self.bytes += len(data)
        for i in range(0, len(data) - PACKET + 1, PACKET):
            if data[i] == 0x47 and data[i + 1] & 0x40:
                try:
                    if parse_packet(data[i:i + PACKET])[2]:
                        self.frames += 1
                except (ValueError, IndexError):
                    continue


class Window:
    """fps and bits per second over the last `seconds` (contract §4.4: 1 to 5 s)."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self.samples: collections.deque[tuple[float, int, int]] = collections.deque()

    def add(self, frames: int, total_bytes: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.samples.append((now, frames, total_bytes))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.seconds:
            self.samples.popleft()

    def rates(self) -> tuple[float, int]:
        if len(self.samples) < 2:
            return 0.0, 0
        (t0, f0, b0), (t1, f1, b1) = self.samples[0], self.samples[-1]
        span = t1 - t0
        return (round((f1 - f0) / span, 2), int((b1 - b0) * 8 / span)) if span > 0 else (0.0, 0)
