"""hello: a test-pattern source and a null sink on mediagrid.sdk.media (walkthrough: docs/sdk.md).

A flow really moves media: the source's ffmpeg encodes a lavfi test pattern to MPEG-TS, the
media layer sends it to the sink's endpoint (in another module, or a loopback port on a
LOCAL connection), and the null sink's ffmpeg decodes it and throws it away. What is measured
on the way (frames, fps, bitrate) becomes the connection's and the flow's metrics.
"""

from pathlib import Path

from mediagrid import sdk
from mediagrid.sdk import media

module = sdk.Module.from_manifest(Path(__file__).with_name("module.yaml"))


@module.entity("testsrc")
class TestSource(media.MediaEntity):
    def default_quality(self) -> media.Quality:
        return media.Quality(self.media_type, "mpeg2video", bitrate=1_000_000)

    def ffmpeg_args(self, quality: media.Quality | None, run: int) -> list[str]:
        assert quality is not None  # a source always encodes at its connection's quality
        size, rate = self.config["size"], self.config["rate"]
        return [*self.live_input(), "-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}",
                *quality.encoder_args(), *self.output_args()]


@module.entity("null")
class NullSink(media.MediaEntity):
    def ffmpeg_args(self, quality: media.Quality | None, run: int) -> list[str]:
        return [*self.input_args(), "-f", "null", "-"]  # decode, then discard


if __name__ == "__main__":
    sdk.serve(module)
