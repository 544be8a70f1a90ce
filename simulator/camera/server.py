"""The fake camera: an asyncio RTSP server with one ffmpeg producer per camera path, and the
runtime fault API (`inject`, `clear`, `drop_clients`).

    async with CameraServer(CameraConfig(port=0)) as camera:
        print(camera.urls)            # ['rtsp://127.0.0.1:40123/camera']
        await camera.inject("stall")
        await camera.clear()
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import random
import socket
from dataclasses import dataclass, field
from typing import Any

from mediagrid.reference.media import ffmpeg_path
from mediagrid.simulator.camera import faults as fault_specs
from mediagrid.simulator.camera.auth import Authenticator, Credentials
from mediagrid.simulator.camera.faults import Faults
from mediagrid.simulator.camera.media import StreamConfig
from mediagrid.simulator.camera.producer import Producer
from mediagrid.simulator.camera.rtsp import TRANSPORTS, Request, RtspError
from mediagrid.simulator.camera.session import Connection

DEFAULT_CREDENTIALS = Credentials("admin", "admin", "digest")


@dataclass
class CameraConfig:
    host: str = "127.0.0.1"
    port: int = 8554  # 0: let the OS choose (read it back from `.port`)
    streams: tuple[StreamConfig, ...] = (StreamConfig(),)
    credentials: Credentials | None = None  # given: auth is demanded from the start
    faults: Faults = field(default_factory=Faults)
    linger: float | None = 5.0  # seconds the producer outlives its last client; None: forever
    ffmpeg: str | None = None  # None: mediagrid.reference.media.ffmpeg_path() picks it
    transports: tuple[str, ...] = TRANSPORTS  # ("tcp",): a UDP-only SETUP gets 461

    def __post_init__(self) -> None:
        if not self.transports or not set(self.transports) <= set(TRANSPORTS):
            raise ValueError(
                f"transports {','.join(self.transports)!r}: use tcp, udp or tcp,udp"
            )
        names = [s.name for s in self.streams]
        if not names:
            raise ValueError("a camera needs at least one path")
        if len(set(names)) != len(names):
            raise ValueError(f"camera paths must be unique, got {names}")
        if self.credentials is not None:
            self.faults.auth = True


class CameraServer:
    def __init__(self, config: CameraConfig | None = None) -> None:
        self.config = config or CameraConfig()
        self.faults = self.config.faults
        self.port = self.config.port
        self.session_version = random.randrange(1, 2**31)
        ffmpeg = ffmpeg_path(self.config.ffmpeg or None)
        self.producers = {
            s.name: Producer(s, ffmpeg, self.config.linger) for s in self.config.streams
        }
        self.authenticator = Authenticator(self.config.credentials or DEFAULT_CREDENTIALS)
        self.connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._unstalled = asyncio.Event()
        self._unstalled.set()

    # --- lifecycle -------------------------------------------------------------------------
    @property
    def urls(self) -> list[str]:
        host = self.config.host if self.config.host not in ("0.0.0.0", "") else "127.0.0.1"
        return [f"rtsp://{host}:{self.port}/{name}" for name in self.producers]

    @property
    def url(self) -> str:
        return self.urls[0]

    @property
    def credentials(self) -> Credentials:
        return self.authenticator.credentials

    async def start(self) -> None:
        await self._listen()
        if self.faults.refuse:
            await self._unlisten()
        if self.faults.stall:
            self._unstalled.clear()
        if self.config.linger is None:
            for producer in self.producers.values():
                await producer.acquire()

    async def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.port))
        except OSError as exc:
            sock.close()
            fix = ("choose another --port, or --port 0 to let the OS pick one"
                   if exc.errno in (errno.EADDRINUSE, errno.EACCES)
                   else "choose a --host this machine has, like 127.0.0.1 or 0.0.0.0")
            raise OSError(
                exc.errno, f"cannot listen on {self.config.host}:{self.port} ({exc.strerror}): "
                + fix
            ) from exc
        self.port = sock.getsockname()[1]
        self._server = await asyncio.start_server(self._accept, sock=sock)

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    async def stop(self) -> None:
        """Stops listening, closes every connection and stops every ffmpeg."""
        await self._unlisten()
        for connection in list(self.connections):
            connection.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for producer in self.producers.values():
            await producer.stop()

    async def __aenter__(self) -> CameraServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.reset:
            writer.transport.abort()
            return
        connection = Connection(self, reader, writer)
        self.connections.add(connection)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await connection.serve()
        finally:
            self.connections.discard(connection)
            if task is not None:
                self._tasks.discard(task)

    # --- what connections ask --------------------------------------------------------------
    def producer(self, name: str) -> Producer:
        try:
            return self.producers[name]
        except KeyError:
            raise RtspError(404, f"no camera path {name!r}; paths: {list(self.producers)}") \
                from None

    async def hold(self) -> None:
        """Before each response: wait while stalled, then sleep the slow delay."""
        await self._unstalled.wait()
        if self.faults.slow > 0:
            await asyncio.sleep(self.faults.slow)
        await self._unstalled.wait()

    def authorize(self, request: Request) -> None:
        if not self.faults.auth:
            return
        header = request.header("authorization")
        if not header or not self.authenticator.check(request.method, header):
            raise RtspError(401, "credentials required")

    def auth_challenge(self) -> str:
        return self.authenticator.challenge()

    # --- runtime faults --------------------------------------------------------------------
    async def inject(self, spec: str, value: Any = None) -> dict[str, Any]:
        """Turns a fault on: `inject("slow=0.5")` or `inject("slow", 0.5)`. Returns the faults
        in force. Raises FaultError for an unknown fault or a bad value."""
        if value is not None:
            spec = f"{spec}={value}"
        name, parsed = fault_specs.parse_fault(spec)
        fault_specs.apply(self.faults, name, parsed)
        if name == "refuse":
            await self._unlisten()
        elif name == "stall":
            self._unstalled.clear()
        elif name == "drop":
            for connection in list(self.connections):
                if connection.playing:
                    connection.schedule_drop(parsed)
        return self.faults.to_dict()

    async def clear(self, name: str | None = None) -> dict[str, Any]:
        """Turns one fault (by name) or all faults off. Returns the faults in force."""
        was_refusing = self.faults.refuse
        fault_specs.clear(self.faults, name)
        if was_refusing and not self.faults.refuse and self._server is None:
            await self._listen()
        if not self.faults.stall:
            self._unstalled.set()
        return self.faults.to_dict()

    def drop_clients(self) -> int:
        """Closes every client connection now; returns how many were closed."""
        connections = list(self.connections)
        for connection in connections:
            connection.close()
        return len(connections)

    def set_credentials(self, credentials: Credentials) -> None:
        self.authenticator = Authenticator(credentials)

    def status(self) -> dict[str, Any]:
        return {
            "urls": self.urls,
            "port": self.port,
            "listening": self._server is not None,
            "faults": self.faults.to_dict(),
            "clients": len(self.connections),
            "transports": list(self.config.transports),
            "sessions": self._sessions_by_transport(),
            "delivered": sum(session.sent for connection in self.connections
                             for session in connection.sessions.values()),
            "credentials": {
                "user": self.credentials.user,
                "password": self.credentials.password,
                "scheme": self.credentials.scheme,
            },
            "producers": {
                name: {"running": p.running, "pid": p.pid, "starts": p.starts}
                for name, p in self.producers.items()
            },
        }


    def _sessions_by_transport(self) -> dict[str, int]:
        """How many RTSP sessions receive over each transport (a session counts once per
        transport its tracks use)."""
        counts = dict.fromkeys(TRANSPORTS, 0)
        for connection in self.connections:
            for session in connection.sessions.values():
                for kind in {sink.kind for sink in session.tracks.values()}:
                    counts[kind] += 1
        return counts


async def run_until_stopped(server: CameraServer, stop: asyncio.Event) -> None:
    """Serves until `stop` is set; always stops the server."""
    try:
        await server.start()
        await stop.wait()
    finally:
        with contextlib.suppress(Exception):
            await server.stop()
