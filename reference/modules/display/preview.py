"""The live preview a browser shows: MJPEG over HTTP.

    GET /             a page with the picture
    GET /stream.mjpg  multipart/x-mixed-replace JPEG frames (what <img> and VLC take)
    GET /frame.jpg    the latest frame (503 until there is one)

JPEG is encoded (pygame's libjpeg, in a worker thread) only while someone watches, at most
`fps` times a second, once per frame however many watch. A small asyncio server: GET only,
one request per connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import socket

from mediagrid.reference.modules.display.frames import Frame

BOUNDARY = "mediagrid-frame"
MAX_REQUEST = 8192


def encode_jpeg(frame: Frame) -> bytes:
    import pygame

    surface = pygame.image.frombuffer(frame.rgb, (frame.width, frame.height), "RGB")
    out = io.BytesIO()
    pygame.image.save(surface, out, "frame.jpg")
    return out.getvalue()


class Preview:
    def __init__(self, title: str, host: str = "127.0.0.1", port: int = 0, fps: int = 10
                 ) -> None:
        self.title, self.host, self.port, self.fps = title, host, port, max(1, fps)
        self._server: asyncio.Server | None = None
        self._frame: Frame | None = None
        self._number = 0
        self._jpeg: tuple[int, bytes] | None = None
        self._changed = asyncio.Event()
        """Set (and replaced) at each new frame, and at close."""
        self.watchers = 0
        self.served = 0

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Binds the port (OSError when it is taken)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = await asyncio.start_server(self._serve, self.host, self.port,
                                                  family=family)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        self._wake()

    def put(self, frame: Frame) -> None:
        """The newest decoded frame (kept; encoded only if someone watches)."""
        self._frame, self._number = frame, self._number + 1
        self._wake()

    def _wake(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def _jpeg_of_latest(self) -> bytes | None:
        if self._frame is None:
            return None
        number, frame = self._number, self._frame
        if self._jpeg is None or self._jpeg[0] != number:
            self._jpeg = (number, await asyncio.to_thread(encode_jpeg, frame))
        return self._jpeg[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_REQUEST:
                return
            method, path, *_ = [*head.decode("latin-1").split(" ", 2), "", ""]
            path = path.split("?", 1)[0]
            if method != "GET":
                await self._reply(writer, "405 Method Not Allowed", "text/plain", b"GET only\n")
            elif path == "/":
                await self._reply(writer, "200 OK", "text/html; charset=utf-8", self._page())
            elif path == "/frame.jpg":
                jpeg = await self._jpeg_of_latest()
                if jpeg is None:
                    await self._reply(writer, "503 Service Unavailable", "text/plain",
                                      b"no frame yet: start a flow into this display\n")
                else:
                    await self._reply(writer, "200 OK", "image/jpeg", jpeg)
            elif path == "/stream.mjpg":
                await self._stream(writer)
            else:
                await self._reply(writer, "404 Not Found", "text/plain",
                                  b"try / , /stream.mjpg or /frame.jpg\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _page(self) -> bytes:
        title = html.escape(self.title)
        return (f"<!doctype html><title>{title}</title><body style='margin:0;background:#000'>"
                f"<img src='stream.mjpg' alt='{title}' style='width:100%'></body>\n").encode()

    @staticmethod
    async def _reply(writer: asyncio.StreamWriter, status: str, kind: str, body: bytes) -> None:
        writer.write(f"HTTP/1.0 {status}\r\nContent-Type: {kind}\r\nContent-Length: {len(body)}"
                     "\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n".encode() + body)
        await writer.drain()

    async def _stream(self, writer: asyncio.StreamWriter) -> None:
        writer.write("HTTP/1.0 200 OK\r\nCache-Control: no-cache\r\nConnection: close\r\n"
                     f"Content-Type: multipart/x-mixed-replace; boundary={BOUNDARY}\r\n\r\n"
                     .encode())
        self.watchers += 1
        sent = -1
        try:
            while self._server is not None:
                if self._number == sent:
                    await self._changed.wait()
                    continue
                sent = self._number
                jpeg = await self._jpeg_of_latest()
                if jpeg is None:
                    continue
                writer.write(f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length:"
                             f" {len(jpeg)}\r\n\r\n".encode() + jpeg + b"\r\n")
                await writer.drain()
                self.served += 1
                await asyncio.sleep(1 / self.fps)
        finally:
            self.watchers -= 1
