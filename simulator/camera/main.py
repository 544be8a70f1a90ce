"""Runs a camera server as a foreground program: the ready line, the stdin control channel,
Ctrl-C and SIGTERM (used by `mediagrid camera` and the pytest fixture)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys

from mediagrid.simulator.camera.control import serve_stdin
from mediagrid.simulator.camera.server import CameraConfig, CameraServer


def ready_text(server: CameraServer) -> str:
    lines = ["fake RTSP camera serving:"]
    for url, stream in zip(server.urls, server.config.streams, strict=True):
        width, height = stream.size
        audio = "" if stream.audio == "none" else f" + {stream.audio.upper()}"
        lines.append(f"  {url}   ({width}x{height} @ {stream.fps} fps, H.264{audio})")
    creds = server.credentials
    if server.faults.auth:
        lines.append(f"credentials: {creds.user} / {creds.password} ({creds.scheme})")
    lines.append(f"faults: {server.faults.to_dict() or 'none'}")
    transports = server.config.transports
    lines.append("transports: " + ", ".join(
        {"tcp": "TCP (interleaved)", "udp": "UDP"}[name] for name in transports))
    if "udp" in transports:
        lines.append(f"try: ffplay {server.url}")
        if "tcp" in transports:
            lines.append(f"  or: ffplay -rtsp_transport tcp {server.url}   (RTP over TCP)")
    else:
        lines.append(f"try: ffplay -rtsp_transport tcp {server.url}")
    lines.append("control: type `inject stall`, `clear`, `drop`, `status` or `help` + Enter;"
                 " Ctrl-C stops.")
    return "\n".join(lines)


async def serve(config: CameraConfig, json_output: bool = False) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    server = CameraServer(config)
    try:
        await server.start()
    except OSError as exc:
        print(f"mediagrid camera: {exc.strerror or exc}", file=sys.stderr)
        await server.stop()
        return 1
    try:
        if json_output:
            print(json.dumps({"event": "ready", **server.status()}), flush=True)
        else:
            print(ready_text(server), flush=True)
        control = asyncio.create_task(serve_stdin(server, stop, sys.stdout))
        await stop.wait()
        control.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await control
    finally:
        await server.stop()
    return 0
