"""OrchestratorService: the orchestrator's API for services (proto/mediagrid/v1/orchestrator.proto).

Thin: each call finds the module (NOT_FOUND for an unknown id, UNAVAILABLE for one not READY)
and hands over to the brokers (broker/), the supervisors or the event log. A module's own
status code and message are forwarded unchanged.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import grpc

from mediagrid.reference.orchestrator.broker.calls import Broker
from mediagrid.reference.orchestrator.broker.connections import ConnectionBroker
from mediagrid.reference.orchestrator.broker.entities import MAX_PAGE, EntityBroker
from mediagrid.reference.orchestrator.broker.flows import FlowBroker
from mediagrid.reference.orchestrator.broker.listing import Latest, Listing
from mediagrid.reference.orchestrator.errors import CallError, invalid
from mediagrid.reference.orchestrator.planning.find import find_modules
from mediagrid.reference.orchestrator.planning.pipelines import PipelineBroker
from mediagrid.v1 import orchestrator_pb2, orchestrator_pb2_grpc

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.discovery import RescanResult

R = TypeVar("R")
Handler = Callable[..., Awaitable[R]]


class Subscriptions(Protocol):
    def subscribe(self, request: orchestrator_pb2.SubscribeToEventsRequest,
                  context: grpc.aio.ServicerContext
                  ) -> AsyncIterator[orchestrator_pb2.SubscribeToEventsResponse]: ...


def answers(method: Handler[R]) -> Handler[R]:
    """Turns a CallError into the call's status (code and message)."""
    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext) -> R:
        try:
            return await method(self, request, context)
        except CallError as exc:
            await context.abort(exc.code, exc.message)
            raise  # not reached: abort raises
    return wrapper


class OrchestratorApi(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    def __init__(self, broker: Broker, events: Subscriptions,
                 rescan: Callable[[], Awaitable[RescanResult]],
                 latest: Latest = lambda flow_id: None) -> None:
        self.b = broker
        self.modules = broker.modules
        self.events = events
        self.rescan = rescan
        self.entities = EntityBroker(broker)
        self.connections = ConnectionBroker(broker)
        self.flows = FlowBroker(broker)
        self.pipelines = PipelineBroker(broker)
        self.listing = Listing(broker, latest)

    def timeout(self, context: grpc.aio.ServicerContext) -> float:
        remaining = context.time_remaining()
        return self.b.call_timeout if remaining is None else max(0.001, remaining)

    # -- modules -------------------------------------------------------------------------

    @answers
    async def ListModules(self, request: Any, context: Any) -> Any:
        size = request.page.page_size or 100
        if not 0 < size <= MAX_PAGE:
            raise invalid(f"page.page_size {size} is out of range: use 1 to {MAX_PAGE}"
                          " (0 means 100)")
        after = _decode(request.page.page_token)
        views = [s.view for s in self.modules if s.id > after]
        page, rest = views[:size], views[size:]
        return orchestrator_pb2.ListModulesResponse(
            modules=[v.to_proto() for v in page],
            next_page_token=_encode(page[-1].id) if rest else "")

    @answers
    async def GetModule(self, request: Any, context: Any) -> Any:
        view = self.modules.get(request.module_id).view
        return orchestrator_pb2.GetModuleResponse(module=view.to_proto())

    @answers
    async def FindModules(self, request: Any, context: Any) -> Any:
        return find_modules((s.view for s in self.modules), request)

    @answers
    async def RestartModule(self, request: Any, context: Any) -> Any:
        supervisor = self.modules.get(request.module_id)
        await supervisor.restart(request.reason or "RestartModule")
        return orchestrator_pb2.RestartModuleResponse(module=supervisor.view.to_proto())

    @answers
    async def RescanModules(self, request: Any, context: Any) -> Any:
        return (await self.rescan()).to_proto()

    async def SubscribeToEvents(self, request: Any, context: Any) -> Any:
        # aclosing: a subscriber that leaves frees its place (S-7) at once.
        async with contextlib.aclosing(self.events.subscribe(request, context)) as stream:
            async for message in stream:
                yield message

    # -- entities ------------------------------------------------------------------------

    @answers
    async def CreateEntity(self, request: Any, context: Any) -> Any:
        module_id, response = await self.entities.create(
            request.module_id, request.request, self.timeout(context))
        return orchestrator_pb2.OrchestratorServiceCreateEntityResponse(
            module_id=module_id, response=response)

    @answers
    async def ConfigureEntity(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceConfigureEntityResponse(
            response=await self.entities.configure(request.module_id, request.request,
                                                   self.timeout(context)))

    @answers
    async def GetEntityStatus(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceGetEntityStatusResponse(
            response=await self.entities.status(request.module_id, request.request,
                                                self.timeout(context)))

    @answers
    async def DestroyEntity(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceDestroyEntityResponse(
            response=await self.entities.destroy(request.module_id, request.request,
                                                 self.timeout(context)))

    @answers
    async def ListEntities(self, request: Any, context: Any) -> Any:
        entities, token = await self.entities.list(request.module_id, request.request,
                                                   self.timeout(context))
        return orchestrator_pb2.OrchestratorServiceListEntitiesResponse(
            entities=entities, next_page_token=token)

    # -- connections and flows -----------------------------------------------------------

    @answers
    async def ConnectEntities(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceConnectEntitiesResponse(
            connection=await self.connections.connect(request, self.timeout(context)))

    @answers
    async def DisconnectEntities(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceDisconnectEntitiesResponse(
            disconnected=await self.connections.disconnect(request.connection_id,
                                                           self.timeout(context)))

    @answers
    async def StartFlow(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceStartFlowResponse(
            flow=await self.flows.start(request, self.timeout(context)))

    @answers
    async def StopFlow(self, request: Any, context: Any) -> Any:
        flow, stopped = await self.flows.stop(request.flow_id, self.timeout(context))
        return orchestrator_pb2.OrchestratorServiceStopFlowResponse(flow=flow, stopped=stopped)

    @answers
    async def GetFlowStatus(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceGetFlowStatusResponse(
            flow=await self.flows.status(request.flow_id, self.timeout(context)))

    @answers
    async def AdjustQuality(self, request: Any, context: Any) -> Any:
        return orchestrator_pb2.OrchestratorServiceAdjustQualityResponse(
            connections=await self.flows.adjust(request.request, self.timeout(context)))

    # -- pipelines (planning/) -----------------------------------------------------------

    @answers
    async def CreatePipeline(self, request: Any, context: Any) -> Any:
        return await self.pipelines.create(request, self.timeout(context))

    @answers
    async def DeletePipeline(self, request: Any, context: Any) -> Any:
        return await self.pipelines.delete(request.pipeline_id, self.timeout(context))

    @answers
    async def ListConnections(self, request: Any, context: Any) -> Any:
        connections, token = await self.listing.connections(request.page, request.module_id,
                                                            self.timeout(context))
        return orchestrator_pb2.ListConnectionsResponse(connections=connections,
                                                        next_page_token=token)

    @answers
    async def ListFlows(self, request: Any, context: Any) -> Any:
        flows, token = await self.listing.flows(
            request.page, request.include_stopped, await self.pipelines.records.all_flows(),
            self.timeout(context))
        return orchestrator_pb2.ListFlowsResponse(flows=flows, next_page_token=token)


def _encode(module_id: str) -> str:
    return base64.urlsafe_b64encode(module_id.encode()).decode()


def _decode(token: str) -> str:
    if not token:
        return ""
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, binascii.Error):
        raise invalid("page.page_token was not issued by this orchestrator: pass the"
                      " next_page_token of the previous page, or empty for the first") from None

