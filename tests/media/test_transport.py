"""The loopback transports of docs/media.md carry a stream between two ffmpeg processes."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mediagrid.backoff import BackoffPolicy
from mediagrid.reference.media import FfmpegProcess, presets
from tests.media.helpers import FFMPEG
from tests.support import ffprobe_json


@pytest.mark.parametrize("kind", ["udp", "tcp", "srt"])
def test_target_listens_source_sends(kind: str, free_port: int, tmp_path: Path) -> None:
    listen = getattr(presets, f"{kind}_listen_url")(free_port)
    send = getattr(presets, f"{kind}_send_url")(free_port)
    out = tmp_path / f"{kind}.ts"
    target_args = [FFMPEG, "-probesize", "32768", "-analyzeduration", "200000", "-i", listen,
                   "-frames:v", "25", "-c", "copy", "-y", str(out)]
    options = {**presets.low_latency_h264(bitrate="200k", gop=10), **presets.low_latency_mpegts()}
    flat = [str(x) for key, value in options.items() for x in (f"-{key}", value)]
    source_args = [FFMPEG, "-re", "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25",
                   *flat, send]

    async def main() -> None:
        target = FfmpegProcess(target_args, name=f"{kind}-target", restart="never")
        # The source retries until the target listens (TCP and SRT refuse before that).
        source = FfmpegProcess(source_args, name=f"{kind}-source", restart="on-failure",
                               backoff=BackoffPolicy(initial=0.2, multiplier=1, max=0.2, jitter=0))
        await target.start()
        await source.start()
        try:
            async with asyncio.timeout(20):
                assert await target.wait() == 0
        finally:
            await source.stop(grace=2.0)
            await target.stop(grace=2.0)

    asyncio.run(main())
    info = ffprobe_json(out, "-count_frames")
    video = info["streams"][0]
    assert video["codec_name"] == "h264" and int(video["nb_read_frames"]) == 25
