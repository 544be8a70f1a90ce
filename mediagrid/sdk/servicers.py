"""grpc.aio servicers of the mediagrid services, generic over any module.

Each method checks and translates the request, calls the runtime, and maps an sdk error to
its exact status code. They also run under grpc_testing through `mediagrid.sdk.testing`.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from mediagrid.sdk.convert import connection_message, entity_message, entity_status, flow_message
from mediagrid.sdk.errors import ModuleError
from mediagrid.sdk.runtime import ModuleRuntime
from mediagrid.v1 import (
    config_pb2,
    config_pb2_grpc,
    entity_pb2,
    entity_pb2_grpc,
    event_pb2,
    module_pb2,
    module_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)

log = logging.getLogger("mediagrid.sdk")
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
DEFAULT_GRACE = 5.0


def rpc(method: F) -> F:
    """Turns sdk errors into the status codes of the contract; anything else is INTERNAL."""

    @functools.wraps(method)
    async def wrapper(self: Any, request: Any, context: Any) -> Any:
        try:
            return await method(self, request, context)
        except ModuleError as exc:
            code, details = exc.code, exc.message
        except Exception as exc:
            log.exception("%s failed", method.__name__)
            code, details = grpc.StatusCode.INTERNAL, f"{type(exc).__name__}: {exc}"
        aborted = context.abort(code, details)
        if inspect.isawaitable(aborted):
            await aborted
        return None

    return wrapper  # type: ignore[return-value]


ShutdownCallback = Callable[[float, str], bool]


class ModuleServicer(module_pb2_grpc.ModuleServiceServicer):
    def __init__(self, runtime: ModuleRuntime, on_shutdown: ShutdownCallback) -> None:
        self.rt = runtime
        self.on_shutdown = on_shutdown

    async def HealthCheck(
        self, request: module_pb2.HealthCheckRequest, context: Any
    ) -> module_pb2.HealthCheckResponse:
        rt = self.rt  # a snapshot: no lock, no await (rule H-5)
        response = module_pb2.HealthCheckResponse(
            module_id=rt.module_id, entity_types=rt.entity_type_infos,
            entity_count=len(rt.entities.registry), version=rt.module.version,
        )
        rt.status.to_proto(response.status)
        return response

    @rpc
    async def Shutdown(
        self, request: module_pb2.ShutdownRequest, context: Any
    ) -> module_pb2.ShutdownResponse:
        grace = request.grace_period.ToNanoseconds() / 1e9 if request.HasField(
            "grace_period") else 0.0
        initiated = self.on_shutdown(grace if grace > 0 else DEFAULT_GRACE, request.reason)
        return module_pb2.ShutdownResponse(initiated=initiated)


class EntityServicer(entity_pb2_grpc.EntityServiceServicer):
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime

    @rpc
    async def CreateEntity(
        self, request: entity_pb2.CreateEntityRequest, context: Any
    ) -> entity_pb2.CreateEntityResponse:
        entity, created = await self.rt.entities.create(request)
        return entity_pb2.CreateEntityResponse(
            entity=entity_message(entity, self.rt.module_id), created=created
        )

    @rpc
    async def ConfigureEntity(
        self, request: entity_pb2.ConfigureEntityRequest, context: Any
    ) -> entity_pb2.ConfigureEntityResponse:
        entity = await self.rt.entities.configure(
            request.entity_id, dict(request.config), request.replace
        )
        return entity_pb2.ConfigureEntityResponse(entity=entity_message(entity, self.rt.module_id))

    @rpc
    async def GetEntityStatus(
        self, request: entity_pb2.GetEntityStatusRequest, context: Any
    ) -> entity_pb2.GetEntityStatusResponse:
        self.rt.require_ready()
        entity = self.rt.entities.get(request.entity_id)
        return entity_pb2.GetEntityStatusResponse(
            entity_id=entity.id, status=entity_status(entity)
        )

    @rpc
    async def DestroyEntity(
        self, request: entity_pb2.DestroyEntityRequest, context: Any
    ) -> entity_pb2.DestroyEntityResponse:
        return entity_pb2.DestroyEntityResponse(
            destroyed=await self.rt.entities.destroy(request.entity_id)
        )

    @rpc
    async def ListEntities(
        self, request: entity_pb2.ListEntitiesRequest, context: Any
    ) -> entity_pb2.ListEntitiesResponse:
        entities, token = self.rt.entities.list(
            request.page.page_size, request.page.page_token, request.entity_type
        )
        return entity_pb2.ListEntitiesResponse(
            entities=[entity_message(e, self.rt.module_id) for e in entities],
            next_page_token=token,
        )


class PipelineServicer(pipeline_pb2_grpc.PipelineServiceServicer):
    def __init__(self, runtime: ModuleRuntime) -> None:
        self.rt = runtime

    @rpc
    async def ConnectEntities(
        self, request: pipeline_pb2.ConnectEntitiesRequest, context: Any
    ) -> pipeline_pb2.ConnectEntitiesResponse:
        link = await self.rt.pipeline.connect(request)
        return pipeline_pb2.ConnectEntitiesResponse(connection=connection_message(link))

    @rpc
    async def DisconnectEntities(
        self, request: pipeline_pb2.DisconnectEntitiesRequest, context: Any
    ) -> pipeline_pb2.DisconnectEntitiesResponse:
        return pipeline_pb2.DisconnectEntitiesResponse(
            disconnected=await self.rt.pipeline.disconnect(request.connection_id)
        )

    @rpc
    async def StartFlow(
        self, request: pipeline_pb2.StartFlowRequest, context: Any
    ) -> pipeline_pb2.StartFlowResponse:
        flow = await self.rt.flows.start_flow(
            request.flow_id, request.name, list(request.connection_ids)
        )
        return pipeline_pb2.StartFlowResponse(flow=flow_message(flow))

    @rpc
    async def StopFlow(
        self, request: pipeline_pb2.StopFlowRequest, context: Any
    ) -> pipeline_pb2.StopFlowResponse:
        flow, stopped = await self.rt.flows.stop_flow(request.flow_id)
        return pipeline_pb2.StopFlowResponse(flow=flow_message(flow), stopped=stopped)

    @rpc
    async def GetFlowStatus(
        self, request: pipeline_pb2.GetFlowStatusRequest, context: Any
    ) -> pipeline_pb2.GetFlowStatusResponse:
        self.rt.require_ready()
        return pipeline_pb2.GetFlowStatusResponse(
            flow=flow_message(self.rt.flows.get_flow(request.flow_id))
        )

    @rpc
    async def AdjustQuality(
        self, request: pipeline_pb2.AdjustQualityRequest, context: Any
    ) -> pipeline_pb2.AdjustQualityResponse:
        links = await self.rt.flows.adjust_quality(
            request.flow_id, request.connection_id, request.quality
        )
        return pipeline_pb2.AdjustQualityResponse(
            connections=[connection_message(k) for k in links]
        )


class ConfigServicer(config_pb2_grpc.ConfigurableModuleServiceServicer):
    def __init__(self, runtime: ModuleRuntime) -> None:
        if runtime.config is None:
            raise ValueError("the module is not configurable (configurable: true, config_schema)")
        self.rt = runtime
        self.config = runtime.config

    @rpc
    async def GetConfigSchema(
        self, request: config_pb2.GetConfigSchemaRequest, context: Any
    ) -> config_pb2.GetConfigSchemaResponse:
        self.rt.require_configurable()  # rule C-11
        return config_pb2.GetConfigSchemaResponse(json_schema=self.config.schema_json())

    @rpc
    async def ApplyConfig(
        self, request: config_pb2.ApplyConfigRequest, context: Any
    ) -> config_pb2.ApplyConfigResponse:
        async with self.rt.config_change():
            values, revision, changed = await self.config.apply(
                dict(request.config), replace=request.replace,
                validate_only=request.validate_only, expected=request.expected_revision,
            )
            if changed:  # rules C-6, C-10
                self.rt.reporter.event(
                    event_pb2.EVENT_TYPE_INFO, f"configuration revision {revision}",
                    details={"revision": str(revision)},
                )
        return config_pb2.ApplyConfigResponse(config=self.config.redacted(values),
                                              revision=revision)

    @rpc
    async def GetConfig(
        self, request: config_pb2.GetConfigRequest, context: Any
    ) -> config_pb2.GetConfigResponse:
        self.rt.require_configurable()  # rule C-11
        return config_pb2.GetConfigResponse(
            config=self.config.redacted(), revision=self.config.revision
        )
