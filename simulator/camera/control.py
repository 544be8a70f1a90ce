"""The control channel of `mediagrid camera`: one command per line on stdin, one JSON reply
per line on stdout. Type them into the terminal, or write them from a script or a fixture.

    inject FAULT[=VALUE]   turn a fault on          e.g. `inject slow=0.5`, `inject stall`
    clear [FAULT]          turn one fault, or all, off
    drop                   close every client connection now
    status                 URLs, faults, clients, producers
    quit                   stop the camera (as Ctrl-C does)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import selectors
import sys
import textwrap
from typing import Any, TextIO

from mediagrid.simulator.camera.faults import FAULT_HELP, FaultError
from mediagrid.simulator.camera.server import CameraServer

_COMMANDS = textwrap.dedent((__doc__ or "").split("\n\n", 1)[1]).strip()
COMMANDS_HELP = _COMMANDS + "\nfaults:\n" + FAULT_HELP


def reply(out: TextIO, message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


async def execute(server: CameraServer, line: str, stop: asyncio.Event) -> dict[str, Any]:
    """Runs one control command and returns its reply."""
    words = line.split()
    if not words:
        return {"ok": True}
    command, args = words[0].lower(), words[1:]
    try:
        if command == "inject" and len(args) == 1:
            return {"ok": True, "faults": await server.inject(args[0])}
        if command == "clear" and len(args) <= 1:
            return {"ok": True, "faults": await server.clear(args[0] if args else None)}
        if command == "drop" and not args:
            return {"ok": True, "dropped": server.drop_clients()}
        if command == "status" and not args:
            return {"ok": True, **server.status()}
        if command in ("quit", "exit", "stop") and not args:
            stop.set()
            return {"ok": True, "stopping": True}
        if command == "help":
            return {"ok": True, "help": COMMANDS_HELP}
    except FaultError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"unknown command {line.strip()!r}; type `help`"}


async def serve_stdin(server: CameraServer, stop: asyncio.Event, out: TextIO) -> None:
    """Reads commands from stdin until it ends (then the camera keeps serving)."""
    if not _pollable(sys.stdin):
        return  # /dev/null or a regular file (`mediagrid camera &` in a script): no control
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), sys.stdin
        )
    except (ValueError, OSError):
        return  # stdin is a regular file or closed: no control channel
    try:
        while line := await reader.readline():
            reply(out, await execute(server, line.decode(errors="replace"), stop))
    finally:
        transport.close()
        with contextlib.suppress(OSError, ValueError):
            os.set_blocking(sys.stdin.fileno(), True)


def _pollable(stream: TextIO) -> bool:
    """True when the event loop can watch `stream`. /dev/null passes connect_read_pipe's own
    check (a character device) but epoll refuses it later, in a callback that prints a
    traceback; asking a selector first keeps that out of the camera's output."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):
        return False
    with selectors.DefaultSelector() as selector:
        try:
            selector.register(fd, selectors.EVENT_READ)
        except (OSError, ValueError):
            return False
    return True
