"""Supervised ffmpeg against RTSP servers: our misbehaving fake camera and GStreamer's server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mediagrid.backoff import BackoffPolicy
from mediagrid.reference.media import FfmpegProcess, SupervisorEvent
from mediagrid.reference.media.presets import rtsp_input
from tests.media.helpers import FFMPEG
from tests.support import eventually, ffprobe_json


def record_args(url: str, path: Path, *, rtsp_timeout_s: float = 10.0) -> list[str]:
    """Stream-copy of the camera's video into MPEG-TS (readable even when cut short)."""
    options = rtsp_input(timeout_s=rtsp_timeout_s)
    flat = [str(x) for key, value in options.items() for x in (f"-{key}", value)]
    # -flush_packets 1: each packet reaches the file at once, so a run killed with SIGKILL
    # (a stalled read ignores SIGTERM) leaves what it recorded.
    return [FFMPEG, *flat, "-i", url, "-map", "0:v", "-c", "copy", "-f", "mpegts",
            "-flush_packets", "1", "-y", str(path)]


def video_frames(path: Path) -> int:
    info = ffprobe_json(path, "-count_frames", "-select_streams", "v:0")
    return int(info["streams"][0]["nb_read_frames"])


def test_a_stall_restarts_after_the_backoff_and_recording_resumes(fake_camera, tmp_path):
    camera = fake_camera(size="320x240", fps=25)
    events: list[tuple[float, SupervisorEvent]] = []

    def path(run: int) -> Path:
        return tmp_path / f"run-{run}.ts"

    async def main() -> FfmpegProcess:
        loop = asyncio.get_running_loop()
        # The RTSP socket timeout (10 s) is longer than the stall timeout, so the watchdog,
        # not ffmpeg, notices the stall.
        proc = FfmpegProcess(
            lambda run: record_args(camera.url, path(run)), name="camera", restart="always",
            stall_timeout=1.5, kill_grace=0.5, progress_period=0.2,
            backoff=BackoffPolicy(initial=0.5, multiplier=1, max=0.5, jitter=0),
            on_event=lambda e: events.append((loop.time(), e)),
        )
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 10)
        camera.inject("stall")
        await eventually(lambda: proc.stalls == 1)
        camera.clear()
        await eventually(lambda: proc.runs == 2 and proc.latest is not None
                         and proc.latest.frame >= 10)
        size = path(2).stat().st_size
        await eventually(lambda: path(2).stat().st_size > size)  # still growing
        await proc.stop(grace=3.0)
        return proc

    proc = asyncio.run(main())
    assert (proc.stalls, proc.restarts) == (1, 1)
    exited = next(t for t, e in events if e.kind == "exited")
    restarted = [t for t, e in events if e.kind == "started"][1]
    assert restarted - exited >= 0.5
    for run in (1, 2):
        info = ffprobe_json(path(run))
        assert info["streams"][0]["codec_name"] == "h264"
        assert video_frames(path(run)) >= 10


def test_progress_figures_agree_with_ffprobe_of_the_recording(fake_camera, tmp_path):
    camera = fake_camera(size="320x240", fps=25)
    out = tmp_path / "camera.ts"

    async def main() -> FfmpegProcess:
        proc = FfmpegProcess(record_args(camera.url, out), name="record", progress_period=0.2)
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 30)
        await proc.stop(grace=3.0)  # SIGTERM: ffmpeg writes a last `progress=end` block
        return proc

    proc = asyncio.run(main())
    final = proc.latest
    assert final is not None and final.ended
    frames = video_frames(out)
    assert frames >= 30 and abs(final.frame - frames) <= 2, (final, frames)
    assert final.total_size is not None
    assert abs(final.total_size - out.stat().st_size) <= 0.02 * out.stat().st_size
    assert final.fps is not None and final.fps > 0


@pytest.mark.gstreamer
def test_supervised_ffmpeg_records_from_gstreamers_rtsp_server(gstreamer_rtsp_server, tmp_path):
    out = tmp_path / "gstreamer.ts"

    async def main() -> FfmpegProcess:
        args = record_args(gstreamer_rtsp_server.url, out)
        proc = FfmpegProcess(args, name="gstreamer", progress_period=0.2)
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 10)
        await proc.stop(grace=3.0)
        return proc

    proc = asyncio.run(main())
    video = ffprobe_json(out)["streams"][0]
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 320, 240)
    assert proc.latest is not None
    assert abs(video_frames(out) - proc.latest.frame) <= 2


def test_the_rtsp_preset_socket_timeout_ends_a_silent_pull_and_always_restarts_it(
    fake_camera, tmp_path
):
    # No watchdog: only ffmpeg's own RTSP socket timeout (rtsp_input(timeout_s=1)) can end
    # the run once the camera goes silent; without it ffmpeg would wait forever. ffmpeg takes
    # the timeout for the end of its input and exits 0, so only restart="always" restarts it.
    camera = fake_camera(size="320x240", fps=25)
    events: list[SupervisorEvent] = []

    async def main() -> FfmpegProcess:
        proc = FfmpegProcess(
            lambda run: record_args(camera.url, tmp_path / f"run-{run}.ts", rtsp_timeout_s=1.0),
            name="silent", restart="always", stall_timeout=None, progress_period=0.2,
            backoff=BackoffPolicy(initial=0.2, multiplier=1, max=0.2, jitter=0),
            on_event=events.append,
        )
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 10)
        camera.inject("stall")
        await eventually(lambda: any(e.kind == "exited" for e in events), within=10)
        camera.clear()
        await eventually(lambda: proc.runs >= 2 and proc.latest is not None
                         and proc.latest.frame >= 10)
        await proc.stop(grace=1.0)
        return proc

    proc = asyncio.run(main())
    first_exit = next(e for e in events if e.kind == "exited")
    assert (first_exit.run, first_exit.exit_code, first_exit.detail) == (1, 0, "")
    assert proc.stalls == 0 and proc.restarts >= 1
