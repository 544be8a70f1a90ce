"""Turning ffmpeg's `-sdp_file` (which describes its RTP outputs to local UDP ports) into the
SDP a DESCRIBE answers with, and the broken variants the broken-sdp fault sends.

ffmpeg's SDP already carries what clients need to decode (sprop-parameter-sets for H.264,
config= for AAC); this only replaces the addresses and ports and adds the control URLs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MediaSection:
    kind: str  # "video" or "audio"
    lines: tuple[str, ...]  # everything after the m= line, c= removed


def parse_media(sdp: str) -> list[MediaSection]:
    """The m= sections of an SDP, in order."""
    sections: list[MediaSection] = []
    kind: str | None = None
    lines: list[str] = []
    m_line = ""
    for raw in sdp.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            if kind is not None:
                sections.append(MediaSection(kind, (m_line, *lines)))
            kind = line[2:].split()[0]
            m_line, lines = line, []
        elif kind is not None and line and not line.startswith("c="):
            lines.append(line)
    if kind is not None:
        sections.append(MediaSection(kind, (m_line, *lines)))
    return sections


def track_control(index: int) -> str:
    return f"trackID={index}"


def describe(producer_sdp: str, name: str, session_id: int) -> str:
    """The SDP a DESCRIBE of camera path `name` answers with (RFC 2326 appendix C)."""
    out = [
        "v=0",
        f"o=- {session_id} 1 IN IP4 127.0.0.1",
        f"s=mediagrid fake camera {name}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=tool:mediagrid",
        "a=control:*",
        "a=range:npt=0-",
    ]
    for index, section in enumerate(parse_media(producer_sdp)):
        m_line, *rest = section.lines
        fields = m_line[2:].split()
        fields[1] = "0"  # the port: media comes over the RTSP connection
        out.append("m=" + " ".join(fields))
        out.extend(rest)
        out.append(f"a=control:{track_control(index)}")
    return "\r\n".join(out) + "\r\n"


def broken(good_sdp: str, kind: str) -> str:
    """A broken SDP: `no-media` drops every m= section; `malformed` mangles the lines."""
    session = good_sdp.split("\r\nm=", 1)[0] + "\r\n"
    if kind == "no-media":
        return session
    # malformed: no version line, an m= line without port or format, an rtpmap without a clock
    return (
        "o=- 0 0\r\n"
        "s\r\n"
        "m=video\r\n"
        "a=rtpmap:96 H264\r\n"
        "a=fmtp:96 sprop-parameter-sets=!!!not-base64!!!\r\n"
        "m=audio RTP\r\n"
    )
