"""How a MediaEntity measures its connections (rules P-10, P-11, P-21, P-22, P-24).

Every tick (0.1 s while a link waits for its first media, then 1 s) each started link gets
its figures, measured at this module's end of it: frames and bytes sent (the link's
Destination) at a source end, received (the Receiver; a sink's decoded frames) at a target
end. Media moves when new frames and new bytes came within the last second; the frame count a
link reports rises only then. No media for the stall period after it moved fails the link
"stalled", none within the start period after StartFlow fails it "no media arrived".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediagrid.sdk.entity import Entity, Link, Role
from mediagrid.sdk.media.destination import Destination
from mediagrid.sdk.media.meter import LatencyWindow, Meter
from mediagrid.sdk.media.quality import Quality
from mediagrid.sdk.media.receiver import Receiver
from mediagrid.sdk.media.runner import MediaProcess
from mediagrid.sdk.types import Health

TICK, FIRST_FRAME_TICK = 1.0, 0.1
MOVING_WINDOW = 1.0
"""New frames and new bytes within this many seconds: media moving (rule P-22)."""
START_PERIOD = 10.0
"""No media this long after StartFlow: the link fails, the flow turns ERROR (rule P-21)."""
SINK_KEY = "sink"


@dataclass
class LinkWatch:
    started_at: float
    failed: str = ""
    frames: int = 0
    """The frame count last reported: it rises only while media moves (rule P-22)."""
    moved_at: float | None = None


@dataclass
class MediaOutput:
    """A source end's link: the quality it is sent at and where it goes."""

    link: Link
    quality: Quality
    destination: Destination
    started: bool = False


class Measuring(Entity):
    """MediaEntity's measurements, kept apart from its media wiring (media/entity.py), which
    sets the state below and implements the methods that raise here."""

    produces: bool
    latency: LatencyWindow
    receiver: Receiver | None
    processes: dict[Quality | str, MediaProcess]
    degraded: str
    _outputs: dict[str, MediaOutput]
    _watch: dict[str, LinkWatch]
    _moving: bool
    _clock: Callable[[], float]

    def on_media_moving(self) -> None:
        raise NotImplementedError

    def bytes_written(self) -> int:
        raise NotImplementedError

    def _wanted(self) -> set[Quality | str]:
        raise NotImplementedError

    async def _reconcile(self) -> None:
        raise NotImplementedError

    def _fail(self, link: Link, message: str) -> None:
        raise NotImplementedError

    # -- measurements --------------------------------------------------------------------------
    async def _tick(self) -> None:
        """Measures the started links until none is left: every 0.1 s while one waits for its
        first media (so the flow turns ACTIVE at once), every second after."""
        while self._watch:
            now = self._clock()
            waiting = any(w.moved_at is None and now - w.started_at < START_PERIOD
                          for w in self._watch.values())
            await asyncio.sleep(FIRST_FRAME_TICK if waiting else TICK)
            self.measure(report_idle=not waiting)
            stale = [k for k in self.processes if k not in self._wanted()]
            if stale:  # the encoder a switch left behind
                await self._reconcile()

    def measure(self, report_idle: bool = True) -> None:
        """Sends each started link its measured figures and keeps the entity's (GetEntityStatus).

        Media moves (rule P-22) when new frames and new bytes came at this end within the last
        second; the frame count a link reports rises only then, so frames a decoder flushes
        with nothing arriving behind them never count. No media for the stall period after
        it moved, or none within the start period after StartFlow (P-21), fails the link."""
        now = self._clock()
        stall_after = self._runtime.flows.stall_after
        moving_any = False
        restarts = sum(p.restarts for p in self.processes.values())
        for link in self._started_links():
            frames, byte_meter = self._meters(link)
            if frames is None:
                continue
            watch = self._watch[link.id]
            moving = all(idle is not None and idle < MOVING_WINDOW
                         for idle in (frames.idle_for(), byte_meter.idle_for()))
            if moving:
                watch.frames, watch.moved_at, watch.failed = frames.total, now, ""
                moving_any = True
            if moving or report_idle:
                    link.update_metrics(
                    frames=watch.frames, bytes_moved=byte_meter.total,
                    fps=round(frames.rate(), 2), bitrate_bps=int(byte_meter.rate() * 8),
                    restarts=restarts, bytes_written=self.bytes_written(),
                    latency_ms=self.latency.median() if link.target is self else -1,
                )
            if moving:
                continue
            if watch.moved_at is not None and now - watch.moved_at >= stall_after:
                self._moving = False
                self._fail(link, self._stall_message(link, stall_after))
            elif watch.moved_at is None and now - watch.started_at >= START_PERIOD:
                self._fail(link, f"no media arrived at connection {link.id!r} within"
                                 f" {START_PERIOD:g} s of StartFlow: {self._waiting_for(link)}")
        if moving_any:
            want = (Health.DEGRADED, self.degraded) if self.degraded else (Health.HEALTHY, "")
            if (self.health, self.error_message) != want:
                self.set_health(*want)
            if not self._moving:
                self._moving = True
                self.on_media_moving()
        self._entity_metrics()

    def _waiting_for(self, link: Link) -> str:
        if link.target is self:
            return "nothing was received (is the source running and sending here?)"
        process = next(iter(self.processes.values()), None)
        return process.describe_failure() if process else "the media process did not start"

    def _started_links(self) -> list[Link]:
        """Links this entity measures: a LOCAL link is measured by its target (what arrived)."""
        return [link for link in self.links.values() if link.id in self._watch
                and not (link.role is Role.LOCAL and link.target is not self)]

    def _meters(self, link: Link) -> tuple[Meter | None, Meter]:
        if link.source is self and link.target is not self:
            output = self._outputs.get(link.id)
            if output is None:
                return None, Meter()
            return output.destination.frames, output.destination.bytes
        if self.receiver is None:
            return None, Meter()
        process = self.processes.get(SINK_KEY)
        if self.produces or process is None:  # a converter's input: what arrived
            return self.receiver.frames, self.receiver.bytes
        return process.frames, self.receiver.bytes

    def _stall_message(self, link: Link, seconds: float) -> str:
        if link.target is self and self.receiver is not None:
            idle = self.receiver.idle_for()
            if idle is None or idle >= seconds:
                where = link.endpoint.url if link.endpoint else "its endpoint"
                return (f"stalled: no media received on {where} for {seconds:g} s"
                        " (is the source running?)")
        return f"stalled: no media measured at connection {link.id!r} for {seconds:g} s"

    def _entity_metrics(self) -> None:
        values: dict[str, Any] = {"restarts": sum(p.restarts for p in self.processes.values())}
        if self.receiver is not None:
            values |= {"bytes_received": self.receiver.bytes.total,
                       "bitrate_bps": int(self.receiver.bytes.rate() * 8)}
        sent = [o.destination for o in self._outputs.values() if o.started]
        if sent:
            values |= {"bytes_sent": sum(d.bytes.total for d in sent),
                       "bandwidth_bps": int(sum(d.bytes.rate() for d in sent) * 8)}
        frames = [p.frames for p in self.processes.values()]
        if frames:
            values |= {"frames": sum(f.total for f in frames),
                       "fps": round(max(f.rate() for f in frames), 2)}
        latencies = sorted(self.latency.values())
        values["latency_ms"] = self.latency.median()
        if latencies:  # the spread over the same window: p95 (nearest rank)
            values["latency_p95_ms"] = round(latencies[min(len(latencies) - 1,
                                                            int(0.95 * len(latencies)))])
        self.metrics.update(values)
