"""Flows over a module's connections (rules P-8..P-11, P-14, P-19..P-21).

A flow's state follows the contract's diagram and is measured, never assumed (rule P-11):
INITIALIZING until media is measured moving at its last connection in this module, ACTIVE
while it keeps moving, ERROR when a connection failed or was removed, when no movement was
measured for `stall_after` seconds, or when none came within `start_after` seconds of
StartFlow (rule P-21); ACTIVE again when media moves again; STOPPED for good.
"Moving" means `link.update_metrics` reported more frames (or, without a frame count, a
non-zero fps or bitrate), and more bytes when it reports bytes (rule P-22). `watch()` settles
running flows every half second, so a flow turns ERROR (with its ERROR event) on time even
when nobody asks for its status.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mediagrid.sdk import limits
from mediagrid.sdk.entity import Entity, EntityState, Link, LinkMetrics
from mediagrid.sdk.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from mediagrid.sdk.pipeline import check_codecs
from mediagrid.sdk.types import Health
from mediagrid.v1 import common_pb2, event_pb2, pipeline_pb2

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

INITIALIZING = pipeline_pb2.FLOW_STATE_INITIALIZING
ACTIVE = pipeline_pb2.FLOW_STATE_ACTIVE
ERROR = pipeline_pb2.FLOW_STATE_ERROR
STOPPED = pipeline_pb2.FLOW_STATE_STOPPED
LINK_ERROR = pipeline_pb2.CONNECTION_STATE_ERROR
STALL_AFTER = 5.0
START_AFTER = 10.0


@dataclass
class Flow:
    id: str
    name: str
    connection_ids: tuple[str, ...]
    created_at: float
    state: int = INITIALIZING
    health: Health = Health.HEALTHY
    error_message: str = ""
    started_at: float = 0.0
    links: list[Link] = field(default_factory=list)
    lost: str = ""
    """Set when a connection was removed under the flow: it stays ERROR (rule P-14)."""


class FlowManager:
    def __init__(
        self, runtime: ModuleRuntime, stall_after: float = STALL_AFTER,
        start_after: float = START_AFTER,
    ) -> None:
        self.rt = runtime
        self.flows: dict[str, Flow] = {}
        self.stall_after = stall_after
        self.start_after = start_after

    async def start_flow(self, flow_id: str, name: str, connection_ids: list[str]) -> Flow:
        rt = self.rt
        rt.require_ready()
        limits.check_id("flow_id", flow_id)
        limits.check_name("name", name)
        if not connection_ids:
            raise InvalidArgument(
                "connection_ids is empty: list the flow's connections this module serves"
            )
        for n, cid in enumerate(connection_ids):
            limits.check_id(f"connection_ids[{n}]", cid)
            if cid in connection_ids[:n]:
                raise InvalidArgument(
                    f"connection_ids[{n}] repeats {cid!r}: name each connection once (rule P-19)"
                )
        async with rt.mutation():
            flow = self.flows.get(flow_id)
            if flow is not None:
                if flow.state == STOPPED:
                    raise FailedPrecondition(
                        f"flow {flow_id!r} was stopped and flow ids are not reused:"
                        " start the connections under a new flow_id"
                    )
                if flow.connection_ids == tuple(connection_ids):
                    return self.settle(flow)
                raise AlreadyExists(
                    f"flow {flow_id!r} runs connections {', '.join(flow.connection_ids)}, in"
                    " that order: repeat them exactly, or use a new flow_id"
                )
            links = [rt.pipeline.links.require(c, f"connection_ids[{n}]")
                     for n, c in enumerate(connection_ids)]
            for link in links:
                if link.flow_id:
                    raise FailedPrecondition(
                        f"connection {link.id!r} already runs in flow {link.flow_id!r}:"
                        " stop that flow first"
                    )
            flow = Flow(flow_id, name or flow_id, tuple(connection_ids), rt.clock(), links=links)
            await self._start_links(flow)
            self.flows[flow_id] = flow
            flow.started_at = rt.clock()
            rt.reporter.flow_started(flow_id, connection_ids, f"flow {flow.name} started")
            for link in links:
                for entity in link.entities:
                    self._refresh_entity(entity)
            return self.settle(flow)

    async def _start_links(self, flow: Flow) -> None:
        started: list[Link] = []
        try:
            for link in reversed(flow.links):  # downstream first: listeners before senders
                link.flow_id, link.metrics, link.moving_at = flow.id, LinkMetrics(), 0.0
                started.append(link)
                for entity in link.entities:
                    await entity.start(link)
                if link.state != LINK_ERROR:  # ACTIVE once media is measured (link_moving)
                    link.state = pipeline_pb2.CONNECTION_STATE_ESTABLISHED
        except BaseException:
            for link in reversed(started):
                await self.stop_link(link)
            raise

    def get_flow(self, flow_id: str) -> Flow:
        limits.check_id("flow_id", flow_id)
        flow = self.flows.get(flow_id)
        if flow is None:
            raise NotFound(f"flow_id: flow {flow_id!r} does not exist in this module instance")
        return self.settle(flow)

    def settle(self, flow: Flow) -> Flow:
        """Brings the flow's state up to date with what was measured (rule P-11)."""
        if flow.state == STOPPED:
            return flow
        before = flow.state
        failed = next((k for k in flow.links if k.state == LINK_ERROR), None)
        last, now = flow.links[-1], self.rt.clock()
        if flow.lost or failed is not None:
            message = flow.lost or (failed.error_message if failed else "")
            self._set(flow, ERROR, Health.UNHEALTHY, message)
        elif last.moving_at and now - last.moving_at <= self.stall_after:
            self._set(flow, ACTIVE, Health.HEALTHY, "")
        elif last.moving_at or now - flow.started_at > self.start_after:
            self._set(flow, ERROR, Health.UNHEALTHY,
                      f"stalled: no media measured at connection {last.id!r} for"
                      f" {self.stall_after:g} s" if last.moving_at else
                      f"no media arrived: none measured at connection {last.id!r} within"
                      f" {self.start_after:g} s of StartFlow")
            if before != ERROR and self.rt.reporter.known_entity(last.reporting_entity.id):
                self.rt.reporter.event(  # one ERROR event each time the flow turns ERROR (E-19)
                    event_pb2.EVENT_TYPE_ERROR, flow.error_message,
                    entity_id=last.reporting_entity.id, connection_id=last.id, flow_id=flow.id,
                    details=last.ends(),
                )
        else:
            self._set(flow, INITIALIZING, Health.HEALTHY, "")
        return flow

    async def watch(self, period: float = 0.5) -> None:
        """Settles every running flow each `period` seconds, for the life of the module."""
        while True:
            await asyncio.sleep(period)
            for flow in list(self.flows.values()):
                self.settle(flow)

    @staticmethod
    def _set(flow: Flow, state: int, health: Health, message: str) -> None:
        flow.state, flow.health, flow.error_message = state, health, message

    def link_moving(self, link: Link) -> None:
        """Media was measured moving on `link`: a failed link recovers, the flow settles."""
        link.moving_at = self.rt.clock()
        if link.flow_id and link.state in (LINK_ERROR, pipeline_pb2.CONNECTION_STATE_ESTABLISHED):
            link.state = pipeline_pb2.CONNECTION_STATE_ACTIVE
            link.health, link.error_message = Health.HEALTHY, ""
        flow = self.flows.get(link.flow_id)
        if flow is not None:
            self.settle(flow)

    def link_failed(self, link: Link, message: str) -> None:
        link.state = pipeline_pb2.CONNECTION_STATE_ERROR
        link.health, link.error_message = Health.UNHEALTHY, message
        flow = self.flows.get(link.flow_id)
        if flow is not None:
            self.settle(flow)
        entity_id = link.reporting_entity.id
        if self.rt.reporter.known_entity(entity_id):
            self.rt.reporter.event(
                event_pb2.EVENT_TYPE_ERROR, message, entity_id=entity_id,
                connection_id=link.id, flow_id=link.flow_id, details=link.ends(),
            )

    def connection_lost(self, link: Link, message: str) -> None:
        """`link` is being removed under its running flow: the flow turns ERROR for good."""
        flow = self.flows.get(link.flow_id)
        if flow is not None and flow.state != STOPPED:
            flow.lost = message
        self.link_failed(link, message)

    async def stop_flow(self, flow_id: str) -> tuple[Flow, bool]:
        self.rt.require_ready()
        limits.check_id("flow_id", flow_id)
        async with self.rt.mutation():
            return await self.stop_flow_locked(flow_id)

    async def stop_flow_locked(self, flow_id: str) -> tuple[Flow, bool]:
        flow = self.get_flow(flow_id)
        if flow.state == STOPPED:
            return flow, False
        for link in flow.links:
            if link.flow_id == flow_id:
                await self.stop_link(link)
        flow.state = STOPPED
        self.rt.reporter.event(
            event_pb2.EVENT_TYPE_FLOW_STOPPED, f"flow {flow.name} stopped", flow_id=flow_id
        )
        return flow, True

    async def stop_link(self, link: Link) -> None:
        try:
            for entity in reversed(link.entities):  # source first
                await entity.stop(link)
        finally:
            await link._cancel_tasks()
            link.flow_id = ""
            if link.state != pipeline_pb2.CONNECTION_STATE_CLOSED:
                link.state = pipeline_pb2.CONNECTION_STATE_STOPPED
            for entity in link.entities:
                self._refresh_entity(entity)

    @staticmethod
    def state_of(entity: Entity) -> EntityState:
        """ACTIVE while a running flow uses one of its connections, else CONFIGURED (N-14),
        whatever the connection's own state (it may wait for media, or have failed)."""
        active = any(k.flow_id for k in entity.links.values())
        return EntityState.ACTIVE if active else EntityState.CONFIGURED

    def _refresh_entity(self, entity: Entity) -> None:
        if entity.state in (EntityState.ERROR, EntityState.DESTROYED):
            return
        self.rt.entities.set_status(entity, state=self.state_of(entity))

    async def adjust_quality(
        self, flow_id: str, connection_id: str, quality: common_pb2.QualityProfile
    ) -> list[Link]:
        """Rule P-20: every check before any change; the module holding a connection's source
        side applies it (the entity's hook), a target-only module records it."""
        self.rt.require_ready()
        limits.check_id("flow_id", flow_id)
        if connection_id:
            limits.check_id("connection_id", connection_id)
        async with self.rt.mutation():
            flow = self.get_flow(flow_id)
            if flow.state == STOPPED:
                raise FailedPrecondition(f"flow {flow_id!r} is stopped: start a flow first")
            links = [k for k in flow.links if not connection_id or k.id == connection_id]
            if not links:
                raise NotFound(f"connection_id: {connection_id!r} is not in flow {flow_id!r}")
            for link in links:
                merged = common_pb2.QualityProfile()
                merged.CopyFrom(link.quality)
                merge_quality(merged, quality)
                check_codecs(merged, link.media_type, link.source, link.target, link.transport)
                if link.source is not None and not _adjusts(link.source):
                    raise FailedPrecondition(  # before any hook runs: a refusal changes nothing
                        f"connection {link.id!r}: entity type"
                        f" {link.source.entity_type.type!r} cannot change quality on a running"
                        " flow"
                    )
            for link in links:
                if link.source is not None:
                    await link.source.adjust_quality(link, quality)
                merge_quality(link.quality, quality)
                self.rt.reporter.event(
                    event_pb2.EVENT_TYPE_QUALITY_CHANGED, "quality changed",
                    entity_id=link.reporting_entity.id, connection_id=link.id, flow_id=flow_id,
                    details=link.ends(),
                )
            return links

    async def stop_all(self) -> None:
        for flow in list(self.flows.values()):
            if flow.state != STOPPED:
                await self.stop_flow_locked(flow.id)


def _adjusts(entity: Entity) -> bool:
    """Whether the entity's class implements adjust_quality (the default refuses)."""
    return type(entity).adjust_quality is not Entity.adjust_quality


def merge_quality(into: common_pb2.QualityProfile, new: common_pb2.QualityProfile) -> None:
    """Fields of `new` left zero or empty keep their value (rule P-9)."""
    if new.resolution.width:
        into.resolution.width = new.resolution.width
    if new.resolution.height:
        into.resolution.height = new.resolution.height
    for name in ("bitrate", "framerate", "video_codec", "audio_codec"):
        if getattr(new, name):
            setattr(into, name, getattr(new, name))
