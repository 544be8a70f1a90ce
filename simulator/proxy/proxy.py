"""A TCP proxy between a client (the orchestrator, a service) and a server (a module) that
applies toxics (toxics.py) to its connections, changed at run time.

    proxy = FaultProxy("cam", listen=("127.0.0.1", 0), upstream=("127.0.0.1", 50051))
    await proxy.start()                                   # proxy.port is where it listens
    proxy.add(Toxic("latency", attributes={"latency": 300, "jitter": 50}))
    proxy.remove("latency_downstream")
    await proxy.stop()

Each connection has two pumps, upstream (client to server) and downstream. A pump reads as
fast as data comes and forwards each chunk when its toxics allow: after its latency (counted
from its arrival, so delays do not add up), within the bandwidth, unless a timeout toxic
holds it, up to a data limit. Timeout and reset_peer toxics also act on idle connections,
on a timer from when they reach the connection. Whether a toxic affects a connection is
drawn once per connection with its toxicity, as toxiproxy does.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import struct
from dataclasses import dataclass

from mediagrid.simulator.proxy.toxics import Toxic, ToxicError

CHUNK = 65536
Address = tuple[str, int]


@dataclass
class ProxyStats:
    accepted: int = 0
    upstream_bytes: int = 0
    downstream_bytes: int = 0
    resets: int = 0


class Connection:
    def __init__(self, proxy: FaultProxy, client: tuple[asyncio.StreamReader,
                 asyncio.StreamWriter], server: tuple[asyncio.StreamReader,
                                                      asyncio.StreamWriter]) -> None:
        self.proxy = proxy
        self.client, self.server = client, server
        self.affected: set[str] = set()
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self._timers: dict[str, asyncio.TimerHandle] = {}

    def draw(self, toxic: Toxic) -> None:
        if self.proxy.rng.random() < toxic.toxicity:
            self.affected.add(toxic.name)
        self.changed.set()
        self._arm(toxic)

    def forget(self, name: str) -> None:
        self.affected.discard(name)
        timer = self._timers.pop(name, None)
        if timer is not None:
            timer.cancel()
        self.changed.set()

    def toxics(self, stream: str) -> list[Toxic]:
        return [t for t in self.proxy.toxics.values()
                if t.stream == stream and t.name in self.affected]

    def _arm(self, toxic: Toxic) -> None:
        """timeout and reset_peer act on a timer, data or not."""
        if toxic.name not in self.affected or toxic.type not in ("timeout", "reset_peer"):
            return
        seconds = toxic.attribute("timeout") / 1000
        if toxic.type == "timeout" and seconds == 0:
            return  # held until removed
        action = self.reset if toxic.type == "reset_peer" else self.close
        self._timers[toxic.name] = asyncio.get_running_loop().call_later(seconds, action)

    def close(self) -> None:
        for _, writer in (self.client, self.server):
            writer.close()
        self.closed.set()

    def reset(self) -> None:
        """TCP RST to both sides: linger 0, then close."""
        self.proxy.stats.resets += 1
        for _, writer in (self.client, self.server):
            sock = writer.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        self.closed.set()

    async def run(self) -> None:
        for toxic in self.proxy.toxics.values():
            self.draw(toxic)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._pump(self.client[0], self.server[1], "upstream"))
                tasks.create_task(self._pump(self.server[0], self.client[1], "downstream"))
        except* (ConnectionError, OSError):
            pass
        finally:
            for timer in self._timers.values():
                timer.cancel()
            self.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    stream: str) -> None:
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def read() -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await reader.read(CHUNK):
                    queue.put_nowait((loop.time(), data))
            queue.put_nowait((loop.time(), b""))

        reading = asyncio.ensure_future(read())
        try:
            await self._forward(queue, writer, stream)
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)
            self.close()  # one side ended: the connection ends

    async def _forward(self, queue: asyncio.Queue[tuple[float, bytes]],
                       writer: asyncio.StreamWriter, stream: str) -> None:
        loop, sent = asyncio.get_running_loop(), 0
        while True:
            arrived, data = await queue.get()
            await self._held(stream)
            delay = sum(t.attribute("latency") + self.proxy.rng.uniform(
                -t.attribute("jitter"), t.attribute("jitter"))
                for t in self.toxics(stream) if t.type == "latency") / 1000
            if delay > 0:
                await asyncio.sleep(max(0.0, arrived + delay - loop.time()))
            if not data:  # the sender closed its side
                closing = [t.attribute("delay") for t in self.toxics(stream)
                           if t.type == "slow_close"]
                if closing:
                    await asyncio.sleep(max(closing) / 1000)
                return
            limits = [t.attribute("bytes") for t in self.toxics(stream)
                      if t.type == "limit_data"]
            if limits:
                data = data[:max(0, int(min(limits)) - sent)]
            await self._write(writer, data, stream)
            sent += len(data)
            if limits and sent >= min(limits):
                return

    async def _held(self, stream: str) -> None:
        """A timeout toxic lets nothing through while it lasts."""
        while any(t.type == "timeout" for t in self.toxics(stream)):
            self.changed.clear()
            await self.changed.wait()

    async def _write(self, writer: asyncio.StreamWriter, data: bytes, stream: str) -> None:
        rates = [t.attribute("rate") for t in self.toxics(stream) if t.type == "bandwidth"]
        step = max(1, int(min(rates) * 1024 / 20)) if rates else len(data)
        for i in range(0, len(data), step):
            piece = data[i:i + step]
            writer.write(piece)
            await writer.drain()
            if stream == "upstream":
                self.proxy.stats.upstream_bytes += len(piece)
            else:
                self.proxy.stats.downstream_bytes += len(piece)
            if rates:
                await asyncio.sleep(len(piece) / (min(rates) * 1024))


class FaultProxy:
    def __init__(self, name: str, listen: Address, upstream: Address, *,
                 rng: random.Random | None = None) -> None:
        self.name, self.listen, self.upstream = name, listen, upstream
        self.rng = rng or random.Random()
        self.toxics: dict[str, Toxic] = {}
        self.connections: set[Connection] = set()
        self.stats = ProxyStats()
        self.port = listen[1]
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def enabled(self) -> bool:
        return not any(t.type == "down" for t in self.toxics.values())

    @property
    def address(self) -> str:
        return f"{self.listen[0]}:{self.port}"

    async def start(self) -> None:
        """Listens (OSError when the address is taken)."""
        self._server = await asyncio.start_server(self._accept, self.listen[0], self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        await self._unlisten()
        for connection in list(self.connections):
            connection.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _unlisten(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.accepted += 1
        try:
            upstream = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()  # nothing behind: the client sees the connection closed
            return
        connection = Connection(self, (reader, writer), upstream)
        self.connections.add(connection)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            if task is not None:
                self._tasks.discard(task)

    # -- toxics, at run time ------------------------------------------------------------

    async def add(self, toxic: Toxic) -> Toxic:
        if toxic.name in self.toxics:
            raise ToxicError(f"toxic {toxic.name!r} exists on proxy {self.name!r}: remove it"
                             " first, or give another name")
        self.toxics[toxic.name] = toxic
        if toxic.type == "down":
            await self._unlisten()
            for connection in list(self.connections):
                connection.close()
        for connection in list(self.connections):
            connection.draw(toxic)
        return toxic

    async def remove(self, name: str) -> bool:
        toxic = self.toxics.pop(name, None)
        if toxic is None:
            return False
        for connection in list(self.connections):
            connection.forget(name)
        if toxic.type == "down" and self.enabled and self._server is None:
            await self.start()
        return True

    async def reset(self) -> None:
        """Every toxic removed; listening again."""
        for name in list(self.toxics):
            await self.remove(name)

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "listen": self.address,
                "upstream": f"{self.upstream[0]}:{self.upstream[1]}", "enabled": self.enabled,
                "toxics": [t.to_dict() for t in self.toxics.values()],
                "connections": len(self.connections), "stats": vars(self.stats)}
