"""`transcode` and `audio-transcode`: decode what arrives, encode it at the connection's quality.

The entity's config gives the default quality; a connection's QualityProfile overrides it,
and AdjustQuality changes it on a running flow: the media layer starts an encoder at the new
quality beside the old one (both read the same input), switches the connection at the new
encoder's first keyframe and stops the old one (rule P-9; docs/media.md says how the gap is
measured). Connections asking the same quality share one encoder.
"""

from __future__ import annotations

from pathlib import Path

from mediagrid import sdk
from mediagrid.sdk import media
from mediagrid.sdk.media import Quality

MANIFEST = Path(__file__).with_name("module.yaml")


class Transcode(media.MediaEntity):
    async def create(self) -> None:
        self.quality_from(self.config)  # bad values are refused before anything runs

    async def configure(self, config: dict[str, str]) -> None:
        self.quality_from(config)

    @staticmethod
    def quality_from(config: dict[str, str]) -> Quality:
        width, height = media.parse_size(config["size"]) if "size" in config else (0, 0)
        fps = media.parse_fps(config["fps"]) if "fps" in config else 0
        gop = int(config["gop"])
        if not 1 <= gop <= 1000:
            raise sdk.InvalidArgument(f"config.gop {gop}: use 1 to 1000 frames")
        return Quality(sdk.MediaType.VIDEO, config["codec"],
                       bitrate=media.parse_bitrate(config["bitrate"]), width=width,
                       height=height, fps=fps, gop=gop)  # type: ignore[arg-type]

    def default_quality(self) -> Quality:
        return self.quality_from(self.config)

    def ffmpeg_args(self, quality: Quality | None, run: int) -> list[str]:
        assert quality is not None
        filters = quality.filters()
        scale = ["-vf", ",".join(filters)] if filters else []
        return [*self.input_args(), "-map", "0:v:0", *scale, *quality.encoder_args(),
                *self.output_args()]


class AudioTranscode(media.MediaEntity):
    async def create(self) -> None:
        media.parse_bitrate(self.config["bitrate"])

    async def configure(self, config: dict[str, str]) -> None:
        media.parse_bitrate(config["bitrate"])

    def default_quality(self) -> Quality:
        return Quality(sdk.MediaType.AUDIO, self.config["codec"],
                       bitrate=media.parse_bitrate(self.config["bitrate"]))

    def ffmpeg_args(self, quality: Quality | None, run: int) -> list[str]:
        assert quality is not None
        return [*self.input_args(), "-map", "0:a:0", *quality.encoder_args(),
                *self.output_args()]


def build() -> sdk.Module:
    module = sdk.Module.from_manifest(MANIFEST)
    module.entity("transcode")(Transcode)
    module.entity("audio-transcode")(AudioTranscode)
    return module
