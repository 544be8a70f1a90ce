"""stderr: drained while ffmpeg runs (a full pipe would block it), kept as a bounded tail."""

from __future__ import annotations

import asyncio

from mediagrid.reference.media import FfmpegProcess
from mediagrid.reference.media.stderr import MAX_LINE, StderrTail
from tests.media.helpers import FFMPEG


def test_a_loud_ffmpeg_runs_to_the_end_and_only_the_tail_is_kept() -> None:
    # -debug_ts writes a line per packet: about 750 KB here, many times a pipe's 64 KiB, so
    # ffmpeg finishes only if stderr is read while it runs.
    args = [FFMPEG, "-debug_ts", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
            "-frames:v", "500", "-f", "null", "-"]

    async def main() -> tuple[int, FfmpegProcess]:
        proc = FfmpegProcess(args, name="loud", restart="never", stderr_lines=20)
        await proc.start()
        async with asyncio.timeout(30):
            return await proc.wait(), proc

    code, proc = asyncio.run(main())
    assert code == 0
    assert proc.latest is not None and proc.latest.frame == 500
    tail = proc.stderr_tail
    assert len(tail) == 20
    assert tail[-1] == "[supervisor] run 1 exited with code 0"
    assert not any("run 1 started" in line for line in tail)  # the head is long gone


def test_carriage_returns_end_lines_and_a_runaway_line_is_capped() -> None:
    async def main() -> tuple[str, ...]:
        stream = asyncio.StreamReader()
        stream.feed_data(b"frame=1\rframe=2\r\nfirst\n" + b"x" * (MAX_LINE * 5) + b"\nlast")
        stream.feed_eof()
        tail = StderrTail(lines=4)
        await tail.drain(stream)
        return tail.lines()

    lines = asyncio.run(main())
    assert lines[:2] == ("frame=2", "first")
    assert lines[2] == "x" * MAX_LINE + " [...]"
    assert lines[3] == "last"
