"""Runs a camera path's ffmpeg and fans its RTP and RTCP packets out to every watching client.

Lifetime: the producer starts when the first client DESCRIBEs or SETUPs the path and stops
`linger` seconds after the last such client has gone (or never, with `linger=None`), so an
idle camera costs no CPU and a client that reconnects at once finds it still running.
ffmpeg runs in its own process group, dies with this process (parent-death signal) and is
stopped with SIGTERM, then SIGKILL, to the whole group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import tempfile
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from mediagrid.process import die_with_parent_preexec
from mediagrid.simulator.camera.media import StreamConfig, build_command, is_keyframe_start

SDP_TIMEOUT = 15.0
STOP_GRACE = 2.0
class ProducerError(RuntimeError):
    """ffmpeg did not start or died; the message quotes its stderr tail."""


class Subscriber(Protocol):
    def deliver(self, track: int, rtcp: bool, packet: bytes, keyframe: bool) -> None: ...

    def ended(self, reason: str) -> None: ...


class _Receiver(asyncio.DatagramProtocol):
    def __init__(self, on_packet: Callable[[bytes], None]) -> None:
        self.on_packet = on_packet

    def datagram_received(self, data: bytes, addr: object) -> None:
        self.on_packet(data)


def _rtp_payload(packet: bytes) -> bytes:
    if len(packet) < 12:
        return b""
    offset = 12 + 4 * (packet[0] & 0x0F)
    if packet[0] & 0x10 and len(packet) >= offset + 4:
        offset += 4 + 4 * int.from_bytes(packet[offset + 2 : offset + 4], "big")
    return packet[offset:]


def _read_complete_sdp(path: Path, tracks: int) -> str | None:
    """ffmpeg's SDP file once it describes every track (a small local file: no await)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    return text if text.count("\nm=") == tracks and text.endswith("\n") else None


class Producer:
    def __init__(self, config: StreamConfig, ffmpeg: str, linger: float | None = 5.0) -> None:
        self.config = config
        self.ffmpeg = ffmpeg
        self.linger = linger
        self.subscribers: set[Subscriber] = set()
        self.sdp = ""
        self.stderr_tail: deque[str] = deque(maxlen=40)
        self.packets = 0
        self.starts = 0
        self._leases = 0
        self._process: asyncio.subprocess.Process | None = None
        self._transports: list[asyncio.DatagramTransport] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._linger_handle: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.running and self._process else None

    async def acquire(self) -> str:
        """Takes a lease (the caller must `release()` it) and returns the producer's SDP,
        starting ffmpeg when it is not running."""
        self._leases += 1
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        try:
            async with self._lock:
                if not self.running:
                    await self._start()
        except BaseException:
            self.release()
            raise
        return self.sdp

    def release(self) -> None:
        self._leases = max(0, self._leases - 1)
        if self._leases or self.linger is None or not self.running:
            return
        loop = asyncio.get_running_loop()
        self._linger_handle = loop.call_later(
            self.linger, lambda: self._tasks.append(loop.create_task(self.stop()))
        )

    async def _start(self) -> None:
        await self._stop_process()
        loop = asyncio.get_running_loop()
        ports: list[tuple[int, int]] = []
        for track in range(len(self.config.kinds)):
            pair = []
            for rtcp in (False, True):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
                sock.bind(("127.0.0.1", 0))
                handler = self._handler(track, rtcp)
                transport, _ = await loop.create_datagram_endpoint(
                    lambda h=handler: _Receiver(h), sock=sock
                )
                self._transports.append(transport)
                pair.append(sock.getsockname()[1])
            ports.append((pair[0], pair[1]))
        self._tmp = tempfile.TemporaryDirectory(prefix="mediagrid-camera-")
        sdp_path = Path(self._tmp.name) / "producer.sdp"
        cmd = build_command(self.ffmpeg, self.config, ports, str(sdp_path))
        self.stderr_tail.clear()
        self._process = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            preexec_fn=die_with_parent_preexec(),
        )
        self.starts += 1
        self._tasks.append(loop.create_task(self._drain(self._process)))
        try:
            self.sdp = await self._wait_sdp(sdp_path)
        except BaseException:
            await self._stop_process()
            raise

    async def _wait_sdp(self, path: Path) -> str:
        want = len(self.config.kinds)
        try:
            async with asyncio.timeout(SDP_TIMEOUT):
                while True:
                    if self._process is None or self._process.returncode is not None:
                        await asyncio.sleep(0.1)  # let the drain task read the last lines
                        raise ProducerError(
                            f"camera {self.config.name!r}: ffmpeg exited before writing its "
                            "SDP: " + " | ".join(self.stderr_tail)
                        )
                    text = _read_complete_sdp(path, want)
                    if text is not None:
                        return text
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise ProducerError(
                f"camera {self.config.name!r}: ffmpeg wrote no SDP within {SDP_TIMEOUT:g} s: "
                + " | ".join(self.stderr_tail)
            ) from None

    async def _drain(self, process: asyncio.subprocess.Process) -> None:
        assert process.stderr is not None
        async for line in process.stderr:
            self.stderr_tail.append(line.decode(errors="replace").rstrip())
        if process is self._process:  # it died on its own: the watchers' stream has ended
            reason = f"ffmpeg of camera {self.config.name!r} exited: " + " | ".join(
                self.stderr_tail
            )
            for subscriber in list(self.subscribers):
                subscriber.ended(reason)

    def _handler(self, track: int, rtcp: bool) -> Callable[[bytes], None]:
        video = track == 0 and not rtcp

        def on_packet(packet: bytes) -> None:
            self.packets += 1
            keyframe = video and is_keyframe_start(_rtp_payload(packet))
            for subscriber in list(self.subscribers):
                subscriber.deliver(track, rtcp, packet, keyframe)

        return on_packet

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        for transport in self._transports:
            transport.close()
        self._transports.clear()
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                async with asyncio.timeout(STOP_GRACE):
                    await process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                await process.wait()
        if process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # anything ffmpeg left in its group
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    async def stop(self) -> None:
        """Stops ffmpeg (the whole process group) and closes the UDP sockets."""
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        async with self._lock:
            await self._stop_process()
        current = asyncio.current_task()
        for task in self._tasks:
            if task is not current and task.done():
                continue
            if task is not current:
                task.cancel()
        self._tasks = [t for t in self._tasks if not t.done() and t is not current]
