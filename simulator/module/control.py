"""The control RPC of a simulated module, on its own gRPC port beside the mediagrid services:
`mediagrid.simulator.v1.SimulatorControl`, whose messages are `google.protobuf.Struct`s (JSON
objects), so grpcurl and any gRPC client can drive it without generated code:

    GetState({})                     -> its state, entities, connections, flows, faults, counters
    SetFaults({"faults": [...], ...}) -> puts a fault set in force (the scenario's switchable
                                        keys: start, health, memory, reports, faults)
    ClearFaults({})                  -> a well-behaved module again

    grpcurl -plaintext -d '{"faults": [{"method": "CreateEntity", "error": "UNAVAILABLE"}]}' \\
        127.0.0.1:50051 mediagrid.simulator.v1.SimulatorControl/SetFaults

The service is described to reflection (rule H-4: every service served is listed) by a file
descriptor built here and added to the default pool. A token configured for the module
(MEDIAGRID_TOKEN) is not required here: the control RPC belongs to the test harness.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, struct_pb2

from mediagrid import sdk
from mediagrid.simulator.documents import ScenarioError
from mediagrid.simulator.module.faults import FaultEngine
from mediagrid.simulator.module.scenario import FaultSet, check_faults
from mediagrid.v1 import pipeline_pb2

PACKAGE = "mediagrid.simulator.v1"
SERVICE = f"{PACKAGE}.SimulatorControl"
METHODS = ("GetState", "SetFaults", "ClearFaults")


@cache
def register_descriptor() -> None:
    """Adds mediagrid/simulator/v1/control.proto to the default descriptor pool."""
    file = descriptor_pb2.FileDescriptorProto(
        name="mediagrid/simulator/v1/control.proto", package=PACKAGE, syntax="proto3",
        dependency=["google/protobuf/struct.proto"])
    service = file.service.add(name="SimulatorControl")
    for name in METHODS:
        service.method.add(name=name, input_type=".google.protobuf.Struct",
                           output_type=".google.protobuf.Struct")
    descriptor_pool.Default().Add(file)


def to_struct(value: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(value)
    return out


def state_of(runtime: sdk.ModuleRuntime, engine: FaultEngine) -> dict[str, Any]:
    """What the module holds right now (the chaos runner's convergence check reads it)."""
    status, reporter = runtime.status, runtime.reporter
    return {
        "module_id": runtime.module_id, "instance_id": status.instance_id, "pid": os.getpid(),
        "state": status.state.name, "health": status.health.name,
        "error_message": status.error_message,
        "entities": [{"id": e.id, "type": e.entity_type.type, "state": e.state.name,
                      "config": dict(e.config)} for e in runtime.entities.registry.values()],
        "connections": [{"id": k.id, "role": k.role.name, "source": k.source_entity_id,
                         "target": k.target_entity_id, "flow": k.flow_id}
                        for k in runtime.pipeline.links.values()],
        "flows": [{"id": f.id, "state": pipeline_pb2.FlowState.Name(f.state),
                   "connections": list(f.connection_ids)}
                  for f in runtime.flows.flows.values()],
        "reports": {"made": reporter.stats.made, "sent": reporter.stats.sent,
                    "dropped": reporter.stats.dropped, "queued": reporter.queued,
                    "sequence": reporter.sequence},
        **engine.snapshot(),
    }


Handler = Callable[[struct_pb2.Struct, grpc.aio.ServicerContext], Awaitable[struct_pb2.Struct]]


def control_service(runtime: Callable[[], sdk.ModuleRuntime], engine: FaultEngine,
                    ) -> tuple[str, Callable[[grpc.aio.Server], None]]:
    """(service name, adder) for ModuleServer's extra_services; `runtime()` gives the
    module's runtime once the server has made it."""
    register_descriptor()

    async def get_state(request: struct_pb2.Struct, context: Any) -> struct_pb2.Struct:
        return to_struct(state_of(runtime(), engine))

    async def set_faults(request: struct_pb2.Struct, context: Any) -> struct_pb2.Struct:
        try:
            faults = check_faults(json_format.MessageToDict(request), "SetFaults")
        except ScenarioError as exc:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        engine.replace(faults)
        return to_struct(engine.snapshot())

    async def clear_faults(request: struct_pb2.Struct, context: Any) -> struct_pb2.Struct:
        engine.replace(FaultSet())
        return to_struct(engine.snapshot())

    handlers: dict[str, Handler] = {"GetState": get_state, "SetFaults": set_faults,
                                    "ClearFaults": clear_faults}

    def add(server: grpc.aio.Server) -> None:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, {
            name: grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=struct_pb2.Struct.FromString,
                response_serializer=struct_pb2.Struct.SerializeToString)
            for name, fn in handlers.items()}),))

    return SERVICE, add


class ControlClient:
    """Drives a simulated module's control RPC (tests, the chaos runner)."""

    def __init__(self, address: str, channel: grpc.aio.Channel | None = None) -> None:
        self.channel = channel or grpc.aio.insecure_channel(address)
        self._calls = {name: self.channel.unary_unary(
            f"/{SERVICE}/{name}", request_serializer=struct_pb2.Struct.SerializeToString,
            response_deserializer=struct_pb2.Struct.FromString) for name in METHODS}

    async def call(self, name: str, body: dict[str, Any] | None = None,
                   deadline: float = 5.0) -> dict[str, Any]:
        reply = await self._calls[name](to_struct(body or {}), timeout=deadline)
        return json_format.MessageToDict(reply)

    async def state(self, deadline: float = 5.0) -> dict[str, Any]:
        return await self.call("GetState", deadline=deadline)

    async def set_faults(self, faults: dict[str, Any], deadline: float = 5.0) -> dict[str, Any]:
        return await self.call("SetFaults", faults, deadline)

    async def clear_faults(self, deadline: float = 5.0) -> dict[str, Any]:
        return await self.call("ClearFaults", deadline=deadline)

    async def close(self) -> None:
        await self.channel.close()
