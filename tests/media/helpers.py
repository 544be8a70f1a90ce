"""Helpers of the media tests: short ffmpeg command lines (liveness and polling: tests/support)."""

from __future__ import annotations

from mediagrid.reference.media import ffmpeg_path

FFMPEG = ffmpeg_path()


def live_testsrc(output: str = "-", *, size: str = "160x120", fmt: str = "null") -> list[str]:
    """An endless real-time test pattern: a stand-in for a live stream."""
    return [
        FFMPEG, "-re", "-f", "lavfi", "-i", f"testsrc2=size={size}:rate=25",
        "-c:v", "libx264", "-preset", "ultrafast", "-f", fmt, output,
    ]


def udp_receiver(port: int, output: str = "-", fmt: str = "null") -> list[str]:
    """ffmpeg reading MPEG-TS on a UDP port, with short probing so it starts at once."""
    return [
        FFMPEG, "-probesize", "32768", "-analyzeduration", "200000",
        "-i", f"udp://127.0.0.1:{port}", "-c", "copy", "-f", fmt, output,
    ]


async def send_udp_burst(port: int, seconds: float) -> None:
    """Sends `seconds` of real-time MPEG-TS test video to a UDP port, then goes quiet."""
    import asyncio

    sender = await asyncio.create_subprocess_exec(
        FFMPEG, "-loglevel", "error", "-re", "-f", "lavfi",
        "-i", "testsrc2=size=64x48:rate=25", "-t", str(seconds),
        "-c:v", "mpeg2video", "-f", "mpegts", f"udp://127.0.0.1:{port}",
    )
    try:
        await asyncio.wait_for(sender.wait(), seconds + 10)
    finally:
        if sender.returncode is None:
            sender.kill()
            await sender.wait()
