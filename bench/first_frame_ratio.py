"""first_frame_ratio: StartFlow to the first frame at the sink, over the GOP duration.

A flow from the sources module's `testsrc` (640x360, 25 fps, a keyframe every 50 frames: a
GOP of 2 s, the longest rule P-23 allows) to the display module (SDL's dummy driver) is started
10 times, each a new flow over new entities. Measured: from the moment the client starts the
flow (StartFlow on the sink's module first, then the source's, as the orchestrator does) to
the display's first decoded frame (its `first_frame_ms` metric, the same wall clock). The
figure is the median over the GOP duration: below 1, a viewer waits less than one GOP.

    python bench/first_frame_ratio.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from mediagrid.reference.modules.wiring import Flow

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _modules import module

FPS, GOP = 25, 50


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    opts = parser.parse_args()
    waits = []
    with module("sources") as (_, sources), \
            module("display", SDL_VIDEODRIVER="dummy") as (_, display):
        for n in range(opts.runs):
            source = sources.create("testsrc", {"size": "640x360", "rate": str(FPS),
                                                "gop": str(GOP), "bitrate": "600k"})
            screen = display.create("display", {})
            flow = Flow(f"f{n}")
            flow.connect(f"c{n}", source, screen)
            started_ms = time.time_ns() // 1_000_000
            flow.start()
            deadline = time.monotonic() + 20
            while "first_frame_ms" not in (metrics := screen.metrics()):
                if time.monotonic() > deadline:
                    raise SystemExit(f"run {n + 1}: no frame at the display within 20 s")
                time.sleep(0.02)
            waits.append(int(metrics["first_frame_ms"]) - started_ms)
            print(f"run {n + 1}: first frame after {waits[-1]} ms", flush=True)
            flow.stop()
    gop_ms = 1000 * GOP / FPS
    median = statistics.median(waits)
    print(f"median {median:.0f} ms (min {min(waits)}, max {max(waits)}) over a GOP of"
          f" {gop_ms:.0f} ms ({GOP} frames at {FPS} fps)")
    print(f"first_frame_ratio: {median / gop_ms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
