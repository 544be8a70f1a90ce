"""`file`: plays a media file at its own pace (`-re`), looping by default.

With `codec: copy` the file's own stream is sent, which must be one MPEG-TS carries; another
codec re-encodes it. The file is checked when the entity is created or configured: a missing
file, one without a stream of the entity's media type, or a codec MPEG-TS cannot carry is
refused naming the key and the fix, before anything runs.
"""

from __future__ import annotations

import asyncio
import os
import re

from mediagrid.reference.media import ffmpeg_path
from mediagrid.sdk import FailedPrecondition, InvalidArgument, MediaType, media
from mediagrid.sdk.media import AUDIO_CODECS, VIDEO_CODECS, Quality

_STREAM = re.compile(r"Stream #\d+:\d+\S*: (Video|Audio): (\w+)")


async def file_streams(path: str) -> list[tuple[str, str]]:
    """(media type, codec) of each stream of a file, as the bundled ffmpeg reads them."""
    process = await asyncio.create_subprocess_exec(
        ffmpeg_path(), "-hide_banner", "-nostdin", "-i", path,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    found = _STREAM.findall(stderr.decode(errors="replace"))
    return [(kind.lower(), codec) for kind, codec in found]


def check_readable(path: str) -> None:
    if not os.path.isfile(path):
        raise FailedPrecondition(
            f"config.path {path!r} is not a file this module can see: give the full path of"
            " an existing media file")
    if not os.access(path, os.R_OK):
        raise FailedPrecondition(f"config.path {path!r} is not readable: chmod it")


class FileSource(media.MediaEntity):
    async def create(self) -> None:
        await self.check(self.config)

    async def configure(self, config: dict[str, str]) -> None:
        await self.check(config)

    async def check(self, config: dict[str, str]) -> None:
        path = config["path"]
        check_readable(path)
        kind = "audio" if self.media_type is MediaType.AUDIO else "video"
        codecs = [codec for k, codec in await file_streams(path) if k == kind]
        if not codecs:
            raise FailedPrecondition(
                f"config.path {path!r} has no {kind} stream: choose a file with one, or create"
                f" the entity with the other media type")
        known = AUDIO_CODECS if kind == "audio" else VIDEO_CODECS
        wanted = config["codec"]
        if wanted != "copy" and wanted not in known:
            raise InvalidArgument(f"config.codec {wanted!r} is not a {kind} codec: use one of"
                                  f" copy, {', '.join(known)}")
        if wanted == "copy" and codecs[0] not in known:
            raise InvalidArgument(
                f"config.codec copy: the file's {kind} is {codecs[0]}, which MPEG-TS cannot"
                f" carry; set codec to one of {', '.join(known)}")
        media.parse_bitrate(config["bitrate"])
        self.restart = "always" if config["loop"] == "true" else "on-failure"

    def default_quality(self) -> Quality:
        return Quality(self.media_type, self.config["codec"],
                       bitrate=media.parse_bitrate(self.config["bitrate"]))

    def ffmpeg_args(self, quality: Quality | None, run: int) -> list[str]:
        assert quality is not None
        loop = ["-stream_loop", "-1"] if self.config["loop"] == "true" else []
        kind = "a" if self.media_type is MediaType.AUDIO else "v"
        filters = quality.filters()
        encode = [*(["-vf", ",".join(filters)] if filters else []), *quality.encoder_args()]
        return [*self.live_input(), *loop, "-i", self.config["path"], "-map", f"0:{kind}:0",
                *encode, *self.output_args()]
