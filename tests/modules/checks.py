"""What the module tests measure: recordings probed with ffprobe, time codes read back from
recorded frames, flows polled until a condition holds."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediagrid.reference.media import commands, ffmpeg_path
from mediagrid.reference.media.timecode import TimecodeLayout, decode_strip, stamp_filter
from mediagrid.reference.modules.wiring import ModuleClient
from mediagrid.v1 import pipeline_pb2
from tests import support

ACTIVE, ERROR = pipeline_pb2.FLOW_STATE_ACTIVE, pipeline_pb2.FLOW_STATE_ERROR


def camera_stamp(size: str = "320x240") -> str:
    """The fake camera's --vf that stamps reference/media's time code into its frames."""
    width, height = (int(v) for v in size.split("x"))
    return stamp_filter(TimecodeLayout.for_frame(width, height))


def wait_flow(module: ModuleClient, flow_id: str, predicate: Callable[[Any], bool],
              timeout: float = 30.0, what: str = "the condition") -> Any:
    """Polls GetFlowStatus until `predicate(flow)` holds; fails with the last flow seen."""
    flow = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        flow = module.flow(flow_id)
        if predicate(flow):
            return flow
        time.sleep(0.05)
    raise AssertionError(f"flow {flow_id} on {module.id}: no {what} within {timeout} s: {flow}")


def wait_frames(module: ModuleClient, flow_id: str, frames: int, timeout: float = 30.0) -> Any:
    return wait_flow(module, flow_id, lambda f: f.status.state == ACTIVE
                     and f.metrics.frames >= frames, timeout, f"ACTIVE with {frames} frames")


def video_stream(path: Path) -> dict[str, Any]:
    info = support.ffprobe_json(path)
    streams = [s for s in info["streams"] if s["codec_type"] == "video"]
    assert streams, f"{path} has no video stream: {info}"
    return {**streams[0], "duration": float(info["format"].get("duration", 0))}


def decoded_frames(path: Path) -> int:
    """Frames ffprobe decodes from the file (0 when it cannot)."""
    info = support.ffprobe_json(path, "-count_frames", "-select_streams", "v:0")
    return int(info["streams"][0].get("nb_read_frames", 0)) if info["streams"] else 0


def packets(path: Path) -> list[tuple[float, int]]:
    """(pts seconds, size in bytes) of each video packet, in file order."""
    result = subprocess.run(
        [support.ffprobe_path(), "-v", "error", "-select_streams", "v:0", "-show_entries",
         "packet=pts_time,size", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, timeout=60, check=True)
    rows = [line.split(",") for line in result.stdout.split() if "," in line]
    return [(float(pts), int(size)) for pts, size in rows if pts != "N/A"]


def timecodes(path: Path, width: int, height: int) -> list[int | None]:
    """The time code of every frame of a recording (None where unreadable)."""
    layout = TimecodeLayout.for_frame(width, height)
    args = commands.timecode_reader(ffmpeg_path(), commands.Input(str(path)), layout,
                                    global_options={"loglevel": "error"})
    raw = subprocess.run(args, capture_output=True, timeout=60, check=True).stdout
    size = layout.frame_bytes
    return [decode_strip(raw[i : i + size], layout) for i in range(0, len(raw) - size + 1, size)]


def largest_gap_frames(codes: list[int | None], fps: float) -> int:
    """Frames lost at the worst step between consecutive readable codes, as contract §4.4
    measures a switch: round(delta / T) - 1 (0 for an unbroken stream; steps back, frames
    sent twice, are not gaps)."""
    known = [c for c in codes if c is not None]
    interval = 1000 / fps
    steps = [b - a for a, b in itertools.pairwise(known)]
    return max((round(step / interval) - 1 for step in steps if step > 0), default=0)
