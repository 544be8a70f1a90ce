"""The media of one camera path: ONE ffmpeg that encodes test sources (lavfi testsrc2 or
smptebars, and a sine tone) to RTP on local UDP ports this process reads, and its SDP.

The camera's command line is built here directly (a list of arguments, never a shell): it is a
fixed test source, not a module's configurable pipeline, so it does not go through
reference/media's command builder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

PATTERNS = ("testsrc2", "smptebars", "testsrc")
AUDIO_CODECS = ("aac", "pcmu", "pcma", "none")
_SIZE = re.compile(r"^(\d{2,5})x(\d{2,5})$")

TIMECODE_FILTER = (
    "drawtext=text='%{localtime} #%{n}':x=8:y=8:fontsize=h/14"
    ":fontcolor=white:box=1:boxcolor=black@0.7:boxborderw=4"
)


def parse_size(text: str) -> tuple[int, int]:
    """`1280x720` -> (1280, 720); raises ValueError naming the fix."""
    match = _SIZE.match(text.strip().lower())
    if not match:
        raise ValueError(f"size {text!r} is not WIDTHxHEIGHT: write e.g. 1280x720")
    width, height = int(match[1]), int(match[2])
    if width % 2 or height % 2 or not (16 <= width <= 7680 and 16 <= height <= 4320):
        raise ValueError(f"size {text}: width and height must be even, 16x16 to 7680x4320")
    return width, height


def parse_fps(text: str | float) -> Fraction:
    """`25`, `29.97` or `30000/1001` -> a Fraction; raises ValueError naming the fix."""
    try:
        rate = Fraction(str(text)).limit_denominator(1001)
    except (ValueError, ZeroDivisionError) as exc:
        raise ValueError(f"frame rate {text!r} is not a number: write e.g. 25 or 30000/1001") \
            from exc
    if not 1 <= rate <= 240:
        raise ValueError(f"frame rate {text}: must be between 1 and 240")
    return rate


@dataclass(frozen=True)
class StreamConfig:
    """What one camera path serves."""

    name: str = "camera"
    size: tuple[int, int] = (1280, 720)
    fps: Fraction = Fraction(25)
    bitrate: int = 2_000_000  # video, bits per second
    gop: int | None = None  # frames between keyframes; default one second
    pattern: str = "testsrc2"
    audio: str = "aac"
    timecode: bool = False  # a drawtext wall clock and frame number in the corner
    video_filters: tuple[str, ...] = ()  # extra ffmpeg filters, e.g. a time-code stamper
    extra: dict[str, str] = field(default_factory=dict)  # reserved for later options

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", self.name):
            raise ValueError(
                f"camera path {self.name!r}: use 1-64 letters, digits, '.', '_' or '-'"
            )
        if self.pattern not in PATTERNS:
            raise ValueError(f"pattern {self.pattern!r}: use one of {', '.join(PATTERNS)}")
        if self.audio not in AUDIO_CODECS:
            raise ValueError(f"audio {self.audio!r}: use one of {', '.join(AUDIO_CODECS)}")
        if not 50_000 <= self.bitrate <= 100_000_000:
            raise ValueError(f"bitrate {self.bitrate}: must be 50k to 100M bits per second")

    @property
    def kinds(self) -> tuple[str, ...]:
        """The track kinds in SDP order (track 0 is always the video)."""
        return ("video",) if self.audio == "none" else ("video", "audio")

    @property
    def keyframe_interval(self) -> int:
        return self.gop or max(1, round(self.fps))

    def video_filter(self) -> str:
        filters = [*self.video_filters]
        if self.timecode:
            filters.append(TIMECODE_FILTER)
        filters.append("format=yuv420p")
        return ",".join(filters)


def _rtp_url(port: int, rtcp_port: int) -> str:
    return f"rtp://127.0.0.1:{port}?rtcpport={rtcp_port}&pkt_size=1400"


def build_command(
    ffmpeg: str, config: StreamConfig, ports: list[tuple[int, int]], sdp_path: str
) -> list[str]:
    """The producer's ffmpeg arguments: one RTP output per track to (rtp, rtcp) UDP `ports`."""
    width, height = config.size
    rate = f"{config.fps.numerator}/{config.fps.denominator}"
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "warning"]
    # A camera makes frames in real time from the start: no -re initial burst (ffmpeg reads
    # the first 0.5 s at once by default, which no camera does).
    live = ["-re", "-readrate_initial_burst", "0"]
    cmd += [*live, "-f", "lavfi", "-i", f"{config.pattern}=size={width}x{height}:rate={rate}"]
    if config.audio != "none":
        sample_rate = 8000 if config.audio in ("pcmu", "pcma") else 48000
        cmd += [*live, "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={sample_rate}"]
    gop = str(config.keyframe_interval)
    kbits = max(1, config.bitrate // 1000)
    cmd += [
        "-map", "0:v", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
        "-profile:v", "baseline", "-g", gop, "-keyint_min", gop, "-sc_threshold", "0",
        "-b:v", f"{kbits}k", "-maxrate", f"{kbits}k", "-bufsize", f"{kbits}k",
        "-vf", config.video_filter(),
        # SPS/PPS in the SDP (global header) and before every keyframe (dump_extra), so a
        # client that joins mid-stream decodes from the next keyframe.
        "-flags", "+global_header", "-bsf:v", "dump_extra",
        "-f", "rtp", "-payload_type", "96", _rtp_url(*ports[0]),
    ]
    if config.audio != "none":
        codec = {"aac": ["aac", "-b:a", "64k"], "pcmu": ["pcm_mulaw"], "pcma": ["pcm_alaw"]}
        cmd += ["-map", "1:a", "-c:a", *codec[config.audio], "-ac", "1"]
        if config.audio == "aac":
            cmd += ["-flags", "+global_header", "-payload_type", "97"]
        cmd += ["-f", "rtp", _rtp_url(*ports[1])]
    cmd += ["-sdp_file", sdp_path]
    return cmd


def is_keyframe_start(payload: bytes) -> bool:
    """True when an H.264 RTP payload (RFC 6184) starts an access unit a decoder can start at:
    an SPS, or the first fragment of an IDR slice, alone or aggregated."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type in (5, 7):
        return True
    if nal_type == 28 and len(payload) > 1:  # FU-A: start bit and the fragmented NAL's type
        return bool(payload[1] & 0x80) and (payload[1] & 0x1F) in (5, 7)
    if nal_type == 24:  # STAP-A: 16-bit size, then the NAL
        pos = 1
        while pos + 2 < len(payload):
            size = int.from_bytes(payload[pos : pos + 2], "big")
            if payload[pos + 2] & 0x1F in (5, 7):
                return True
            pos += 2 + size
    return False
