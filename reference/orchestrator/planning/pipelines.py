"""CreatePipeline and DeletePipeline (rules P-12, P-13): plan, then build hop by hop through
the brokers, so everything made is desired state that a module restart brings back (H-15).

Building a plan of N hops:
1. create the converters the plan needs (`<pipeline>-c1`, `-c2`... in their modules);
2. connect the hops from the sink upstream (`<pipeline>-1` is the hop leaving the source),
   each through the endpoint exchange of §4.1 (the target's side first);
3. start the flow (id = the pipeline id) from the sinks upstream (FlowBroker).
A step that fails undoes the steps already made, in reverse, and the error names the step;
its status code is the module's (or FAILED_PRECONDITION for no path).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import grpc

from mediagrid.reference.orchestrator.broker.calls import Broker, call
from mediagrid.reference.orchestrator.broker.connections import ConnectionBroker
from mediagrid.reference.orchestrator.broker.entities import EntityBroker, entity_id_of
from mediagrid.reference.orchestrator.broker.flows import FlowBroker, merge
from mediagrid.reference.orchestrator.errors import (
    CallError,
    already_exists,
    failed_precondition,
    invalid,
    not_found,
)
from mediagrid.reference.orchestrator.modules import READY, state_name
from mediagrid.reference.orchestrator.planning.capabilities import (
    Hop,
    Side,
    input_side,
    output_side,
)
from mediagrid.reference.orchestrator.planning.find import media_name
from mediagrid.reference.orchestrator.planning.planner import (
    ConverterOffer,
    NoPath,
    Plan,
    plan,
    through,
)
from mediagrid.reference.orchestrator.planning.records import PipelineRecord, PipelineStore
from mediagrid.sdk.limits import ID_PATTERN
from mediagrid.v1 import common_pb2, entity_pb2, orchestrator_pb2, pipeline_pb2

op = orchestrator_pb2
UNDO_TIMEOUT = 10.0


@dataclass
class Built:
    """What a build made so far, to undo on failure."""

    entities: list[tuple[str, str]] = field(default_factory=list)
    connections: list[str] = field(default_factory=list)  # in the order they were made
    hops: list[str] = field(default_factory=list)  # the connection ids, source to sink
    flow: str = ""


class PipelineBroker:
    def __init__(self, broker: Broker) -> None:
        self.b = broker
        self.entities = EntityBroker(broker)
        self.connections = ConnectionBroker(broker)
        self.flows = FlowBroker(broker)
        self.records = PipelineStore(broker.store)
        self._building = asyncio.Lock()

    # -- create --------------------------------------------------------------------------

    async def create(self, request: op.CreatePipelineRequest,
                     deadline: float) -> op.CreatePipelineResponse:
        end = time.monotonic() + deadline
        pipeline_id = request.pipeline_id or f"pipe-{uuid.uuid4().hex[:12]}"
        _check_form(request, pipeline_id)
        async with self._building:  # one build at a time: ids and repeats stay simple
            if request.request_id:
                first = await self.records.by_request(request.request_id)
                if first is not None and not first.deleted:
                    return await self._repeat(first, request, deadline)
            existing = await self.records.get(pipeline_id)
            if existing is not None and not existing.deleted:
                raise already_exists(f"pipeline_id {pipeline_id!r} is taken: delete it first"
                                     " or use another pipeline_id")
            if await self.b.store.flow(pipeline_id) is not None:
                raise already_exists(f"pipeline_id {pipeline_id!r} is already a flow's id (flow"
                                     " ids are never reused): use another pipeline_id")
            chosen = await self.plan(request)
            built = Built()
            try:
                flow = await self._build(pipeline_id, request, chosen, built, end)
            except (CallError, TimeoutError, asyncio.CancelledError) as exc:
                undone = await asyncio.shield(self._undo(built))
                if isinstance(exc, CallError):
                    raise CallError(exc.code, f"{exc.message} (pipeline {pipeline_id!r}"
                                              f" undone: {undone})") from None
                raise
            text = tuple(h.text() for h in chosen.hops)
            await self.records.put(PipelineRecord(
                pipeline_id, request.request_id, request, tuple(built.entities),
                tuple(built.hops), text, started=request.start))
        return op.CreatePipelineResponse(
            flow=flow, plan=text,
            created_entities=[op.EntityRef(module_id=m, entity_id=e) for m, e in built.entities])

    async def _repeat(self, first: PipelineRecord, request: op.CreatePipelineRequest,
                      deadline: float) -> op.CreatePipelineResponse:
        asked = op.CreatePipelineRequest()
        asked.CopyFrom(request)
        if not asked.pipeline_id:
            asked.pipeline_id = first.request.pipeline_id
        if asked.SerializeToString(deterministic=True) != \
                first.request.SerializeToString(deterministic=True):
            raise already_exists(f"request_id {request.request_id!r} made pipeline"
                                 f" {first.pipeline_id!r} with other arguments: use a new"
                                 " request_id")
        return op.CreatePipelineResponse(
            flow=await self.flow_of(first, deadline), plan=first.plan,
            created_entities=[op.EntityRef(module_id=m, entity_id=e)
                              for m, e in first.created_entities])

    async def plan(self, request: op.CreatePipelineRequest) -> Plan:
        """The plan for a request (FAILED_PRECONDITION when there is no path)."""
        media = await self._media(request)
        source = output_side(*await self._spec(request.source, "source"), media,
                             request.source.entity_id)
        sink = input_side(*await self._spec(request.sink, "sink"), media, request.sink.entity_id)
        codec = (request.quality.video_codec if media == "video" else
                 request.quality.audio_codec)
        try:
            if request.via:
                via = []
                for n, ref in enumerate(request.via):
                    spec, module_id = await self._spec(ref, f"via[{n}]")
                    if spec.kind != "converter":
                        raise invalid(f"via[{n}]: entity {ref.entity_id!r} is a {spec.kind},"
                                      " not a converter: via lists converters only")
                    via.append((input_side(spec, module_id, media, ref.entity_id),
                                output_side(spec, module_id, media, ref.entity_id)))
                hops = through(source, sink, via, codec=codec,
                               transport=request.transport_protocol)
                return Plan(hops, (), 0)
            return plan(source, sink, self.converter_offers(media), codec=codec,
                        transport=request.transport_protocol)
        except NoPath as exc:
            raise failed_precondition(str(exc)) from None

    def converter_offers(self, media: str) -> list[ConverterOffer]:
        offers = []
        for supervisor in self.b.modules:
            view = supervisor.view
            for spec in supervisor.manifest.entity_types:
                if spec.kind == "converter" and media in spec.media_types:
                    offers.append(ConverterOffer(
                        view.id, spec.type, input_side(spec, view.id, media),
                        output_side(spec, view.id, media), view.state == READY,
                        state_name(view.state)))
        return offers

    async def _media(self, request: op.CreatePipelineRequest) -> str:
        if request.media_type:
            return media_name(request.media_type)
        record = await self.b.store.entity(request.source.module_id, request.source.entity_id)
        if record is not None and record.media_type:
            return media_name(record.media_type)
        raise invalid("media_type is UNSPECIFIED and the source's media type is not known to"
                      " the orchestrator: set media_type (VIDEO or AUDIO)")

    async def _spec(self, ref: op.EntityRef, field_name: str) -> tuple:
        """(entity type spec, module id) of an existing entity."""
        supervisor = self.b.modules.ready(ref.module_id, f"{field_name}.module_id")
        record = await self.b.store.entity(ref.module_id, ref.entity_id)
        entity_type = record.entity_type if record is not None and not record.removed else \
            await self._listed_type(supervisor, ref.entity_id, field_name)
        spec = supervisor.manifest.entity_type(entity_type)
        if spec is None:
            raise failed_precondition(f"{field_name}: entity {ref.entity_id!r} has type"
                                      f" {entity_type!r}, which module {ref.module_id!r}'s"
                                      " module.yaml does not declare")
        return spec, ref.module_id

    async def _listed_type(self, supervisor: object, entity_id: str, field_name: str) -> str:
        """The type of an entity made directly on its module (not through us)."""
        token = ""
        while True:
            request = entity_pb2.ListEntitiesRequest()
            request.page.page_size, request.page.page_token = 1000, token
            response = await call(supervisor, "entities", "ListEntities", request,  # type: ignore[arg-type]
                                  self.b.call_timeout)
            for entity in response.entities:
                if entity_id_of(entity) == entity_id:
                    kind = entity.WhichOneof("entity")
                    return str(getattr(entity, kind).type)
            token = response.next_page_token
            if not token:
                raise not_found(f"{field_name}.entity_id: module"
                                f" {supervisor.id!r} holds no entity {entity_id!r}")  # type: ignore[attr-defined]

    async def _build(self, pipeline_id: str, request: op.CreatePipelineRequest, chosen: Plan,
                     built: Built, end: float) -> pipeline_pb2.Flow:
        def left() -> float:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise CallError(grpc.StatusCode.DEADLINE_EXCEEDED,
                                f"the deadline passed while building pipeline {pipeline_id!r}")
            return remaining

        media = chosen.hops[0].producer.media
        media_type = common_pb2.MediaType.Value(f"MEDIA_TYPE_{media.upper()}")
        refs = [request.source]
        for n, offer in enumerate(chosen.converters, start=1):
            create = entity_pb2.CreateEntityRequest(
                entity_type=offer.type, media_type=media_type, entity_id=f"{pipeline_id}-c{n}",
                name=f"{request.name or pipeline_id}: converter {n}",
                request_id=f"pipeline:{pipeline_id}:c{n}")
            module_id, response = await self.entities.create(offer.module_id, create, left())
            built.entities.append((module_id, entity_id_of(response.entity)))
            refs.append(op.EntityRef(module_id=module_id, entity_id=entity_id_of(response.entity)))
        refs.extend(request.via)
        refs.append(request.sink)
        ids = [f"{pipeline_id}-{n}" for n in range(1, len(chosen.hops) + 1)]
        built.hops = ids
        connections: dict[str, pipeline_pb2.Connection] = {}
        for n in reversed(range(len(chosen.hops))):  # the sink's hop first
            hop = chosen.hops[n]
            connect = op.OrchestratorServiceConnectEntitiesRequest(
                connection_id=ids[n], source=refs[n], target=refs[n + 1], media_type=media_type,
                transport_protocol="" if hop.transport == "local" else hop.transport)
            connect.quality.CopyFrom(_hop_quality(request.quality, hop, last=n == len(ids) - 1))
            connections[ids[n]] = await self.connections.connect(connect, left())
            built.connections.append(ids[n])
        if request.start:
            flow = await self.flows.start(op.OrchestratorServiceStartFlowRequest(
                flow_id=pipeline_id, name=request.name, connection_ids=ids), left())
            built.flow = pipeline_id
            return flow
        flow = pipeline_pb2.Flow(id=pipeline_id, name=request.name,
                                 connections=[connections[i] for i in ids])
        flow.status.latency_ms = -1
        return flow

    async def _undo(self, built: Built) -> str:
        """Removes what a failed build made, newest first; says what it removed."""
        done = []
        if built.flow:
            await self._quietly(self.flows.stop(built.flow, UNDO_TIMEOUT))
            done.append(f"flow {built.flow} stopped")
        for connection_id in reversed(built.connections):
            await self._quietly(self.connections.disconnect(connection_id, UNDO_TIMEOUT))
        if built.connections:
            done.append(f"connections {', '.join(reversed(built.connections))} removed")
        for module_id, entity_id in reversed(built.entities):
            await self._destroy(module_id, entity_id)
        if built.entities:
            done.append(f"converters {', '.join(e for _, e in reversed(built.entities))}"
                        " destroyed")
        return "; ".join(done) or "nothing had been made"

    async def _quietly(self, step: object) -> None:
        try:
            await step  # type: ignore[misc]
        except CallError:
            pass  # the module is gone: its re-creation skips what desired state dropped

    async def _destroy(self, module_id: str, entity_id: str) -> None:
        module = self.b.modules.find(module_id)
        if module is not None and module.view.state == READY:
            try:
                await self.entities.destroy(module_id, entity_pb2.DestroyEntityRequest(
                    entity_id=entity_id), UNDO_TIMEOUT)
                return
            except CallError:
                pass
        await self.b.store.remove_entity(module_id, entity_id)  # not re-created on restart

    # -- delete and read -----------------------------------------------------------------

    async def delete(self, pipeline_id: str, deadline: float) -> op.DeletePipelineResponse:
        if not pipeline_id:
            raise invalid("pipeline_id is empty: name the pipeline (ListFlows shows them)")
        async with self._building:
            record = await self.records.get(pipeline_id)
            if record is None:
                raise not_found(f"pipeline_id: no pipeline {pipeline_id!r} was created through"
                                " this orchestrator (ListFlows shows the flows)")
            if record.deleted:
                return op.DeletePipelineResponse(deleted=False)
            if record.started or await self.b.store.flow(pipeline_id) is not None:
                await self._quietly(self.flows.stop(pipeline_id, deadline))
            for connection_id in reversed(record.connection_ids):
                await self._quietly(self.connections.disconnect(connection_id, deadline))
            for module_id, entity_id in reversed(record.created_entities):
                await self._destroy(module_id, entity_id)
            await self.records.put(PipelineRecord(
                record.pipeline_id, record.request_id, record.request, record.created_entities,
                record.connection_ids, record.plan, record.started, deleted=True))
        return op.DeletePipelineResponse(
            deleted=True, removed_connections=record.connection_ids,
            destroyed_entities=[op.EntityRef(module_id=m, entity_id=e)
                                for m, e in record.created_entities])

    async def flow_of(self, record: PipelineRecord, deadline: float) -> pipeline_pb2.Flow:
        if await self.b.store.flow(record.pipeline_id) is not None:
            return await self.flows.status(record.pipeline_id, deadline)
        connections = [c for c in [await self.b.store.connection(i)
                                   for i in record.connection_ids] if c is not None]
        from mediagrid.reference.orchestrator.desired_state import FlowRecord
        return merge(FlowRecord(record.pipeline_id, record.request.name, record.connection_ids),
                     connections, {})


def _check_form(request: op.CreatePipelineRequest, pipeline_id: str) -> None:
    if not ID_PATTERN.fullmatch(pipeline_id) or len(pipeline_id) > 100:
        raise invalid(f"pipeline_id {pipeline_id!r} is malformed: use lowercase letters, digits,"
                      " '-' and '_', starting with a letter or digit, at most 100 characters")
    for name, ref in (("source", request.source), ("sink", request.sink)):
        if not ref.module_id or not ref.entity_id:
            raise invalid(f"{name} needs module_id and entity_id (ListEntities shows them)")
    if request.source.module_id == request.sink.module_id and \
            request.source.entity_id == request.sink.entity_id:
        raise invalid("source and sink are the same entity: name two entities")


def _hop_quality(wanted: common_pb2.QualityProfile, hop: Hop,
                 last: bool) -> common_pb2.QualityProfile:
    """The last hop carries the quality asked at the sink; every hop its codec."""
    quality = common_pb2.QualityProfile()
    if last:
        quality.CopyFrom(wanted)
    if hop.codec:
        if hop.producer.media == "video":
            quality.video_codec = hop.codec
        else:
            quality.audio_codec = hop.codec
    return quality


__all__ = ["PipelineBroker", "Side"]
