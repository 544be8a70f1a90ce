"""Supervised ffmpeg and time-coded frames: the ground every reference media module stands on.

- `ffmpeg_binary.ffmpeg_path()`: which ffmpeg (imageio-ffmpeg's unless a setting names another);
- `commands`: argument lists (the only module that imports ffmpeg-python);
- `process.FfmpegProcess`: the one way a media module runs ffmpeg (process group, parent-death
  signal, `-progress` updates, stderr tail, stall watchdog, restart with the project's one
  backoff, `mediagrid.backoff`);
- `watchdog`: the stall policy, with an injectable clock;
- `presets`: RTSP pull over TCP, low-latency output, the loopback transport URLs;
- `timecode`: wall-clock time stamped into frames by ffmpeg and read back from decoded frames.

See docs/media.md.
"""

from mediagrid.reference.media.errors import FfmpegError, FfmpegNotFound
from mediagrid.reference.media.ffmpeg_binary import ffmpeg_path
from mediagrid.reference.media.process import FfmpegProcess
from mediagrid.reference.media.progress import Progress, ProgressParser
from mediagrid.reference.media.supervision import SupervisorEvent
from mediagrid.reference.media.watchdog import MonotonicClock, StallWatchdog

__all__ = [
    "FfmpegError",
    "FfmpegNotFound",
    "FfmpegProcess",
    "MonotonicClock",
    "Progress",
    "ProgressParser",
    "StallWatchdog",
    "SupervisorEvent",
    "ffmpeg_path",
]
