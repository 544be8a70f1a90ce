"""The quality an encoder runs at, checked, and the ffmpeg arguments for it.

MPEG-TS (the transport of contract §4.1) carries these codecs, so these are the ones an
encoder here produces: video h264, hevc, mpeg2video; audio aac, opus, mp2. VP8, VP9 and MJPEG
have no MPEG-TS stream type and wait for a transport that carries them.

    quality = Quality.parse(config, MediaType.VIDEO)        # from an entity's config
    quality = quality.merged(link.quality)                   # a connection's QualityProfile wins
    args = quality.encoder_args()                            # ["-c:v", "libx264", ...]

Bad values raise `sdk.InvalidArgument` naming the field and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from fractions import Fraction

from mediagrid import codecs
from mediagrid.sdk.errors import FailedPrecondition, InvalidArgument
from mediagrid.sdk.types import MediaType
from mediagrid.v1 import common_pb2

COPY = "copy"
"""A stream sent as it came (a camera's, a file's): it has no encoder to change."""
VIDEO_CODECS = ("h264", "hevc", "mpeg2video")
AUDIO_CODECS = ("aac", "opus", "mp2")
MIN_SIDE, MAX_WIDTH, MAX_HEIGHT = 16, 7680, 4320
MIN_BITRATE, MAX_BITRATE = 8_000, 100_000_000
MAX_FPS = 120
P23_KEYFRAME_S = 2
"""The longest time between two keyframes of a video source (rule P-23)."""
_SIZE = re.compile(r"^([0-9]{1,5})x([0-9]{1,5})$")
_BITRATE = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([kKmM]?)$")


def parse_size(text: str, field: str = "config.size") -> tuple[int, int]:
    match = _SIZE.match(text.strip())
    if not match:
        raise InvalidArgument(f"{field} is {text!r}: write WIDTHxHEIGHT, for example 640x360")
    return check_size(int(match[1]), int(match[2]), field)


def check_size(width: int, height: int, field: str) -> tuple[int, int]:
    if not (MIN_SIDE <= width <= MAX_WIDTH and MIN_SIDE <= height <= MAX_HEIGHT):
        raise InvalidArgument(
            f"{field} {width}x{height} is impossible: width and height must be"
            f" {MIN_SIDE}-{MAX_WIDTH} and {MIN_SIDE}-{MAX_HEIGHT} pixels"
        )
    if width % 2 or height % 2:
        raise InvalidArgument(
            f"{field} {width}x{height}: 4:2:0 video needs even sides; use"
            f" {width + width % 2}x{height + height % 2}"
        )
    return width, height


def parse_bitrate(text: str, field: str = "config.bitrate") -> int:
    """`800k`, `2M`, `64000` -> bits per second."""
    match = _BITRATE.match(text.strip())
    if not match:
        raise InvalidArgument(f"{field} is {text!r}: write bits per second, like 800k or 2M")
    value = float(match[1]) * {"": 1, "k": 1e3, "m": 1e6}[match[2].lower()]
    return check_bitrate(int(value), field)


def check_bitrate(bps: int, field: str) -> int:
    if not MIN_BITRATE <= bps <= MAX_BITRATE:
        raise InvalidArgument(
            f"{field} {bps} bit/s is out of range: use {MIN_BITRATE // 1000}k to"
            f" {MAX_BITRATE // 1_000_000}M"
        )
    return bps


def parse_fps(text: str, field: str = "config.fps") -> Fraction:
    try:
        rate = Fraction(text.strip()).limit_denominator(1001)
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument(f"{field} is {text!r}: write frames per second, like 25") from None
    if not 1 <= rate <= MAX_FPS:
        raise InvalidArgument(f"{field} {text} is out of range: use 1 to {MAX_FPS}")
    return rate


def check_codec(codec: str, media_type: MediaType, field: str) -> str:
    """FAILED_PRECONDITION for a codec this encoder does not make or MPEG-TS does not carry
    (rules P-15, P-20): the request is well formed, the capability is missing."""
    known = VIDEO_CODECS if media_type is MediaType.VIDEO else AUDIO_CODECS
    if codec in known:
        return codec
    why = (" has no MPEG-TS stream type, so no transport here carries it"
           if codecs.media_of(codec) and codec not in codecs.MPEGTS_CODECS
           else " is not a codec this encoder makes")
    raise FailedPrecondition(f"{field} {codec!r}{why}: use one of {', '.join(known)}")


@dataclass(frozen=True)
class Quality:
    """What one encoder makes. Zero size or fps: as the input has it."""

    media_type: MediaType
    codec: str
    bitrate: int
    width: int = 0
    height: int = 0
    fps: Fraction = Fraction(0)
    gop: int = 0
    """Frames between keyframes; 0: two seconds' worth (50 when the rate is unknown)."""

    @property
    def keyframe_interval(self) -> int:
        if self.gop:
            return self.gop
        return int(2 * self.fps) if self.fps else 50

    def merged(self, profile: common_pb2.QualityProfile) -> Quality:
        """This quality with the fields `profile` sets (zero or empty: kept), checked.
        A copied stream changes only by asking for a codec (it is then encoded)."""
        codec = profile.video_codec if self.media_type is MediaType.VIDEO else profile.audio_codec
        res = profile.resolution
        if self.codec == COPY and not codec and (
                profile.bitrate or profile.framerate or res.width or res.height):
            raise FailedPrecondition(
                "this stream is sent as it came (codec copy), so its size, frame rate and"
                " bitrate cannot change: ask for a codec to have it encoded, or put a"
                " transcode converter after it"
            )
        changes: dict[str, object] = {}
        if self.media_type is MediaType.VIDEO:
            res = profile.resolution
            if res.width or res.height:
                width, height = res.width or self.width, res.height or self.height
                if not (width and height):
                    raise InvalidArgument(
                        "quality.resolution: give both width and height (the input size is"
                        " not known here)"
                    )
                changes["width"], changes["height"] = check_size(
                    width, height, "quality.resolution")
            if profile.framerate:
                changes["fps"] = parse_fps(str(profile.framerate), "quality.framerate")
            if profile.video_codec:
                changes["codec"] = check_codec(profile.video_codec, self.media_type,
                                               "quality.video_codec")
        elif profile.audio_codec:
            changes["codec"] = check_codec(profile.audio_codec, self.media_type,
                                           "quality.audio_codec")
        if profile.bitrate:
            changes["bitrate"] = check_bitrate(profile.bitrate, "quality.bitrate")
        return replace(self, **changes)  # type: ignore[arg-type]

    def profile(self) -> common_pb2.QualityProfile:
        out = common_pb2.QualityProfile(bitrate=self.bitrate, framerate=int(self.fps))
        if self.media_type is MediaType.VIDEO:
            out.video_codec = self.codec
            out.resolution.width, out.resolution.height = self.width, self.height
        else:
            out.audio_codec = self.codec
        return out

    def filters(self) -> list[str]:
        """Video filters: scaling to the size, then the frame rate."""
        out = []
        if self.width and self.height:
            out.append(f"scale={self.width}:{self.height}")
        if self.fps:
            out.append(f"fps={self.fps.numerator}/{self.fps.denominator}")
        return out

    def encoder_args(self) -> list[str]:
        """ffmpeg's output options for this quality (without filters: see `filters()`)."""
        kind = "a" if self.media_type is MediaType.AUDIO else "v"
        if self.codec == COPY:
            return [f"-c:{kind}", "copy"]
        b = str(self.bitrate)
        if self.media_type is MediaType.AUDIO:
            codec = {"aac": ["aac"], "opus": ["libopus"], "mp2": ["mp2"]}[self.codec]
            rate = ["-ar", "48000"] if self.codec == "opus" else []
            return ["-c:a", *codec, "-b:a", b, *rate]
        gop = str(self.keyframe_interval)
        # A keyframe at least every 2 s whatever the frame rate, so a target that joins or
        # restarts decodes within 2 s (rule P-23).
        keyframes = f"expr:gte(t,n_forced*{P23_KEYFRAME_S})"
        rate = ["-maxrate", b, "-bufsize", b, "-force_key_frames", keyframes]
        if self.codec == "h264":
            return ["-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency",
                    "-b:v", b, *rate, "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
                    "-bf", "0", "-pix_fmt", "yuv420p"]
        if self.codec == "hevc":
            params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:log-level=error"
            return ["-c:v", "libx265", "-preset", "ultrafast", "-tune", "zerolatency",
                    "-b:v", b, *rate, "-x265-params", params, "-pix_fmt", "yuv420p"]
        return ["-c:v", "mpeg2video", "-b:v", b, *rate, "-g", gop, "-bf", "0",
                "-pix_fmt", "yuv420p"]
