"""Media on a simulated module's links, measured at this module's end (contract §4.4):

- SOURCE: the clip looped to the endpoint the target's module returned (UDP datagrams of 7
  packets, or a TCP stream for mpegts-tcp); frames and bytes *sent* are its metrics.
- TARGET: a socket bound at ConnectEntities on the endpoint's port (MEDIAGRID_BIND_HOST,
  rule S-10) that counts what arrives; frames and bytes *received* are its metrics.
- LOCAL: both ends here; the clip's packets go to the target's counter in memory.

Each runs as a link task (cancelled by the SDK at StopFlow) and reports every half second.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import Callable

from mediagrid import sdk
from mediagrid.simulator.module import media

TICK = 0.02  # seconds between sends
REPORT_EVERY = 0.5


def host_port(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qs(parts.query)
    host = query.get("localaddr", [parts.hostname or "127.0.0.1"])[0]
    return host, int(parts.port or 0)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, on_data: Callable[[bytes], None] | None = None) -> None:
        self.on_data = on_data

    def datagram_received(self, data: bytes, addr: object) -> None:
        if self.on_data is not None:
            self.on_data(data)

    def error_received(self, exc: Exception) -> None:
        """Nobody listens there (yet): the target restarts, a stream goes on (P-23)."""


class Receiver:
    """The TARGET end: bound from ConnectEntities until DisconnectEntities; counts while a
    flow runs through the link."""

    def __init__(self, link: sdk.Link) -> None:
        assert link.endpoint is not None
        self.link = link
        self.counter: media.TsCounter | None = None
        self._transport: asyncio.BaseTransport | None = None
        self._server: asyncio.Server | None = None
        self._listen = host_port(link.endpoint.listen_url or link.endpoint.url)

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        if self.link.transport == "mpegts-tcp":
            self._server = await asyncio.start_server(self._client, *self._listen)
        else:
            self._transport, _ = await loop.create_datagram_endpoint(
                lambda: _Datagrams(self._feed), local_addr=self._listen)

    def _feed(self, data: bytes) -> None:
        if self.counter is not None:
            self.counter.feed(data)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                self._feed(data)
        finally:
            writer.close()

    async def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def run(self) -> None:
        """Counts for the life of the flow and reports the measured figures."""
        self.counter = counter = media.TsCounter()
        try:
            await report(self.link, counter, None)
        finally:
            self.counter = None


async def report(link: sdk.Link, counter: media.TsCounter,
                 step: Callable[[], None] | None) -> None:
    """Every TICK runs `step` (a sender's sends); every REPORT_EVERY reports the figures."""
    window, loop = media.Window(), asyncio.get_running_loop()
    next_report = loop.time()
    while True:
        if step is not None:
            step()
        now = loop.time()
        if now >= next_report:
            window.add(counter.frames, counter.bytes, now)
            fps, bitrate = window.rates()
            link.update_metrics(frames=counter.frames, fps=fps, bitrate_bps=bitrate,
                                bytes_moved=counter.bytes)
            next_report = now + REPORT_EVERY
        await asyncio.sleep(TICK)


async def send(link: sdk.Link, codec: str) -> None:
    """The SOURCE end: the clip looped to the endpoint, for the life of the flow."""
    assert link.endpoint is not None
    looper = media.TsLoop(await media.clip(codec))
    sent, loop = media.TsCounter(), asyncio.get_running_loop()
    started = loop.time()
    target = host_port(link.endpoint.url)
    if link.transport == "mpegts-tcp":
        await _send_stream(link, looper, sent, target, started)
        return
    transport, _ = await loop.create_datagram_endpoint(_Datagrams, remote_addr=target)

    def step() -> None:
        packets = looper.due(loop.time() - started)
        for i in range(0, len(packets), media.PER_DATAGRAM):
            datagram = b"".join(packets[i:i + media.PER_DATAGRAM])
            transport.sendto(datagram)  # type: ignore[attr-defined]
            sent.feed(datagram)

    try:
        await report(link, sent, step)
    finally:
        transport.close()


async def _send_stream(link: sdk.Link, looper: media.TsLoop, sent: media.TsCounter,
                       target: tuple[str, int], started: float) -> None:
    """mpegts-tcp: connect (again, while the target is away) and write the stream."""
    loop = asyncio.get_running_loop()
    writer: asyncio.StreamWriter | None = None

    def step() -> None:
        packets = looper.due(loop.time() - started)
        if writer is not None and not writer.is_closing() and packets:
            data = b"".join(packets)
            writer.write(data)
            sent.feed(data)

    async def connect() -> None:
        nonlocal writer
        while True:
            if writer is None or writer.is_closing():
                with contextlib.suppress(OSError):
                    _, writer = await asyncio.open_connection(*target)
            await asyncio.sleep(0.5)

    keeper = asyncio.ensure_future(connect())
    try:
        await report(link, sent, step)
    finally:
        keeper.cancel()
        if writer is not None:
            writer.close()


async def local(link: sdk.Link, codec: str) -> None:
    """LOCAL: the source's clip to the target's counter, in memory."""
    looper = media.TsLoop(await media.clip(codec))
    received, loop = media.TsCounter(), asyncio.get_running_loop()
    started = loop.time()

    def step() -> None:
        for packet in looper.due(loop.time() - started):
            received.feed(packet)

    await report(link, received, step)
