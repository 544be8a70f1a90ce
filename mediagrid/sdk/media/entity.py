"""`MediaEntity`: an entity whose media runs in ffmpeg, wired to its connections for you.

    @module.entity("testsrc")
    class TestSource(media.MediaEntity):
        def ffmpeg_args(self, quality, run):
            return ["-re", "-f", "lavfi", "-i", "testsrc2", *self.encode(quality),
                    *self.output_args()]

The base class does the rest, for every role of every connection (contract §4.1):
- a target (sink, converter) listens on its endpoint from ConnectEntities on (`Receiver`),
  and the bytes that arrive go to its ffmpeg's stdin (`input_args()` reads them);
- a producer (source, converter) writes MPEG-TS on stdout (`output_args()`); every started
  connection gets it from its next keyframe (`Destination`), so one source feeds several
  targets, and targets may join while it runs (rule P-5);
- connections with the same quality share one encoder; AdjustQuality starts an encoder at
  the new quality and switches the connection to it at its first keyframe (rule P-9);
- ffmpeg is supervised (restarts with the project's one backoff, a stall rule that waits
  for a source that went away), and failures turn the link ERROR with ffmpeg's last words;
- windowed fps, bitrate and bytes, and latency where the entity measures it, feed the
  connection, the flow and GetEntityStatus (rules P-10, P-11).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, ClassVar

from mediagrid.reference.media import SupervisorEvent, ffmpeg_path
from mediagrid.reference.media.process import RestartPolicy
from mediagrid.sdk.entity import Endpoint, Link, Role
from mediagrid.sdk.errors import FailedPrecondition
from mediagrid.sdk.media.destination import Destination
from mediagrid.sdk.media.endpoints import RELAYED, address_of, local_endpoint
from mediagrid.sdk.media.measuring import SINK_KEY, LinkWatch, Measuring, MediaOutput
from mediagrid.sdk.media.meter import LatencyWindow
from mediagrid.sdk.media.quality import Quality
from mediagrid.sdk.media.receiver import Receiver
from mediagrid.sdk.media.runner import MediaProcess
from mediagrid.sdk.types import EntityKind, Health, MediaType
from mediagrid.v1 import common_pb2

# Probing a connection's one stream takes little; no "-fflags nobuffer": it throws away
# what was read while probing, the first half second of every run. "-flags low_delay" turns
# off the decoder's frame threading, which holds a frame back per thread.
INPUT_ARGS = ["-f", "mpegts", "-probesize", "32768", "-analyzeduration", "200000",
              "-flags", "low_delay", "-i", "pipe:0"]
LIVE_INPUT = ["-re", "-readrate_initial_burst", "0"]
"""Reads an input at its own pace from the first frame, as a live source makes it (plain
`-re` reads the first half second at once)."""
OUTPUT_ARGS = ["-f", "mpegts", "-flush_packets", "1", "-muxdelay", "0", "-muxpreload", "0",
               "pipe:1"]


class MediaEntity(Measuring):
    restart: ClassVar[RestartPolicy] = "always"
    stall_timeout: ClassVar[float | None] = 5.0
    start_timeout: ClassVar[float] = 10.0
    raw_output: ClassVar[bool] = False
    """True when the process writes something other than MPEG-TS on stdout (a display's raw
    frames): `read_output()` then gets each run's stdout."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kind = self.entity_type.kind
        if kind is EntityKind.PROTOCOL:
            raise TypeError("MediaEntity serves sources, sinks and converters")
        self.takes_input = kind in (EntityKind.SINK, EntityKind.CONVERTER)
        self.produces = kind in (EntityKind.SOURCE, EntityKind.CONVERTER)
        self.audio = self.media_type is MediaType.AUDIO
        self.latency = LatencyWindow()
        """Add source-to-here latency samples (ms, from time codes) where they are measured."""
        self.input_link: Link | None = None
        self.receiver: Receiver | None = None
        self._input_started = False
        self._outputs: dict[str, MediaOutput] = {}
        self.processes: dict[Quality | str, MediaProcess] = {}
        self._watch: dict[str, LinkWatch] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._reconciling = asyncio.Lock()
        self._moving = False
        self._clock = time.monotonic
        self.degraded = ""
        """Set to keep the entity DEGRADED while media moves (a display without a window)."""

    # -- what a subclass writes ----------------------------------------------------------------
    def ffmpeg_args(self, quality: Quality | None, run: int) -> list[str]:
        """ffmpeg's arguments after the binary for one run (run counts from 1). A target reads
        `input_args()`; a producer encodes at `quality` and ends with `output_args()`."""
        raise NotImplementedError(f"{type(self).__name__} must define ffmpeg_args()")

    def default_quality(self) -> Quality:
        """The quality from the entity's config; a connection's QualityProfile overrides it."""
        raise FailedPrecondition(f"entity type {self.entity_type.type!r} does not encode")

    async def read_output(self, stdout: asyncio.StreamReader) -> None:
        """Reads a run's stdout when `raw_output` is set."""

    def merge_quality(self, base: Quality, profile: common_pb2.QualityProfile) -> Quality:
        """`base` with what a connection's QualityProfile sets (ConnectEntities and
        AdjustQuality). Override to refuse what the entity cannot change."""
        return base.merged(profile)

    def on_media_moving(self) -> None:
        """Called when media moves again after the entity was not HEALTHY (or at first)."""

    def redact(self, line: str) -> str:
        """Applied to every stderr line kept or logged (hide credentials here)."""
        return line

    def on_media_event(self, event: SupervisorEvent, process: MediaProcess) -> None:
        """Called for each supervisor event (started, stalled, exited, restarting...)."""

    def bytes_written(self) -> int:
        """Bytes a sink wrote (FlowMetrics.bytes_written); 0 by default."""
        return 0

    # -- helpers for ffmpeg_args ---------------------------------------------------------------
    @staticmethod
    def input_args() -> list[str]:
        return list(INPUT_ARGS)

    @staticmethod
    def output_args() -> list[str]:
        return list(OUTPUT_ARGS)

    @staticmethod
    def live_input() -> list[str]:
        return list(LIVE_INPUT)

    def quality_for(self, link: Link) -> Quality:
        output = self._outputs.get(link.id)
        return output.quality if output else self.merge_quality(self.default_quality(),
                                                                  link.quality)

    # -- connection hooks ----------------------------------------------------------------------
    async def connect(self, link: Link) -> None:
        if link.target is self:
            if self.input_link is not None and self.input_link.id != link.id:
                raise FailedPrecondition(
                    f"entity {self.id!r} already takes its input from connection"
                    f" {self.input_link.id!r}: disconnect it first, or create another entity"
                )
            bind = self._runtime.bind_host
            # LOCAL: the two ends still meet on a loopback port, which the connection does
            # not report (it has transport "local" and no endpoint, rule P-16).
            endpoint = local_endpoint() if link.role is Role.LOCAL else link.endpoint
            assert endpoint is not None
            receiver = Receiver(endpoint, bind_host="127.0.0.1" if link.role is Role.LOCAL
                                else bind, audio=self.audio)
            opened = await receiver.open()
            if link.role is not Role.LOCAL:
                link.endpoint = opened
            self.receiver, self.input_link = receiver, link
        if link.source is self:
            endpoint = self._endpoint_to(link)
            quality = self.merge_quality(self.default_quality(), link.quality)  # refused now
            destination = Destination(address_of(endpoint), audio=self.audio)
            self._outputs[link.id] = MediaOutput(link, quality, destination)

    def _endpoint_to(self, link: Link) -> Endpoint:
        """Where this source end sends: the target's endpoint, or on a LOCAL link the
        loopback port the target entity listens on (it connected first)."""
        if link.role is Role.LOCAL:
            target = link.target
            if not isinstance(target, MediaEntity) or target.receiver is None:
                raise FailedPrecondition(
                    f"entity {link.target_entity_id!r} does not receive media from the media"
                    " layer: connect it to a source of its own kind")
            return target.receiver.endpoint
        if link.endpoint is None or link.endpoint.transport not in RELAYED:
            raise FailedPrecondition(
                f"entity {self.id!r} sends {' or '.join(RELAYED)}; the endpoint's transport"
                f" is {link.endpoint.transport if link.endpoint else 'missing'}")
        return link.endpoint

    async def disconnect(self, link: Link) -> None:
        if link.target is self and self.input_link is link:
            assert self.receiver is not None
            self.receiver.close()
            self.receiver = self.input_link = None
        output = self._outputs.pop(link.id, None)
        if output is not None:
            output.destination.close()
        await self._reconcile()

    async def start(self, link: Link) -> None:
        self._watch[link.id] = LinkWatch(self._clock())
        if link.target is self:
            self._input_started = True
        if link.source is self:
            output = self._outputs[link.id]
            await output.destination.open()
            output.started = True
        await self._reconcile()
        if self._ticker is None or self._ticker.done():
            self._ticker = self.spawn(self._tick())

    async def stop(self, link: Link) -> None:
        self._watch.pop(link.id, None)
        if link.target is self:
            self._input_started = False
        output = self._outputs.get(link.id)
        if output is not None and output.started:
            output.started = False
            output.destination.close()
            output.destination = Destination(output.destination.address, audio=self.audio)
        await self._reconcile()

    async def adjust_quality(self, link: Link, quality: common_pb2.QualityProfile) -> None:
        output = self._outputs.get(link.id)
        if output is None or link.source is not self:
            raise FailedPrecondition(f"connection {link.id!r} does not leave entity {self.id!r}")
        new = self.merge_quality(output.quality, quality)  # checked before anything starts
        if new == output.quality:
            return
        output.quality = new
        if output.started:
            await self._reconcile()
            feed = self.processes[new].feed
            assert feed is not None
            output.destination.switch_to(feed)

    async def destroy(self) -> None:
        await self._stop_processes(list(self.processes))

    # -- processes -----------------------------------------------------------------------------
    def _wanted(self) -> set[Quality | str]:
        if self.takes_input and not self._input_started:
            return set()
        if not self.produces:
            return {SINK_KEY}
        keys: set[Quality | str] = {o.quality for o in self._outputs.values() if o.started}
        feeds = [f for o in self._outputs.values()
                 for f in (o.destination.feed, o.destination.pending_feed) if f is not None]
        # an encoder a connection still reads from stays until its switch is done
        return keys | {k for k, p in self.processes.items() if p.feed in feeds}

    async def _reconcile(self) -> None:
        async with self._reconciling:
            wanted = self._wanted()
            await self._stop_processes([k for k in self.processes if k not in wanted])
            for key in wanted - set(self.processes):
                self.processes[key] = await self._start_process(key)
            for output in self._outputs.values():
                process = self.processes.get(output.quality)
                if output.started and output.destination.feed is None and process is not None:
                    output.destination.attach(process.feed)
            if self.receiver is not None:
                self.receiver.consumers[:] = [p.write for p in self.processes.values()]

    async def _start_process(self, key: Quality | str) -> MediaProcess:
        binary = ffmpeg_path()
        quality = key if isinstance(key, Quality) else None
        name = f"{self.id}" + (f"@{quality.codec}-{quality.bitrate}" if quality else "")
        receiver = self.receiver
        process = MediaProcess(
            name,
            lambda run: [binary, "-loglevel", "warning", *self.ffmpeg_args(quality, run)],
            stdin=self.takes_input, ts_output=self.produces and not self.raw_output,
            read_output=self.read_output if self.raw_output else None, audio=self.audio,
            input_frames=receiver.frames if receiver else None,
            input_idle=receiver.idle_for if receiver else None,
            restart=self.restart, stall_timeout=self.stall_timeout,
            start_timeout=self.start_timeout, redact=self.redact, on_event=self._media_event,
        )
        await process.start()
        return process

    async def _stop_processes(self, keys: list[Quality | str]) -> None:
        processes = [self.processes.pop(k) for k in keys if k in self.processes]
        if processes:
            await asyncio.gather(*(p.stop() for p in processes))

    def _media_event(self, event: SupervisorEvent, process: MediaProcess) -> None:
        self.on_media_event(event, process)
        if event.kind in ("exited", "stalled", "gave_up") and not process.stopping:
            reason = event.detail or f"exit code {event.exit_code}"
            message = f"media process failed ({reason}): {process.describe_failure()}"
            self._moving = False
            self.set_health(Health.DEGRADED, message)
            for link in self._links_of(process):
                self._fail(link, message)

    def _links_of(self, process: MediaProcess) -> list[Link]:
        links = [o.link for o in self._outputs.values() if o.started and
                 o.destination.feed is not None and o.destination.feed is process.feed]
        if self.input_link is not None and self._input_started and process in \
                self.processes.values():
            links.append(self.input_link)
        return links

    def _fail(self, link: Link, message: str) -> None:
        watch = self._watch.get(link.id)
        if watch is not None and not watch.failed and link.flow_id:
            watch.failed = message
            link.fail(message)


__all__ = ["INPUT_ARGS", "OUTPUT_ARGS", "MediaEntity"]
