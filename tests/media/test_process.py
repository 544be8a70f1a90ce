"""The supervised process: process groups, parent death, stderr in errors, restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from mediagrid.reference.media import BackoffPolicy, FfmpegError, FfmpegProcess, SupervisorEvent
from tests.media.helpers import (
    FFMPEG,
    alive,
    eventually,
    live_testsrc,
    send_udp_burst,
    udp_receiver,
    wait_dead,
)


def test_stop_kills_the_whole_process_group() -> None:
    async def main() -> tuple[int, int | None]:
        proc = FfmpegProcess(live_testsrc(), name="live", restart="always")
        await proc.start()
        await eventually(lambda: proc.latest is not None and proc.latest.frame >= 5)
        pid = proc.pid
        assert pid is not None and os.getpgid(pid) == pid  # its own group
        code = await proc.stop(grace=3.0)
        return pid, code

    pid, code = asyncio.run(main())
    assert not alive(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # no process left in the group
    assert code == 255  # ffmpeg's exit after a SIGTERM it handled


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
        proc = FfmpegProcess(sys.argv[1:], name="orphan-check", restart="always")
        await proc.start()
        print(proc.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


def test_a_sigkilled_supervisor_leaves_no_ffmpeg() -> None:
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, *live_testsrc()],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        line = supervisor.stdout.readline()  # type: ignore[union-attr]
        ffmpeg_pid = int(line)
        assert alive(ffmpeg_pid)
        supervisor.kill()
        supervisor.wait(5)
        assert wait_dead(ffmpeg_pid, 5.0), f"ffmpeg {ffmpeg_pid} outlived its supervisor"
    finally:
        with pytest.raises(ProcessLookupError):
            os.killpg(supervisor.pid, signal.SIGKILL)  # nothing left anywhere in the tree
        supervisor.wait(5)


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
            backoff=BackoffPolicy(tiers=(0.0, 0.2), jitter=0.0),
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
                               backoff=BackoffPolicy(tiers=(0.0,), jitter=0.0))
        await always.start()
        await eventually(lambda: always.restarts >= 2)
        await always.stop()
        return once.runs, always.runs

    once_runs, always_runs = asyncio.run(main())
    assert once_runs == 1
    assert always_runs >= 3


def test_managed_options_are_refused_with_a_fix() -> None:
    with pytest.raises(ValueError, match="-progress is set by the supervisor"):
        FfmpegProcess([FFMPEG, "-progress", "pipe:1", "-i", "x", "y"])


def test_a_stall_restarts_after_the_backoff_and_streaming_resumes(free_port: int) -> None:
    events: list[tuple[float, SupervisorEvent]] = []

    async def main() -> FfmpegProcess:
        loop = asyncio.get_running_loop()
        proc = FfmpegProcess(
            udp_receiver(free_port), name="stall", restart="always", stall_timeout=1.0,
            kill_grace=0.3, backoff=BackoffPolicy(tiers=(0.4,), jitter=0.0),
            on_event=lambda e: events.append((loop.time(), e)),
        )
        await proc.start()
        await send_udp_burst(free_port, seconds=1.0)
        # the watchdog kills the quiet run, the backoff delays run 2
        await eventually(lambda: proc.runs >= 2)
        await send_udp_burst(free_port, seconds=1.0)
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
