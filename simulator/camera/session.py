"""One client connection: its RTSP requests, its sessions and the media sent to it.

Media goes out as RTP/RTCP interleaved on the RTSP connection (`$` frames) or as UDP
datagrams to the client's ports (udp.py), as each SETUP chose. A client that starts
playing, or resumes after a stall or an overflow, gets video from the next keyframe
(SPS/PPS + IDR), so its decoder starts clean. Packets keep ffmpeg's sequence numbers and
timestamps: a client sees a gap exactly when packets were not sent to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mediagrid.simulator.camera import sdp
from mediagrid.simulator.camera.producer import Producer, ProducerError
from mediagrid.simulator.camera.rtsp import (
    PUBLIC_METHODS,
    Request,
    Response,
    RtspError,
    Transport,
    choose_transport,
    read_message,
    url_path,
)
from mediagrid.simulator.camera.udp import InterleavedSink, Sink, UdpSink

if TYPE_CHECKING:
    from mediagrid.simulator.camera.server import CameraServer

log = logging.getLogger(__name__)

SESSION_TIMEOUT = 60


@dataclass(eq=False)
class ClientSession:
    """An RTSP session: the tracks a client SETUP on one camera path, and its play state."""

    id: str
    producer: Producer
    connection: Connection
    tracks: dict[int, Sink] = field(default_factory=dict)
    playing: bool = False
    waiting_keyframe: bool = True
    sent: int = 0
    dropped: int = 0

    def deliver(self, track: int, rtcp: bool, packet: bytes, keyframe: bool) -> None:
        sink = self.tracks.get(track)
        if not self.playing or sink is None:
            return
        if self.connection.server.faults.stall:
            self.waiting_keyframe = True
            return
        if track == 0 and not rtcp and self.waiting_keyframe:
            if not keyframe:
                return
            self.waiting_keyframe = False
        if track == 0 and self.waiting_keyframe:
            return  # no video RTCP before the first video packet
        if not sink.send(rtcp, packet):
            self.dropped += 1
            self.waiting_keyframe = True
            return
        self.sent += 1

    def ended(self, reason: str) -> None:
        self.connection.close()

    def close(self) -> None:
        """Stops delivery and closes the session's UDP sockets."""
        self.playing = False
        self.producer.subscribers.discard(self)
        for sink in self.tracks.values():
            sink.close()
        self.tracks.clear()


class Connection:
    def __init__(
        self, server: CameraServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.sessions: dict[str, ClientSession] = {}
        self.leases: set[Producer] = set()
        self._drop_handle: asyncio.TimerHandle | None = None
        self.closed = False

    @property
    def playing(self) -> bool:
        return any(s.playing for s in self.sessions.values())

    async def serve(self) -> None:
        try:
            while True:
                try:
                    request = await read_message(self.reader)
                except RtspError as exc:
                    await self._send(Response(exc.status), "0")
                    return
                if request is None:
                    return
                await self.server.hold()
                after: Callable[[], None] | None = None
                try:
                    response, after = await self.handle(request)
                except RtspError as exc:
                    response = Response(exc.status)
                    if exc.status == 401:
                        response.headers["WWW-Authenticate"] = self.server.auth_challenge()
                except ProducerError as exc:  # ffmpeg would not start (a bad --vf, say)
                    log.error("mediagrid camera: %s", exc)
                    response = Response(503)
                await self.server.hold()
                await self._send(response, request.cseq)
                if after is not None:
                    after()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self.close()

    async def _send(self, response: Response, cseq: str) -> None:
        if self.writer.transport.is_closing():
            return
        self.writer.write(response.encode(cseq))
        await self.writer.drain()

    def close(self) -> None:
        """Ends the connection: its sessions stop receiving media (their UDP sockets close),
        its leases are released."""
        self.closed = True
        if self._drop_handle is not None:
            self._drop_handle.cancel()
            self._drop_handle = None
        for session in self.sessions.values():
            session.close()
        self.sessions.clear()
        for producer in self.leases:
            producer.release()
        self.leases.clear()
        if not self.writer.transport.is_closing():
            self.writer.transport.abort()

    def schedule_drop(self, seconds: float) -> None:
        """Closes this connection `seconds` from now (the drop fault)."""
        if self._drop_handle is not None:
            self._drop_handle.cancel()
        loop = asyncio.get_running_loop()
        self._drop_handle = loop.call_later(seconds, self.close)

    async def handle(self, request: Request) -> tuple[Response, Callable[[], None] | None]:
        if request.method == "OPTIONS":
            return Response(headers={"Public": PUBLIC_METHODS}), None
        self.server.authorize(request)
        handler = {
            "DESCRIBE": self._describe,
            "SETUP": self._setup,
            "PLAY": self._play,
            "PAUSE": self._pause,
            "TEARDOWN": self._teardown,
            "GET_PARAMETER": self._keepalive,
            "SET_PARAMETER": self._keepalive,
        }.get(request.method)
        if handler is None:
            raise RtspError(501, request.method)
        return await handler(request)

    async def _lease(self, name: str) -> Producer:
        producer = self.server.producer(name)
        if producer not in self.leases:
            await producer.acquire()
            if self.closed:  # closed while ffmpeg started: close() released the others
                producer.release()
                raise RtspError(454, "the connection was closed")
            self.leases.add(producer)
        return producer

    async def _describe(self, request: Request) -> tuple[Response, None]:
        name = url_path(request.url).split("/", 1)[0]
        producer = await self._lease(name)
        text = sdp.describe(producer.sdp, name, self.server.session_version)
        if self.server.faults.broken_sdp:
            text = sdp.broken(text, self.server.faults.broken_sdp)
        headers = {
            "Content-Type": "application/sdp",
            "Content-Base": request.url.rstrip("/") + "/",
        }
        return Response(headers=headers, body=text.encode()), None

    def _session(self, request: Request) -> ClientSession:
        session_id = request.header("session").split(";", 1)[0].strip()
        session = self.sessions.get(session_id)
        if session is None:
            raise RtspError(454, f"no session {session_id!r} on this connection")
        return session

    async def _setup(self, request: Request) -> tuple[Response, None]:
        name, _, control = url_path(request.url).partition("/")
        producer = await self._lease(name)
        track = _track_index(control, len(producer.config.kinds))
        offer = choose_transport(
            request.header("transport"), 2 * track, self.server.config.transports
        )
        existing = self._session(request) if request.header("session") else None
        if existing is not None and existing.producer is not producer:
            raise RtspError(459, "one session cannot mix camera paths")
        if self.closed:  # dropped while the producer started: bind nothing that would leak
            raise RtspError(454, "the connection was closed")
        sink: Sink
        if isinstance(offer, Transport):
            sink = InterleavedSink(self.writer, offer)
        else:
            local = self.writer.get_extra_info("sockname")[0]
            sink = UdpSink(local, self.writer.get_extra_info("peername")[0], offer)
        session = existing or ClientSession(secrets.token_hex(8), producer, self)
        self.sessions[session.id] = session
        previous = session.tracks.pop(track, None)
        if previous is not None:
            previous.close()
        session.tracks[track] = sink
        headers = {
            "Transport": sink.header(),
            "Session": f"{session.id};timeout={SESSION_TIMEOUT}",
        }
        return Response(headers=headers), None

    async def _play(self, request: Request) -> tuple[Response, Callable[[], None]]:
        session = self._session(request)
        headers = {"Session": session.id, "Range": "npt=0.000-"}

        def start() -> None:
            if self.closed or session.id not in self.sessions:
                return
            session.playing = True
            session.waiting_keyframe = True
            session.producer.subscribers.add(session)
            if self.server.faults.drop is not None and self._drop_handle is None:
                self.schedule_drop(self.server.faults.drop)

        return Response(headers=headers), start

    async def _pause(self, request: Request) -> tuple[Response, None]:
        session = self._session(request)
        session.playing = False
        return Response(headers={"Session": session.id}), None

    async def _teardown(self, request: Request) -> tuple[Response, None]:
        session = self._session(request)
        session.close()
        del self.sessions[session.id]
        return Response(headers={"Session": session.id}), None

    async def _keepalive(self, request: Request) -> tuple[Response, None]:
        headers = {}
        if request.header("session"):
            headers["Session"] = self._session(request).id
        return Response(headers=headers), None

    async def aclose(self) -> None:
        self.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


def _track_index(control: str, count: int) -> int:
    if not control and count == 1:
        return 0
    prefix = "trackID="
    if control.startswith(prefix) and control[len(prefix) :].isdigit():
        index = int(control[len(prefix) :])
        if index < count:
            return index
    raise RtspError(404, f"no track {control!r}: SETUP one of the DESCRIBE's a=control URLs")
