"""`-progress` parsing: canned blocks, then real ffmpeg output checked against ffprobe."""

from __future__ import annotations

import asyncio
from pathlib import Path

from mediagrid.reference.media import FfmpegProcess, Progress, ProgressParser
from mediagrid.reference.media.commands import Input, Output, transcode
from tests.media.helpers import FFMPEG
from tests.support import ffprobe_json

BLOCK = """\
frame=25
fps=24.98
stream_0_0_q=28.0
bitrate= 322.7kbits/s
total_size=37111
out_time_us=920000
out_time_ms=920000
out_time=00:00:00.920000
dup_frames=1
drop_frames=2
speed=0.998x
progress=continue
frame=30
fps=0.00
bitrate=N/A
total_size=N/A
out_time_us=N/A
speed=N/A
progress=end
"""


def test_blocks_become_typed_updates_and_na_becomes_none() -> None:
    first, last = ProgressParser().feed_text(BLOCK)
    assert first == Progress(
        frame=25, fps=24.98, bitrate_kbps=322.7, total_size=37111, out_time_s=0.92,
        speed=0.998, drop_frames=2, dup_frames=1, ended=False,
    )
    assert first.raw["stream_0_0_q"] == "28.0"
    assert (last.frame, last.bitrate_kbps, last.total_size, last.out_time_s, last.speed) == (
        30, None, None, None, None,
    )
    assert last.ended


def test_a_block_is_only_complete_at_its_progress_line() -> None:
    parser = ProgressParser()
    assert parser.feed("frame=3") is None
    assert parser.feed("garbage without equals") is None
    update = parser.feed("progress=continue")
    assert update is not None and update.frame == 3


def test_progress_of_a_real_encode_agrees_with_ffprobe(tmp_path: Path) -> None:
    out = tmp_path / "encode.mp4"
    args = transcode(
        FFMPEG,
        Input("testsrc2=size=320x240:rate=25", {"f": "lavfi", "t": 3}),
        Output(str(out), {"c:v": "libx264", "preset": "ultrafast"}),
    )
    updates: list[Progress] = []

    async def main() -> int:
        proc = FfmpegProcess(args, name="encode", restart="never", progress_period=0.1)
        await proc.start()
        async for update in proc.updates():
            updates.append(update)
        return await proc.wait()

    assert asyncio.run(main()) == 0
    final = updates[-1]
    assert final.ended and final.frame == 75
    assert [u.frame for u in updates] == sorted(u.frame for u in updates)
    probe = ffprobe_json(out, "-count_frames")
    video = next(s for s in probe["streams"] if s["codec_type"] == "video")
    assert int(video["nb_read_frames"]) == final.frame
    assert final.total_size is not None
    assert abs(final.total_size - out.stat().st_size) <= 0.02 * out.stat().st_size
    assert final.out_time_s is not None and abs(final.out_time_s - 3.0) <= 0.1


def test_the_update_period_is_the_one_asked_for() -> None:
    # 2 s at the native rate: ffmpeg's default period (0.5 s) would give about 4 updates.
    args = [FFMPEG, "-re", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-t", "2",
            "-f", "null", "-"]
    updates: list[Progress] = []

    async def main() -> int:
        proc = FfmpegProcess(args, name="period", restart="never", progress_period=0.1,
                             on_progress=updates.append)
        await proc.start()
        return await proc.wait()

    assert asyncio.run(main()) == 0
    assert len(updates) >= 10, [u.out_time_s for u in updates]
    assert updates[-1].ended and updates[-1].frame == 50
