"""supervise_overhead: CPU of a supervised encode over the same encode run bare.

The same libx264 encode of a lavfi test pattern runs alternately as a bare ffmpeg command
(subprocess.run) and through FfmpegProcess (asyncio event loop, -progress parsing every 0.5 s,
stderr drained, stall watchdog armed). For each run the CPU seconds are user+sys of this
process (the supervisor's own work: RUSAGE_SELF) plus its reaped children (ffmpeg:
RUSAGE_CHILDREN), as deltas around the run. Medians over the repeats; the ratio is
supervised / bare. Target <= 1.05.

    python bench/supervise_overhead.py [--repeats 5] [--seconds 6] [--realtime]
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from mediagrid.reference.media import FfmpegProcess, ffmpeg_path
from mediagrid.reference.media.commands import Input, Output, transcode


def cpu_seconds() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measured(run: Callable[[], None]) -> float:
    before = cpu_seconds()
    run()
    return cpu_seconds() - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0, help="length of the encode")
    parser.add_argument(
        "--realtime", action="store_true",
        help="read the input at its native rate (-re), as a live stream runs: more progress "
        "blocks per CPU second of encoding",
    )
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "encode.mp4"
        args = transcode(
            ffmpeg_path(),
            Input(
                "testsrc2=size=640x360:rate=25",
                {"f": "lavfi", "t": opts.seconds, "re": opts.realtime},
            ),
            Output(str(out), {"c:v": "libx264", "preset": "veryfast", "b:v": "1M"}),
        )

        def bare() -> None:
            subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def supervised() -> None:
            async def run() -> None:
                proc = FfmpegProcess(args, name="bench", restart="never", stall_timeout=5.0)
                await proc.start()
                await proc.wait()

            asyncio.run(run())

        bare()  # warm the page cache and the binary
        bare_cpu: list[float] = []
        supervised_cpu: list[float] = []
        for i in range(opts.repeats):
            order = [(bare, bare_cpu), (supervised, supervised_cpu)]
            for run, into in order if i % 2 == 0 else reversed(order):
                into.append(measured(run))
    b, s = statistics.median(bare_cpu), statistics.median(supervised_cpu)
    for label, runs, median in (("bare", bare_cpu, b), ("supervised", supervised_cpu, s)):
        figures = " ".join(f"{x:.3f}" for x in runs)
        print(f"{label:>10} ffmpeg CPU s: {figures}  median {median:.3f}")
    print(f"supervise_overhead: {s / b:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
