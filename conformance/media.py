"""Real media for the pipeline checks, both directions (rules P-5, P-10, P-11).

- `MediaSender`: the suite is the source. ffmpeg sends time-coded test frames (video, from
  `mediagrid.reference.media`) or a tone (audio) as MPEG-TS to the endpoint a module returned
  for role TARGET, at a known frame rate.
- `MediaReceiver`: the suite is the target. It listens on a loopback UDP port (the URL of
  contract §4.1), remuxes what arrives and measures frames per second and bits per second.
Both are supervised ffmpeg processes (`FfmpegProcess`): own process group, stderr kept.
"""

from __future__ import annotations

import asyncio
import collections
import time
from dataclasses import dataclass

from mediagrid.process import free_port
from mediagrid.reference.media import FfmpegProcess, Progress, commands, ffmpeg_path, presets
from mediagrid.reference.media.timecode import TimecodeLayout

SEND_FPS = 10
SEND_SIZE = (320, 240)
SEND_BITRATE = "400k"

# Codecs the suite can encode into MPEG-TS, with the encoder options; first match wins.
VIDEO_ENCODERS = {
    "mpeg2video": {"c:v": "mpeg2video"},
    "h264": {"c:v": "libx264", "preset": "ultrafast", "tune": "zerolatency"},
    "mpeg4": {"c:v": "mpeg4"},
    "hevc": {"c:v": "libx265", "preset": "ultrafast"},
}
AUDIO_ENCODERS = {"mp2": {"c:a": "mp2"}, "aac": {"c:a": "aac"}, "ac3": {"c:a": "ac3"},
                  "opus": {"c:a": "libopus"}}


def pick_codec(media: str, accepted: tuple[str, ...]) -> str | None:
    """The first codec the target accepts that the suite can send; any when none declared."""
    table = VIDEO_ENCODERS if media == "video" else AUDIO_ENCODERS
    if not accepted:
        return next(iter(table))
    return next((codec for codec in accepted if codec in table), None)


@dataclass
class Rate:
    """Frames and bytes over a sliding window of progress samples."""

    window: float = 5.0  # contract §4.4: a check counts over at least 5 s

    def __post_init__(self) -> None:
        self.samples: collections.deque[tuple[float, int, int]] = collections.deque()
        self.frames = 0
        self.bytes = 0

    def add(self, frames: int, total_bytes: int, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.frames, self.bytes = frames, total_bytes
        self.samples.append((now, frames, total_bytes))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    def fps(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, f0, _), (t1, f1, _) = self.samples[0], self.samples[-1]
        return (f1 - f0) / (t1 - t0) if t1 > t0 else 0.0

    def bitrate(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, _, b0), (t1, _, b1) = self.samples[0], self.samples[-1]
        return (b1 - b0) * 8 / (t1 - t0) if t1 > t0 else 0.0

    def moving_since(self) -> float:
        """Seconds since the frame count last grew (inf before any frame)."""
        last = None
        for at, frames, _ in self.samples:
            if frames > (0 if last is None else last[1]):
                last = (at, frames)
        return time.monotonic() - last[0] if last else float("inf")


class MediaSender:
    """Sends MPEG-TS with one elementary stream to `url` at SEND_FPS (video) until stopped."""

    def __init__(self, url: str, media: str, codec: str) -> None:
        binary = ffmpeg_path()
        width, height = SEND_SIZE
        mux = {**presets.low_latency_mpegts()}
        if media == "video":
            source = commands.Input(f"testsrc2=size={width}x{height}:rate={SEND_FPS}",
                                    {"f": "lavfi", "re": True})
            out = commands.Output(url, {**VIDEO_ENCODERS[codec], "b:v": SEND_BITRATE,
                                        "g": SEND_FPS, "an": True, **mux})
            args = commands.timecode_stamp(binary, source, [out],
                                           TimecodeLayout.for_frame(width, height))
        else:
            source = commands.Input("sine=frequency=440:sample_rate=48000",
                                    {"f": "lavfi", "re": True})
            args = commands.transcode(binary, source, commands.Output(
                url, {**AUDIO_ENCODERS[codec], "b:a": "96k", **mux}))
        self.rate = Rate()
        self.process = FfmpegProcess(args, name="conformance-sender", stall_timeout=None,
                                     restart="never", on_progress=self._progress)

    def _progress(self, progress: Progress) -> None:
        self.rate.add(progress.frame, progress.total_size or 0)

    async def start(self) -> None:
        await self.process.start()

    async def stop(self) -> None:
        await self.process.stop(grace=1.0)


class MediaReceiver:
    """Listens on a loopback UDP port (the URL of contract §4.1); counts the MPEG-TS bytes of
    every datagram itself (contract §4.4: bytes on the wire) and feeds them to ffmpeg, whose
    progress gives the frames."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_udp_port()
        self.url = presets.udp_send_url(self.port)  # what the module's source sends to
        args = [ffmpeg_path(), "-hide_banner", "-nostdin", "-loglevel", "error",
                "-analyzeduration", "500000", "-probesize", "500000", "-f", "mpegts",
                "-i", "pipe:0", "-map", "0", "-c", "copy", "-f", "null", "-"]
        self.rate = Rate()
        self.bytes = 0
        self.process = FfmpegProcess(args, name="conformance-receiver", stall_timeout=None,
                                     restart="always", stdin=asyncio.subprocess.PIPE,
                                     on_progress=self._progress)
        self._transport: asyncio.DatagramTransport | None = None

    def _progress(self, progress: Progress) -> None:
        self.rate.add(progress.frame, self.bytes)

    def _datagram(self, data: bytes) -> None:
        self.bytes += len(data)
        stdin = self.process.stdin
        if stdin is not None and not stdin.is_closing():
            stdin.write(data)

    async def start(self) -> None:
        await self.process.start()
        loop = asyncio.get_running_loop()
        receiver = self

        class Protocol(asyncio.DatagramProtocol):
            def datagram_received(self, data: bytes, addr: object) -> None:
                receiver._datagram(data)

        self._transport, _ = await loop.create_datagram_endpoint(
            Protocol, local_addr=("127.0.0.1", self.port))

    async def stop(self) -> None:
        if self._transport is not None:
            self._transport.close()
        await self.process.stop(grace=1.0)


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


__all__ = ["MediaReceiver", "MediaSender", "Rate", "free_port", "pick_codec"]
