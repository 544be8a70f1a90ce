"""`mediagrid camera`: serve a fake RTSP camera until Ctrl-C (docs/camera.md)."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

DESCRIPTION = """\
Serve a fake RTSP camera: H.264 video (a test pattern) and an audio tone, made by one
ffmpeg per path, over RTSP with RTP over UDP or interleaved on TCP, as each client asks
(--transports limits that). It misbehaves on command, from the
start (--fault) or at runtime (commands typed on stdin, one per line).
"""

EPILOG = """\
examples:
  mediagrid camera --port 8554
      then: ffplay rtsp://127.0.0.1:8554/camera   (RTP over UDP; or open it in VLC)
        or: ffplay -rtsp_transport tcp rtsp://127.0.0.1:8554/camera   (over the RTSP TCP)
  mediagrid camera --port 8554 --transports tcp   (UDP-only SETUPs get 461, as before)
  mediagrid camera --port 8554 --path front --path back --size 640x360 --fps 30
  mediagrid camera --port 8554 --user admin --password secret --auth digest
  mediagrid camera --port 8554 --fault slow=0.5 --fault drop=10
  mediagrid camera --port 0 --json          (the OS picks the port; the URL is printed)

faults (--fault NAME[=VALUE], repeatable):
{faults}

runtime control (type on stdin, Enter; one JSON reply per line):
  inject stall | clear stall | inject slow=0.5 | clear | drop | status | quit

exit codes: 0 stopped with Ctrl-C or `quit`, 1 the camera failed, 2 bad flags.
"""

_BITRATE = re.compile(r"^(\d+(?:\.\d+)?)([kKmM]?)$")


def _size(text: str) -> tuple[int, int]:
    from mediagrid.simulator.camera.media import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _fps(text: str) -> Any:
    from mediagrid.simulator.camera.media import parse_fps

    try:
        return parse_fps(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _bitrate(text: str) -> int:
    match = _BITRATE.match(text.strip())
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a bitrate: write e.g. 2M or 800k")
    scale = {"": 1, "k": 1000, "m": 1_000_000}[match[2].lower()]
    return int(float(match[1]) * scale)


def _fault(text: str) -> str:
    from mediagrid.simulator.camera.faults import FaultError, parse_fault

    try:
        parse_fault(text)
    except FaultError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: write 1-65535, or 0 for any")
    return int(text)


def _host(text: str) -> str:
    import socket

    try:
        socket.gethostbyname(text)  # the server listens on IPv4 only
    except (OSError, UnicodeError):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an IPv4 address or a name this machine resolves: "
            "write e.g. 127.0.0.1, or 0.0.0.0 for every interface") from None
    return text


def _transports(text: str) -> tuple[str, ...]:
    from mediagrid.simulator.camera.rtsp import TRANSPORTS

    names = tuple(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    if not names or not set(names) <= set(TRANSPORTS):
        raise argparse.ArgumentTypeError(
            f"{text!r}: write tcp, udp or tcp,udp (the RTP transports to serve)")
    return names


def register(subparsers: Any) -> None:
    from mediagrid.simulator.camera.faults import FAULT_HELP

    parser = subparsers.add_parser(
        "camera",
        help="serve a fake RTSP camera that misbehaves on command",
        description=DESCRIPTION,
        epilog=EPILOG.format(faults=FAULT_HELP),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--port", type=_port, default=8554, help="RTSP port (default 8554; 0: any free port)")
    add("--host", type=_host, default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--path", action="append", dest="paths", metavar="NAME",
        help="camera path, repeatable: each is rtsp://HOST:PORT/NAME (default: camera)")
    add("--size", type=_size, default=(1280, 720), metavar="WxH", help="default 1280x720")
    add("--fps", type=_fps, default=_fps("25"), help="frame rate (default 25)")
    add("--bitrate", type=_bitrate, default=2_000_000, help="video bitrate (default 2M)")
    add("--gop", type=int, default=None, help="frames between keyframes (default: 1 s)")
    add("--pattern", choices=("testsrc2", "smptebars", "testsrc"), default="testsrc2")
    add("--audio", choices=("aac", "pcmu", "pcma", "none"), default="aac",
        help="audio track codec (default aac; none: video only)")
    add("--timecode", action="store_true", help="draw the wall clock and frame number")
    add("--vf", action="append", default=[], metavar="FILTER",
        help="extra ffmpeg video filter, repeatable (e.g. a time-code stamper)")
    add("--fault", action="append", type=_fault, default=[], metavar="NAME[=VALUE]",
        help="misbehave from the start (see the list below); repeatable")
    add("--user", help="demand this user name (with --password)")
    add("--password", help="the password of --user")
    add("--auth", choices=("basic", "digest"), default="digest",
        help="authentication scheme (default digest)")
    add("--transports", type=_transports, default=("tcp", "udp"), metavar="LIST",
        help="RTP transports to serve: tcp (interleaved), udp, or tcp,udp (default); "
             "a SETUP offering only others gets 461")
    add("--linger", type=float, default=5.0,
        help="seconds ffmpeg keeps running after the last client leaves (default 5)")
    add("--always-on", action="store_true", help="run ffmpeg from start to stop")
    add("--ffmpeg", help="ffmpeg binary (default: the one imageio-ffmpeg ships)")
    add("--json", action="store_true", help="print the ready line as JSON (for scripts)")
    parser.set_defaults(func=run, _parser=parser)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from mediagrid.reference.media import FfmpegNotFound, ffmpeg_path
    from mediagrid.simulator.camera.main import serve

    parser: argparse.ArgumentParser = args._parser
    if (args.user is None) != (args.password is None):
        parser.error("--user and --password go together: give both, or neither")
    if args.gop is not None and args.gop < 1:
        parser.error("--gop must be 1 or more frames")
    if args.linger < 0:
        parser.error("--linger must be 0 or more seconds")
    try:
        config = build_config(args)
    except ValueError as exc:
        parser.error(str(exc))
    try:  # a bad MEDIAGRID_FFMPEG is bad input: say so before serving anything
        config.ffmpeg = ffmpeg_path(config.ffmpeg or None)  # resolved once, checked here
    except FfmpegNotFound as exc:
        print(f"mediagrid camera: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(serve(config, json_output=args.json))


def build_config(args: argparse.Namespace) -> Any:
    from mediagrid.simulator.camera.auth import Credentials
    from mediagrid.simulator.camera.faults import from_specs
    from mediagrid.simulator.camera.media import StreamConfig
    from mediagrid.simulator.camera.server import CameraConfig

    streams = tuple(
        StreamConfig(
            name=name,
            size=args.size,
            fps=args.fps,
            bitrate=args.bitrate,
            gop=args.gop,
            pattern=args.pattern,
            audio=args.audio,
            timecode=args.timecode,
            video_filters=tuple(args.vf),
        )
        for name in (args.paths or ["camera"])
    )
    faults = from_specs(args.fault)
    credentials = None
    if args.user is not None:
        credentials = Credentials(args.user, args.password, args.auth)
    elif faults.auth:
        credentials = Credentials("admin", "admin", args.auth)
    return CameraConfig(
        host=args.host,
        port=args.port,
        streams=streams,
        credentials=credentials,
        faults=faults,
        linger=None if args.always_on else args.linger,
        ffmpeg=args.ffmpeg,
        transports=args.transports,
    )
