"""MediaProcess with real ffmpeg: the stall rule waits for a source that went away and restarts
a process that stopped working on live input; frames counted on its MPEG-TS output; a stop
that lets ffmpeg finish (end of input) instead of killing it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal

from mediagrid.backoff import BackoffPolicy
from mediagrid.reference.media import FfmpegError, SupervisorEvent, ffmpeg_path
from mediagrid.sdk.media import INPUT_ARGS, OUTPUT_ARGS, MediaProcess
from mediagrid.sdk.media.entity import LIVE_INPUT
from tests import support
from tests.sdk.conftest import FakeClock

NULL_SINK = [ffmpeg_path(), "-loglevel", "warning", *INPUT_ARGS, "-f", "null", "-"]


def run(coro) -> None:  # type: ignore[no-untyped-def]
    asyncio.run(asyncio.wait_for(coro, 60))


def test_a_sink_whose_input_went_quiet_waits_instead_of_restarting():
    """On the injected clock: no input yet, or input gone quiet, is the source's problem and
    never a stall; input that comes back gets the whole start timeout from then on."""
    async def main() -> None:
        clock, idle = FakeClock(), [None]
        process = MediaProcess("waits", NULL_SINK, stdin=True, input_idle=lambda: idle[0],
                               stall_timeout=0.5, start_timeout=1.0, clock=clock)
        await process.start()
        try:
            for input_idle in (None, 30.0):  # nothing ever received; received 30 s ago
                idle[0] = input_idle
                for _ in range(10):  # five start timeouts with nothing to work on
                    clock.now += 0.5
                    assert process.stalled() == "", input_idle
            idle[0] = 0.0  # the source is back: the decoder gets start_timeout from now
            clock.now += 0.9
            assert process.stalled() == ""
            clock.now += 0.2
            assert process.stalled() == "no frame in 1 s"  # and is held to it
            assert process.restarts == 0 and process.running
        finally:
            await process.stop()
    run(main())


def test_a_process_that_makes_no_frames_from_live_input_is_restarted():
    async def main() -> None:
        process = MediaProcess("stuck", NULL_SINK, stdin=True, input_idle=lambda: 0.0,
                               stall_timeout=0.5, start_timeout=0.5)
        await process.start()
        try:
            for _ in range(100):
                process.write(b"\x00" * 1316)  # "live" input that is not media
                await asyncio.sleep(0.03)
                if process.restarts:
                    break
            assert process.restarts >= 1 and process.ffmpeg.stalls >= 1
        finally:
            await process.stop()
    run(main())


def test_frames_are_counted_on_the_mpegts_output_and_stop_lets_ffmpeg_finish():
    async def main() -> None:
        source = MediaProcess("source", [
            ffmpeg_path(), "-loglevel", "warning", *LIVE_INPUT, "-f", "lavfi", "-i",
            "testsrc2=size=160x120:rate=25", "-c:v", "mpeg2video", *OUTPUT_ARGS], ts_output=True)
        sink = MediaProcess("sink", NULL_SINK, stdin=True)
        assert source.feed is not None
        source.feed.subscribers.append(lambda feed, items: sink.write(
            b"".join(packet for packet, _ in items)))
        await sink.start()
        await source.start()
        await support.eventually(lambda: source.frames.total >= 60 and sink.frames.total >= 10,
                                 30)
        assert 15 < source.frames.rate() < 35  # real time, windowed
        # The sink's ffmpeg dies and is restarted: its frames count on from where they were.
        before = sink.frames.total
        os.kill(sink.ffmpeg.pid, signal.SIGKILL)
        await support.eventually(lambda: sink.ffmpeg.runs == 2 and sink.ffmpeg.latest is not None
                                 and sink.ffmpeg.latest.frame >= 5, 30)
        assert sink.frames.total >= before + 5 and sink.restarts == 1
        await source.stop()
        code = await asyncio.wait_for(sink.ffmpeg.stop(grace=5), 10)
        assert code == 0  # end of input: ffmpeg finished by itself, not killed
        await sink.stop()
    run(main())


def test_streaming_audio_resets_the_restart_backoff():
    """Audio has no frame count in ffmpeg's progress: the MPEG-TS it writes is what shows the
    process healthy, so each run that streams long enough starts the backoff over."""
    delays: list[float] = []

    def note(event: SupervisorEvent, _: MediaProcess) -> None:
        if event.kind == "restarting":
            delays.append(event.delay or 0.0)

    async def main() -> None:
        tone = MediaProcess("tone", [
            ffmpeg_path(), "-loglevel", "warning", *LIVE_INPUT, "-f", "lavfi", "-i",
            "sine=frequency=440:sample_rate=48000", "-t", "0.8", "-c:a", "mp2", *OUTPUT_ARGS],
            ts_output=True, audio=True, restart="always", on_event=note,
            backoff=BackoffPolicy(initial=0.1, multiplier=10, max=5, jitter=0, reset_after=0.1))
        await tone.start()
        try:
            await support.eventually(lambda: len(delays) >= 2, 30)
        finally:
            await tone.stop()
        assert delays[:2] == [0.1, 0.1]  # not 0.1 then 1.0: the backoff was reset
    run(main())
def test_a_failure_is_told_with_ffmpeg_s_reason_not_its_closing_lines(aac_ts, tmp_path):
    """ffmpeg 9 ends a failure with lines about its threads ("Task finished with error code",
    "Terminating thread ..."), which would fill a three-line tail and hide the reason. Here:
    ADTS AAC into an MP4 whose header is written before the first packet."""
    source = tmp_path / "tone.ts"
    source.write_bytes(aac_ts)
    args = [ffmpeg_path(), "-loglevel", "warning", "-i", str(source), "-c", "copy", "-f", "mp4",
            "-movflags", "+frag_keyframe+empty_moov", str(tmp_path / "tone.mp4")]

    async def main() -> str:
        process = MediaProcess("rec", args, restart="never", stall_timeout=None)
        await process.start()
        with contextlib.suppress(FfmpegError):
            await process.ffmpeg.wait()
        return process.describe_failure()
    told = asyncio.run(asyncio.wait_for(main(), 60))
    assert "Malformed AAC bitstream detected" in told and "Error muxing a packet" in told
    assert "Task finished" not in told and " @ 0x" not in told, told
