"""mediagrid.sdk.media: the media plumbing every Python module author gets (docs/sdk.md).

    from mediagrid.sdk import media

    @module.entity("testsrc")
    class TestSource(media.MediaEntity):
        def default_quality(self):
            return media.Quality(sdk.MediaType.VIDEO, "h264", bitrate=500_000)

        def ffmpeg_args(self, quality, run):
            return ["-re", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
                    *quality.encoder_args(), *self.output_args()]

Parts, each usable alone:
- `MediaEntity`: an entity whose ffmpeg is wired to its connections for every role;
- `MediaProcess`: one supervised ffmpeg with its stdin, MPEG-TS stdout and stall rule;
- `Receiver` (target side) and `Destination` (source side) of a connection, `Feed`;
- `endpoints`: the listening URL of contract §4.1, LOCAL endpoints, parsing;
- `Meter`, `LatencyWindow`: windowed rates and latency, with an injectable clock;
- `Quality`: codec, size, frame rate, bitrate, keyframe interval, checked, as ffmpeg args;
- `ts`: the little of MPEG-TS that relaying needs.
"""

from mediagrid.sdk.media import endpoints, ts
from mediagrid.sdk.media.destination import Destination
from mediagrid.sdk.media.endpoints import listen_url, local_endpoint
from mediagrid.sdk.media.entity import INPUT_ARGS, OUTPUT_ARGS, MediaEntity
from mediagrid.sdk.media.feed import Feed
from mediagrid.sdk.media.meter import LatencyWindow, Meter
from mediagrid.sdk.media.quality import (
    AUDIO_CODECS,
    COPY,
    VIDEO_CODECS,
    Quality,
    parse_bitrate,
    parse_fps,
    parse_size,
)
from mediagrid.sdk.media.receiver import Receiver
from mediagrid.sdk.media.runner import MediaProcess

__all__ = [
    "AUDIO_CODECS", "COPY", "INPUT_ARGS", "OUTPUT_ARGS", "VIDEO_CODECS", "Destination", "Feed",
    "LatencyWindow", "MediaEntity", "MediaProcess", "Meter", "Quality", "Receiver",
    "endpoints", "listen_url", "local_endpoint", "parse_bitrate", "parse_fps", "parse_size",
    "ts",
]
