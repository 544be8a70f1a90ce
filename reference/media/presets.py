"""Option presets: RTSP pull over TCP, low-latency output, the loopback transport URLs.

Every function returns plain `{"option": value}` maps for commands.Input / commands.Output.
The transport URLs below were checked with the bundled ffmpeg 9 (docs/media.md, "Transport").
"""

from __future__ import annotations

from mediagrid.reference.media.commands import Options

# MPEG-TS over UDP: 7 TS packets per datagram; a receive FIFO of 65536 188-byte packets (12 MiB).
TS_PACKET_SIZE = 1316
UDP_FIFO_PACKETS = 1 << 16
# Read timeout (us): wakes the receive thread so closing cannot hang; a source silent this
# long ends the run with ETIMEDOUT and the supervisor restarts it.
UDP_READ_TIMEOUT_US = 5_000_000


def rtsp_input(
    *, timeout_s: float = 5.0, transport: str = "tcp", low_delay: bool = True
) -> Options:
    """Pulling from an RTSP camera: interleaved TCP, a socket I/O timeout, little buffering.

    `timeout` (microseconds) ends the run when the server falls silent instead of hanging.
    ffmpeg 9 takes that timeout for the end of the input and exits 0, so a live pull needs
    FfmpegProcess(restart="always") to be restarted (docs/media.md, "Watchdog and restarts").
    """
    if timeout_s <= 0:
        raise ValueError(f"RTSP timeout must be > 0 s, got {timeout_s}")
    if transport not in ("tcp", "udp", "http", "https"):
        raise ValueError(f"RTSP transport must be tcp, udp, http or https, got {transport!r}")
    options: dict[str, str | int | bool] = {
        "rtsp_transport": transport,
        "timeout": int(timeout_s * 1_000_000),
    }
    if low_delay:
        options |= {"fflags": "nobuffer", "flags": "low_delay"}
    return options


def low_latency_h264(*, bitrate: str = "1M", gop: int = 50) -> Options:
    """libx264 tuned for latency: no B-frames, no lookahead, a keyframe every `gop` frames."""
    return {
        "c:v": "libx264",
        "preset": "veryfast",
        "tune": "zerolatency",
        "b:v": bitrate,
        "maxrate": bitrate,
        "bufsize": bitrate,
        "g": gop,
        "bf": 0,
        "pix_fmt": "yuv420p",
    }


def low_latency_mpegts() -> Options:
    """MPEG-TS muxing that sends each packet at once instead of buffering."""
    return {"f": "mpegts", "flush_packets": 1, "muxdelay": 0, "muxpreload": 0}


def udp_listen_url(port: int, host: str = "127.0.0.1") -> str:
    """The target side of a connection: listens on `host` (the bind host: `localaddr=`, or
    ffmpeg before 9 binds every interface, contract §4.1 and S-10) and reads MPEG-TS."""
    return (
        f"udp://{host}:{port}?localaddr={host.strip('[]')}&pkt_size={TS_PACKET_SIZE}"
        f"&fifo_size={UDP_FIFO_PACKETS}&overrun_nonfatal=1&timeout={UDP_READ_TIMEOUT_US}"
    )


def udp_send_url(port: int, host: str = "127.0.0.1") -> str:
    """The source side: sends MPEG-TS datagrams to the target's port."""
    return f"udp://{host}:{port}?pkt_size={TS_PACKET_SIZE}"


def tcp_listen_url(port: int, host: str = "127.0.0.1") -> str:
    """MPEG-TS over TCP, target listening (the alternative when loss is not acceptable)."""
    return f"tcp://{host}:{port}?listen=1"


def tcp_send_url(port: int, host: str = "127.0.0.1") -> str:
    return f"tcp://{host}:{port}"


def srt_listen_url(port: int, host: str = "127.0.0.1", latency_ms: int = 120) -> str:
    """MPEG-TS over SRT, target listening; `latency` is SRT's receive buffer in ms."""
    return f"srt://{host}:{port}?mode=listener&latency={latency_ms * 1000}&transtype=live"


def srt_send_url(port: int, host: str = "127.0.0.1", latency_ms: int = 120) -> str:
    return f"srt://{host}:{port}?mode=caller&latency={latency_ms * 1000}&transtype=live"
