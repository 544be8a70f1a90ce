"""The supervised process: process groups, parent death, stderr in errors, restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from mediagrid.backoff import BackoffPolicy
from mediagrid.reference.media import FfmpegError, FfmpegProcess, SupervisorEvent
from mediagrid.reference.media.supervision import OutputPipe
from tests.media.helpers import FFMPEG, live_testsrc, send_udp_burst, udp_receiver
from tests.support import alive, eventually, group_gone, wait_dead


def test_stop_kills_the_whole_process_group(tmp_path: Path) -> None:
    # argv[0] is a wrapper that leaves a helper process in the group, then execs ffmpeg: a
    # stop() that signalled only ffmpeg's pid would leave the helper running.
    helper_file = tmp_path / "helper.pid"
    wrapper = tmp_path / "ffmpeg-with-helper"
    wrapper.write_text(f'#!/bin/sh\nsleep 300 &\necho $! > {helper_file}\nexec {FFMPEG} "$@"\n')
    wrapper.chmod(0o755)
    args = [str(wrapper), *live_testsrc()[1:]]

    async def main() -> tuple[int, int | None]:
        proc = FfmpegProcess(args, name="live", restart="always")
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 5)
        pid = proc.pid
        assert pid is not None and os.getpgid(pid) == pid  # its own group
        assert os.getpgid(int(helper_file.read_text())) == pid  # the helper shares it
        # The helper holds ffmpeg's pipes too: a stop() that misses it never finishes.
        async with asyncio.timeout(10):
            code = await proc.stop(grace=3.0)
        return pid, code

    try:
        pid, code = asyncio.run(main())
        helper = int(helper_file.read_text())
        assert wait_dead(helper, 2.0), "stop() left a process of ffmpeg's group running"
        assert not alive(pid)
        assert group_gone(pid, 2.0)  # once init reaps the helper's zombie
        assert code == 255  # ffmpeg's exit after a SIGTERM it handled
    finally:
        if helper_file.exists() and alive(helper := int(helper_file.read_text())):
            os.kill(helper, signal.SIGKILL)


def test_stop_escalates_to_sigkill_after_the_grace(free_port: int) -> None:
    # A running ffmpeg blocked on a UDP read whose sender went quiet notes SIGTERM but cannot
    # act on it until a packet arrives, so only the SIGKILL after the grace ends it.
    async def main() -> tuple[int, int | None, float]:
        proc = FfmpegProcess(udp_receiver(free_port), name="udp", stall_timeout=None)
        await proc.start()
        await send_udp_burst(free_port, seconds=1.0)
        await eventually(lambda: proc.latest is not None and proc.latest.frame > 0, within=3)
        pid = proc.pid
        assert pid is not None
        loop = asyncio.get_running_loop()
        began = loop.time()
        code = await proc.stop(grace=0.3)
        return pid, code, loop.time() - began

    pid, code, took = asyncio.run(main())
    assert not alive(pid)
    assert code == -signal.SIGKILL
    assert took >= 0.3


SUPERVISOR = textwrap.dedent(
    """
    import asyncio, sys
    from mediagrid.reference.media import FfmpegProcess

    async def main():
        # A progress period of an hour and `-loglevel error`: once running, this ffmpeg writes
        # nothing to the supervisor's pipes, so a dead supervisor cannot kill it by SIGPIPE;
        # only the parent-death signal can.
        proc = FfmpegProcess(sys.argv[1:], name="orphan-check", restart="always",
                             progress_period=3600, stall_timeout=None)
        await proc.start()
        await asyncio.sleep(1.0)  # past ffmpeg's start-up output
        print(proc.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_a_sigkilled_supervisor_leaves_no_ffmpeg() -> None:
    args = live_testsrc()
    args[1:1] = ["-loglevel", "error"]
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, *args],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    ffmpeg_pid = None
    try:
        line = supervisor.stdout.readline()  # type: ignore[union-attr]
        ffmpeg_pid = int(line)
        assert alive(ffmpeg_pid)
        supervisor.kill()
        supervisor.wait(5)
        assert wait_dead(ffmpeg_pid, 5.0), f"ffmpeg {ffmpeg_pid} outlived its supervisor"
    finally:
        supervisor.kill()
        supervisor.wait(5)
        if ffmpeg_pid is not None and alive(ffmpeg_pid):
            os.killpg(ffmpeg_pid, signal.SIGKILL)  # the test failed: leave nothing behind


def test_a_failing_ffmpeg_error_quotes_its_stderr_tail(tmp_path: object) -> None:
    missing = "/nonexistent/input-for-the-tail-test.mp4"

    async def main() -> None:
        proc = FfmpegProcess([FFMPEG, "-i", missing, "-f", "null", "-"], restart="never")
        await proc.start()
        await proc.wait()

    with pytest.raises(FfmpegError) as caught:
        asyncio.run(main())
    error = caught.value
    assert error.exit_code not in (0, None)
    assert any(missing in line for line in error.stderr_tail)
    assert missing in str(error) and "No such file or directory" in str(error)


def test_failures_restart_with_the_backoff_until_max_restarts() -> None:
    events: list[SupervisorEvent] = []

    async def main() -> FfmpegProcess:
        proc = FfmpegProcess(
            [FFMPEG, "-f", "lavfi", "-i", "nosuchsource", "-f", "null", "-"],
            name="crashy", restart="on-failure", max_restarts=2, on_event=events.append,
            backoff=BackoffPolicy(initial=0.2, multiplier=1, max=0.2, jitter=0, first_at_once=True),
        )
        await proc.start()
        with pytest.raises(FfmpegError, match="after 2 restarts"):
            await proc.wait()
        return proc

    proc = asyncio.run(main())
    assert (proc.runs, proc.restarts) == (3, 2)
    assert [e.delay for e in events if e.kind == "restarting"] == [0.0, 0.2]
    assert [e.kind for e in events][-1] == "gave_up"


def test_a_clean_exit_ends_a_one_shot_run_but_restarts_under_always() -> None:
    args = [FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-t", "0.2",
            "-f", "null", "-"]

    async def main() -> tuple[int, int]:
        once = FfmpegProcess(args, name="once")
        await once.start()
        assert await once.wait() == 0
        always = FfmpegProcess(args, name="always", restart="always",
                               backoff=BackoffPolicy(initial=0, multiplier=1, max=0, jitter=0))
        await always.start()
        await eventually(lambda: always.restarts >= 2)
        await always.stop()
        return once.runs, always.runs

    once_runs, always_runs = asyncio.run(main())
    assert once_runs == 1
    assert always_runs >= 3


def test_on_output_gets_every_byte_of_each_run_up_to_its_exit(tmp_path: Path) -> None:
    # stdout read straight from the pipe (no StreamReader), by a slow callback that lets the
    # pipe fill: each run's output reaches it whole and in order, up to the run's last bytes.
    args = ["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "1", "-c:v",
            "mpeg2video", "-f", "mpegts"]
    reference = tmp_path / "reference.ts"
    subprocess.run([FFMPEG, "-loglevel", "error", *args, "-bitexact", str(reference)],
                   check=True)
    runs: list[bytearray] = []

    def output(data: bytes) -> None:
        time.sleep(0.005)
        runs[-1].extend(data)

    def started(event: SupervisorEvent) -> None:
        if event.kind == "started":
            runs.append(bytearray())

    async def main() -> None:
        proc = FfmpegProcess([FFMPEG, *args, "-bitexact", "pipe:1"], name="out",
                             restart="always", on_event=started,
                             on_output=output,
                             backoff=BackoffPolicy(initial=0, multiplier=1, max=0, jitter=0))
        await proc.start()
        await eventually(lambda: proc.restarts >= 2, within=20)
        await proc.stop()

    asyncio.run(main())
    assert len(runs) >= 3
    assert all(bytes(run) == reference.read_bytes() for run in runs[:2])
    with pytest.raises(ValueError, match="not both"):
        FfmpegProcess([FFMPEG, *args, "pipe:1"], stdout=asyncio.subprocess.PIPE,
                      on_output=print)


def test_output_pipe_passes_on_what_is_left_in_the_pipe_when_the_exit_is_seen_first(
        tmp_path: Path) -> None:
    # A run's exit can be handled before the loop's reader has read the pipe: close() hands
    # on what is left there before closing it. Here ffmpeg runs to its exit while the loop is
    # busy (its whole output, a few KB, waits in the pipe), then the exit is handled.
    args = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=25", "-frames:v", "5", "-c:v",
            "mpeg2video", "-f", "mpegts", "-bitexact"]
    reference = tmp_path / "reference.ts"
    subprocess.run([FFMPEG, "-loglevel", "error", *args, str(reference)], check=True)
    assert 0 < reference.stat().st_size < 60000  # it fits the pipe: the run can exit

    async def main() -> bytes:
        got: list[bytes] = []
        output = OutputPipe(got.append)
        child_end = os.dup(output.write_fd)
        output.start()
        try:
            # blocking on purpose: the loop must not read the pipe before the exit is handled
            subprocess.run([FFMPEG, "-loglevel", "error", *args, "pipe:1"],  # noqa: ASYNC221
                           stdout=child_end, check=True, timeout=60)
        finally:
            os.close(child_end)
        read_fd = output.read_fd
        output.close()  # the exit, handled before any read of the pipe
        with pytest.raises(OSError):  # and the pipe closed: no descriptor left per run
            os.fstat(read_fd)
        return b"".join(got)

    assert asyncio.run(main()) == reference.read_bytes()


def test_output_pipe_callback_failing_at_exit_is_logged_not_raised(caplog) -> None:
    # A consumer that fails on the last bytes must not take the supervisor's run down with
    # it at the exit (where close() hands them on): the failure is logged, the pipe closed.
    def failing(data: bytes) -> None:
        raise RuntimeError("consumer broke")

    async def main() -> None:
        output = OutputPipe(failing)
        child_end = os.dup(output.write_fd)
        output.start()
        os.write(child_end, b"\x47" + bytes(187))
        os.close(child_end)
        output.close()
        assert output.read_fd == -1

    asyncio.run(main())
    assert "reading ffmpeg's output failed" in caplog.text


def test_managed_options_are_refused_with_a_fix() -> None:
    with pytest.raises(ValueError, match="-progress is set by the supervisor"):
        FfmpegProcess([FFMPEG, "-progress", "pipe:1", "-i", "x", "y"])


def test_a_stall_restarts_after_the_backoff_and_streaming_resumes(free_port: int) -> None:
    events: list[tuple[float, SupervisorEvent]] = []

    async def main() -> FfmpegProcess:
        loop = asyncio.get_running_loop()
        proc = FfmpegProcess(
            udp_receiver(free_port), name="stall", restart="always", stall_timeout=1.0,
            kill_grace=0.3, backoff=BackoffPolicy(initial=0.4, multiplier=1, max=0.4, jitter=0),
            on_event=lambda e: events.append((loop.time(), e)),
        )
        await proc.start()
        await send_udp_burst(free_port, seconds=1.0)
        # the watchdog kills the quiet run, the backoff delays run 2
        await eventually(lambda: proc.runs >= 2)
        # Run 2 is spawned, but under load it may not listen yet when a burst starts: send
        # until it has frames (each burst is far shorter than the stall timeout apart).
        for _ in range(10):
            await send_udp_burst(free_port, seconds=1.0)
            if proc.latest is not None and proc.latest.frame > 0:
                break
        await eventually(lambda: proc.latest is not None and proc.latest.frame > 0, within=3)
        assert proc.runs == 2
        await proc.stop(grace=0.3)
        return proc

    proc = asyncio.run(main())
    assert (proc.stalls, proc.restarts) == (1, 1)
    kinds = [e.kind for _, e in events]
    assert kinds[:5] == ["started", "stalled", "exited", "restarting", "started"]
    times = {e.kind: t for t, e in reversed(events)}  # first occurrence of each kind
    restarting = next(t for t, e in events if e.kind == "restarting")
    second_start = [t for t, e in events if e.kind == "started"][1]
    assert second_start - restarting >= 0.4
    assert times["stalled"] > times["started"]


def test_a_stall_soon_after_the_start_is_seen_after_the_stall_timeout() -> None:
    # 30 frames, then none (select drops the rest) while ffmpeg keeps reading its input, so
    # the watchdog's SIGTERM ends it at once (exit 255). The stall must be the reason given,
    # and it must be seen stall_timeout after the last frame, not at the start timeout.
    args = [FFMPEG, "-re", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
            "-vf", "select=lt(n\\,30)", "-f", "null", "-"]
    events: list[SupervisorEvent] = []

    async def main() -> FfmpegProcess:
        proc = FfmpegProcess(args, name="frozen", restart="never", stall_timeout=0.5,
                             start_timeout=60.0, kill_grace=60.0, progress_period=0.1,
                             on_event=events.append)
        await proc.start()
        with pytest.raises(FfmpegError, match="'frozen' stalled") as caught:
            async with asyncio.timeout(20):  # far below the start timeout and the kill grace
                await proc.wait()
        assert caught.value.exit_code == 255  # SIGTERM, not the SIGKILL after kill_grace
        return proc

    proc = asyncio.run(main())
    assert proc.stalls == 1
    assert proc.latest is not None and proc.latest.frame == 30
    stalled = next(e for e in events if e.kind == "stalled")
    assert stalled.detail == "no new frame for 0.5 s"
    exited = next(e for e in events if e.kind == "exited")
    assert (exited.exit_code, exited.detail) == (255, "stalled")


class StepClock:
    """A clock that moves only when the test moves it."""

    def __init__(self) -> None:
        self.t = 0.0

    def now(self) -> float:
        return self.t


def test_the_backoff_tier_resets_only_after_healthy_streaming_on_the_injected_clock() -> None:
    # Runs 1, 3 and 5 fail at once; runs 2 and 4 stream, 2 for less than healthy_reset on the
    # injected clock (1 s per update), 4 for more (10 s per update). Only run 4 resets the tier.
    failing = [FFMPEG, "-f", "lavfi", "-i", "nosuchsource", "-f", "null", "-"]
    short = [FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25", "-frames:v", "5",
             "-f", "null", "-"]
    streaming = [FFMPEG, "-re", "-f", "lavfi", "-i", "testsrc2=size=64x48:rate=25",
                 "-t", "1", "-f", "null", "-"]
    clock = StepClock()
    events: list[SupervisorEvent] = []
    runs = {2: short, 4: streaming}
    step = {2: 1.0, 4: 10.0}

    async def main() -> None:
        proc = FfmpegProcess(
            lambda run: runs.get(run, failing), name="tiers", restart="always", max_restarts=4,
            stall_timeout=None, progress_period=0.1, clock=clock, on_event=events.append,
            on_progress=lambda p: setattr(clock, "t", clock.t + step.get(proc.runs, 0.0)),
            backoff=BackoffPolicy(initial=0.01, multiplier=2, max=0.04, jitter=0, reset_after=10.0,
                                  first_at_once=True),
        )
        await proc.start()
        with pytest.raises(FfmpegError, match="after 4 restarts"):
            async with asyncio.timeout(20):
                await proc.wait()

    asyncio.run(main())
    assert [e.delay for e in events if e.kind == "restarting"] == [0.0, 0.01, 0.02, 0.0]
