"""Flow monitoring (the protocol design's pipeline flow, step 6; rule E-25).

Every `period` the monitor asks every module a running flow spans for its part
(`GetFlowStatus`, through FlowBroker.status, which merges the parts into one Flow: the worst
state, each connection as its target's module measures it, fps and latency at the last
connection, bandwidth summed over the connections). A part whose module is not READY (killed,
restarting) makes the merged flow ERROR, naming the module.

Into the event stream it publishes, about the module holding the flow's sink:
- `FLOW_STATE_CHANGED` (an `ERROR` severity when the flow turns ERROR) each time the merged
  state changes, with `details` old_state, new_state, error_message, fps, bitrate_bps,
  bandwidth_bps, latency_ms;
- a `Metrics` sample (flow_id set; fps, bitrate_bps, bandwidth_bps, latency_ms, frames,
  dropped_frames, restarts, bytes_written, state) every `sample_every` seconds per flow.
So a subscriber sees a flow turn ERROR and recover without polling anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from mediagrid.reference.orchestrator.broker.calls import Broker
from mediagrid.reference.orchestrator.broker.flows import FlowBroker
from mediagrid.v1 import event_pb2, pipeline_pb2

log = logging.getLogger("mediagrid.orchestrator")


class Publisher(Protocol):
    def publish(self, module_id: str, event: event_pb2.Event) -> Awaitable[object]: ...

    def publish_metrics(self, module_id: str,
                        metrics: event_pb2.Metrics) -> Awaitable[object]: ...


@dataclass(frozen=True)
class MonitorSettings:
    period: float = 1.0  # GetFlowStatus on every module of each running flow
    sample_every: float = 5.0  # a Metrics sample per flow into the event stream
    poll_timeout: float = 2.0  # deadline of one flow's GetFlowStatus calls
    fresh_for: float = 3.0  # a sample older than this is not served as the flow's status


def flow_state(state: int) -> str:
    return pipeline_pb2.FlowState.Name(state).removeprefix("FLOW_STATE_")


def figures(flow: pipeline_pb2.Flow) -> dict[str, float | int]:
    """The flow's live numbers: at its last connection (what reaches the sink)."""
    last = flow.connections[-1].metrics if flow.connections else pipeline_pb2.ConnectionMetrics()
    return {"fps": round(flow.metrics.fps, 2), "bitrate_bps": last.bitrate_bps,
            "bandwidth_bps": flow.status.bandwidth_usage, "latency_ms": flow.status.latency_ms,
            "frames": flow.metrics.frames, "dropped_frames": flow.metrics.dropped_frames,
            "restarts": flow.metrics.restarts, "bytes_written": flow.metrics.bytes_written}


class FlowMonitor:
    def __init__(self, broker: Broker, publisher: Publisher,
                 settings: MonitorSettings = MonitorSettings(), *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.b = broker
        self.flows = FlowBroker(broker)
        self.publisher = publisher
        self.settings = settings
        self.clock = clock
        self._latest: dict[str, tuple[float, pipeline_pb2.Flow]] = {}
        self._sampled: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None
        self.listeners: list[Callable[[pipeline_pb2.Flow, str], None]] = []

    def latest(self, flow_id: str) -> pipeline_pb2.Flow | None:
        """The flow as last polled, if fresh."""
        seen = self._latest.get(flow_id)
        if seen is None or self.clock() - seen[0] > self.settings.fresh_for:
            return None
        return seen[1]

    def running(self) -> list[pipeline_pb2.Flow]:
        return [flow for _, flow in self._latest.values()]

    async def poll_once(self) -> None:
        records = await self.b.store.flows()
        live = {r.flow_id for r in records}
        for gone in set(self._latest) - live:  # stopped or deleted meanwhile
            _, last = self._latest.pop(gone)
            self._sampled.pop(gone, None)
            stopped = pipeline_pb2.Flow()
            stopped.CopyFrom(last)
            stopped.status.state = pipeline_pb2.FLOW_STATE_STOPPED
            stopped.status.error_message = ""
            await self._changed(stopped, last.status.state, _sink_module(last, {}))
        polled = await asyncio.gather(*(self._poll(r.flow_id) for r in records),
                                      return_exceptions=True)
        for record, flow in zip(records, polled, strict=True):
            if isinstance(flow, BaseException):
                log.warning("could not poll flow %s: %s", record.flow_id, flow)
                continue
            await self._observe(flow, sink=_sink_module(flow, record.parts))

    async def _poll(self, flow_id: str) -> pipeline_pb2.Flow:
        return await self.flows.status(flow_id, self.settings.poll_timeout)

    async def _observe(self, flow: pipeline_pb2.Flow, sink: str) -> None:
        now = self.clock()
        before = self._latest.get(flow.id)
        self._latest[flow.id] = (now, flow)
        old = before[1].status.state if before is not None else 0
        if flow.status.state != old:
            await self._changed(flow, old, sink)
        if now - self._sampled.get(flow.id, -1e18) >= self.settings.sample_every:
            self._sampled[flow.id] = now
            await self._sample(flow, sink)

    async def _changed(self, flow: pipeline_pb2.Flow, old: int, sink: str) -> None:
        new = flow.status.state
        for listener in list(self.listeners):
            listener(flow, flow_state(old))
        error = new == pipeline_pb2.FLOW_STATE_ERROR
        why = f": {flow.status.error_message}" if flow.status.error_message else ""
        event = event_pb2.Event(
            type=event_pb2.EVENT_TYPE_FLOW_STATE_CHANGED, flow_id=flow.id,
            severity=event_pb2.EVENT_SEVERITY_ERROR if error else event_pb2.EVENT_SEVERITY_INFO,
            message=f"flow {flow.id}: {flow_state(old)} -> {flow_state(new)}{why}",
            details={"old_state": flow_state(old), "new_state": flow_state(new),
                     "error_message": flow.status.error_message,
                     **{k: str(v) for k, v in figures(flow).items()}})
        await self._publish(self.publisher.publish(sink, event))

    async def _sample(self, flow: pipeline_pb2.Flow, sink: str) -> None:
        sample = event_pb2.Metrics(module_id=sink, flow_id=flow.id)
        for key, value in figures(flow).items():
            if isinstance(value, float):
                sample.metrics[key].double_value = value
            else:
                sample.metrics[key].int_value = value
        sample.metrics["state"].string_value = flow_state(flow.status.state)
        await self._publish(self.publisher.publish_metrics(sink, sample))

    async def _publish(self, step: Awaitable[object]) -> None:
        try:
            await step
        except Exception:  # the log failing must not stop monitoring
            log.exception("could not write a flow report to the event log")

    async def _run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except Exception:
                log.exception("flow monitoring failed; trying again")
            await asyncio.sleep(self.settings.period)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(),
                                                                name="flow-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _sink_module(flow: pipeline_pb2.Flow, parts: dict[str, str]) -> str:
    """The module the flow's reports are about: the one holding its sink."""
    if flow.connections:
        return flow.connections[-1].target_module_id
    return sorted(parts)[0] if parts else "orchestrator"


__all__ = ["FlowMonitor", "MonitorSettings"]
