"""The well-behaved module every mutant starts from: a test-pattern video source, a tone audio
source and a null video sink on mediagrid.sdk, configurable and token-aware, moving real media
with supervised ffmpeg (`mediagrid.reference.media.FfmpegProcess`).

Mutants change one behaviour of this module (or of the SDK under it) through `FLAGS` and the
patches in `catalogue.py`; with no flag it passes the whole conformance suite.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

from mediagrid import sdk
from mediagrid.conformance.media import Rate
from mediagrid.reference.media import FfmpegProcess, Progress, ffmpeg_path

STALL_AFTER = 3.0  # module.yaml says conformance.stall_period: 3s
START_AFTER = 4.0  # module.yaml says conformance.start_period: 4s
FLAGS: set[str] = set()  # behaviours a mutant switches on (see catalogue.py)
class Measured:
    """Windowed figures of one link (contract §4.4, P-24): frames from ffmpeg's progress, bytes
    on the wire counted by the caller (the relay at a target, ffmpeg's output size at a
    source), over the last 2 s."""

    def __init__(self, link: sdk.Link, claimed_fps: float | None = None) -> None:
        self.link, self.claimed_fps = link, claimed_fps
        self.rate = Rate(window=2.0)
        self.bytes = 0
        self._last_byte_at = 0.0
        self._given_up = False

    def gave_up(self) -> bool:
        now = asyncio.get_running_loop().time()
        if self._last_byte_at and now - self._last_byte_at > 2.0:
            self._given_up = True
        self._last_byte_at = now
        return self._given_up

    def progress(self, progress: Progress, wire_bytes: int | None = None) -> None:
        if wire_bytes is not None:
            self.bytes = wire_bytes
        self.rate.add(progress.frame, self.bytes)
        self.report(progress.frame, progress.drop_frames)

    def report(self, frames: int, dropped: int = 0) -> None:
        fps = self.rate.fps() if self.claimed_fps is None else self.claimed_fps
        bitrate = self.rate.bitrate() * (0.6 if "payload-bitrate" in FLAGS else 1.0)
        self.link.update_metrics(frames=frames, fps=round(fps, 2), bitrate_bps=int(bitrate),
                                 dropped_frames=dropped)

    async def flush_like_a_decoder(self) -> None:
        """Mutant (P-22): every 4.5 s without bytes, a burst of frames counts as media."""
        frames, seen = 0, -1
        while True:
            await asyncio.sleep(4.5)
            if self.bytes == seen and self.rate.frames:
                frames = max(frames, self.rate.frames) + 5
                self.report(frames)
            seen = self.bytes


async def supervise(link: sdk.Link, args: list[str], on_progress, *,  # type: ignore[no-untyped-def]
                    relay_to: tuple[str, int] | None = None, measured: Measured | None = None
                    ) -> None:
    """Runs ffmpeg for the life of the link; the SDK cancels this task at StopFlow. With
    `relay_to`, a UDP socket bound there counts each datagram and feeds ffmpeg's stdin."""
    if relay_to is not None and "listener-all-interfaces" in FLAGS:
        relay_to = ("0.0.0.0", relay_to[1])  # mutant: S-10
    stdin = asyncio.subprocess.PIPE if relay_to else asyncio.subprocess.DEVNULL
    process = FfmpegProcess(args, name=f"link-{link.id}", stall_timeout=None,
                            restart="on-failure", on_progress=on_progress, stdin=stdin)
    async with process:
        transport = None
        if relay_to is not None and measured is not None:
            def datagram(data: bytes) -> None:
                if "target-gives-up" in FLAGS and measured.gave_up():
                    return  # mutant: a stream that stopped is never read again (P-23)
                measured.bytes += len(data)
                if process.stdin is not None and not process.stdin.is_closing():
                    process.stdin.write(data)

            class Relay(asyncio.DatagramProtocol):
                def datagram_received(self, data: bytes, addr: object) -> None:
                    datagram(data)

            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                Relay, local_addr=relay_to)
        try:
            await process.wait()
        finally:
            if transport is not None:
                transport.close()
            if process.stdin is not None:
                process.stdin.close()  # EOF: ffmpeg ends at once instead of at SIGKILL


def bind_of(url: str) -> tuple[str, int]:
    """('127.0.0.1', 40123) from 'udp://127.0.0.1:40123?...'."""
    netloc = urlsplit(url).netloc
    host, _, port = netloc.rpartition(":")
    return host.strip("[]"), int(port)


def build(manifest: Path) -> sdk.Module:
    module = sdk.Module.from_manifest(manifest)
    binary = ffmpeg_path()

    @module.on_startup
    async def tune(runtime: sdk.ModuleRuntime) -> None:
        runtime.flows.stall_after = STALL_AFTER
        runtime.flows.start_after = 1e9 if "no-start-period" in FLAGS else START_AFTER

    @module.entity("testsrc")
    class TestSource(sdk.Entity):
        def rate(self) -> int:
            return int(self.config["rate"])

        async def start(self, link: sdk.Link) -> None:
            if link.role is not sdk.Role.SOURCE:
                return
            sending = [k for k in self.links.values() if k.flow_id and k is not link]
            if "one-target-per-source" in FLAGS and sending:
                return  # mutant: only the first target gets media (P-5)
            rate = self.rate() // 2 if "metrics-from-config" in FLAGS else self.rate()
            args = [binary, "-y", "-re", "-f", "lavfi", "-i",
                    f"testsrc=size={self.config['size']}:rate={rate}", "-c:v", "mpeg2video",
                    "-f", "mpegts", link.endpoint.url]
            claimed = float(self.rate()) if "metrics-from-config" in FLAGS else None
            measured = Measured(link, claimed)
            link.spawn(supervise(link, args, lambda p: measured.progress(p, p.total_size)))

    @module.entity("tone")
    class Tone(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            if link.role is not sdk.Role.SOURCE:
                return
            args = [binary, "-y", "-re", "-f", "lavfi", "-i",
                    f"sine=frequency={self.config['frequency']}:sample_rate=48000",
                    "-c:a", "mp2", "-f", "mpegts", link.endpoint.url]
            measured = Measured(link)
            link.spawn(supervise(link, args, lambda p: measured.progress(p, p.total_size)))

    @module.entity("null")
    class NullSink(sdk.Entity):
        async def start(self, link: sdk.Link) -> None:
            if "active-without-media" in FLAGS:
                link.update_metrics(fps=25.0)  # mutant: claims media before any arrives (P-11)
            if link.role is sdk.Role.LOCAL:
                assert isinstance(link.source, TestSource)
                inputs = ["-re", "-f", "lavfi", "-i",
                          f"testsrc=size={link.source.config['size']}:rate={link.source.rate()}"]
                args = [binary, "-y", *inputs, "-map", "0", "-c:v", "mpeg2video", "-f",
                        "mpegts", os.devnull, "-map", "0", "-f", "null", "-"]
                measured = Measured(link)
                link.spawn(supervise(link, args, lambda p: measured.progress(p, p.total_size)))
                return
            # TARGET: a relay bound to the endpoint counts the MPEG-TS bytes on the wire.
            args = [binary, "-y", "-f", "mpegts", "-analyzeduration", "500000", "-i", "pipe:0",
                    "-map", "0", "-f", "null", "-"]
            measured = Measured(link)
            if "metrics-from-config" in FLAGS:  # mutant: nominal figures, not measured (P-10)
                def claim(p: Progress) -> None:
                    link.update_metrics(frames=p.frame, fps=25.0, bitrate_bps=1_000_000)
                on_progress = claim
            else:
                on_progress = measured.progress
            listen = bind_of(link.endpoint.listen_url or link.endpoint.url)
            link.spawn(supervise(link, args, on_progress, relay_to=listen, measured=measured))
            if "flush-counts" in FLAGS:
                link.spawn(measured.flush_like_a_decoder())

    return module
