"""The contract's codec names and transports (docs/contract.md §4.1, §4.5), shared by the
module.yaml validator and the SDK so both refuse the same things.

    media_of("h264")            -> "video"
    "vp8" in MPEGTS_CODECS      -> False: MPEG-TS has no stream type for it
    TRANSPORTS                  -> ("mpegts-udp", "mpegts-tcp", "srt")

Checked with ffmpeg 9 and ffprobe 5.1: a codec outside MPEGTS_CODECS goes into an MPEG-TS
stream as private data (stream type 0x06) that no receiver decodes.
"""

from __future__ import annotations

from collections.abc import Iterable

VIDEO, AUDIO = "video", "audio"

# Carried over every §4.1 transport (the payload is MPEG-TS).
MPEGTS_VIDEO = ("h264", "hevc", "mpeg1video", "mpeg2video", "mpeg4")
MPEGTS_AUDIO = ("aac", "mp2", "mp3", "ac3", "eac3", "opus")
# Known, but not carried by MPEG-TS: LOCAL connections only.
OTHER_VIDEO = ("av1", "vp8", "vp9", "mjpeg", "rawvideo", "h263", "theora", "prores", "ffv1")
OTHER_AUDIO = (
    "pcm_s16le", "pcm_mulaw", "pcm_alaw", "flac", "vorbis", "adpcm_g722", "g729", "gsm",
    "speex", "amr_nb", "amr_wb",
)

CODEC_MEDIA: dict[str, str] = {
    **{c: VIDEO for c in (*MPEGTS_VIDEO, *OTHER_VIDEO)},
    **{c: AUDIO for c in (*MPEGTS_AUDIO, *OTHER_AUDIO)},
}
MPEGTS_CODECS = frozenset((*MPEGTS_VIDEO, *MPEGTS_AUDIO))

DEFAULT_TRANSPORT = "mpegts-udp"
TRANSPORTS = ("mpegts-udp", "mpegts-tcp", "srt")
SCHEMES = {"mpegts-udp": "udp", "mpegts-tcp": "tcp", "srt": "srt"}


def media_of(codec: str) -> str | None:
    """"video", "audio", or None for a name outside the contract's table."""
    return CODEC_MEDIA.get(codec)


def of_media(codecs: Iterable[str], media: str) -> tuple[str, ...]:
    """The codecs of one media type, in their order (capabilities list only these, N-15)."""
    return tuple(c for c in codecs if CODEC_MEDIA.get(c) == media)


def crosses_modules(protocols: Iterable[str]) -> tuple[str, ...]:
    """The §4.1 transports among `protocols`: what a type speaks across modules (P-16)."""
    return tuple(p for p in protocols if p in TRANSPORTS)


def carriers(codec: str) -> str:
    """Where `codec` can travel, for error messages."""
    if codec in MPEGTS_CODECS:
        return "every transport (" + ", ".join(TRANSPORTS) + ")"
    return "LOCAL connections only (MPEG-TS cannot carry it)"
