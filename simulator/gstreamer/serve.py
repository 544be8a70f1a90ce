"""GStreamer's RTSP server serving a test pattern: an RTSP server nobody here wrote, for
interop tests. Run it with the SYSTEM Python (python3-gi does not install into a venv):

    /usr/bin/python3 serve.py --port 0 --mount /test

It prints one line `READY <port> <mount>` when it listens, then serves until SIGTERM or
SIGINT. Needs the Debian packages gstreamer1.0-rtsp, gir1.2-gst-rtsp-server-1.0,
python3-gi and gstreamer1.0-plugins-ugly (x264enc). It imports nothing from mediagrid.
"""

from __future__ import annotations

import argparse
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

PIPELINE = (
    "( videotestsrc is-live=true pattern={pattern} "
    "! video/x-raw,width={width},height={height},framerate={fps}/1 "
    "! x264enc tune=zerolatency speed-preset=ultrafast bitrate={kbits} key-int-max={fps} "
    "! rtph264pay name=pay0 pt=96 config-interval=1 )"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    parser.add_argument("--mount", default="/test")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", type=int, default=500, help="kbit/s")
    parser.add_argument("--pattern", default="smpte")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    mount = "/" + args.mount.lstrip("/")

    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(PIPELINE.format(pattern=args.pattern, width=width, height=height,
                                       fps=args.fps, kbits=args.bitrate))
    factory.set_shared(True)
    server.get_mount_points().add_factory(mount, factory)
    if server.attach(None) == 0:
        print(f"cannot listen on {args.host}:{args.port}", file=sys.stderr)
        return 1
    loop = GLib.MainLoop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    print(f"READY {server.get_bound_port()} {mount}", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
