"""Contract §4.5: codec names, their media type, and which ones MPEG-TS (every §4.1 transport)
carries. The suite's own copy, so it checks modules against the contract's text."""

from __future__ import annotations

CARRIED = {"video": ("h264", "hevc", "mpeg1video", "mpeg2video", "mpeg4"),
           "audio": ("aac", "mp2", "mp3", "ac3", "eac3", "opus")}
NOT_CARRIED = {"video": ("av1", "vp8", "vp9", "mjpeg", "rawvideo", "h263", "theora", "prores",
                         "ffv1"),
               "audio": ("pcm_s16le", "pcm_mulaw", "pcm_alaw", "flac", "vorbis", "adpcm_g722",
                         "g729", "gsm", "speex", "amr_nb", "amr_wb")}
TRANSPORTS = ("mpegts-udp", "mpegts-tcp", "srt")
MEDIA_OF = {codec: media for table in (CARRIED, NOT_CARRIED) for media, codecs in table.items()
            for codec in codecs}


def of_media(codecs: tuple[str, ...] | list[str], media: str) -> list[str]:
    return [c for c in codecs if MEDIA_OF.get(c) == media]
