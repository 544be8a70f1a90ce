"""Every entity, connection and flow the suite creates is tracked and torn down in reverse
order of creation; names carry a per-run prefix, so leftovers are recognisable. A teardown
call that fails is reported (it is a finding about the module, never silently ignored).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import grpc

from mediagrid.v1 import entity_pb2, pipeline_pb2


def run_prefix() -> str:
    """'cf-' and 6 random characters: valid in an entity id, unique per run."""
    return f"cf-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class Resource:
    kind: str  # entity, connection, flow
    id: str
    check: str  # the check that made it


@dataclass
class TeardownProblem:
    resource: Resource
    status: str
    details: str

    def __str__(self) -> str:
        r = self.resource
        return (f"teardown of {r.kind} {r.id} (made by {r.check}) failed: {self.status} "
                f"{self.details}".strip())


@dataclass
class ResourceTracker:
    prefix: str = field(default_factory=run_prefix)
    resources: list[Resource] = field(default_factory=list)
    problems: list[TeardownProblem] = field(default_factory=list)
    _counter: int = 0

    def name(self, what: str) -> str:
        """A fresh id/name for something the suite makes: 'cf-1a2b3c-flow-7'."""
        self._counter += 1
        return f"{self.prefix}-{what}-{self._counter}"

    def add(self, kind: str, resource_id: str, check: str) -> None:
        if not any(r.kind == kind and r.id == resource_id for r in self.resources):
            self.resources.append(Resource(kind, resource_id, check))

    def forget(self, kind: str, resource_id: str) -> None:
        """The check removed it itself."""
        self.resources = [r for r in self.resources if not (r.kind == kind and r.id == resource_id)]

    def owned_by(self, check: str) -> list[Resource]:
        return [r for r in self.resources if r.check == check]

    async def teardown(self, channel: grpc.aio.Channel, check: str | None = None,
                       deadline: float = 10.0) -> list[TeardownProblem]:
        """Removes (a check's, or every) resource, newest first: flows, then connections,
        then entities fall in the right order because they were made in that order."""
        from mediagrid.v1 import entity_pb2_grpc, pipeline_pb2_grpc

        entities = entity_pb2_grpc.EntityServiceStub(channel)
        pipeline = pipeline_pb2_grpc.PipelineServiceStub(channel)
        calls: dict[str, Callable[[str], Awaitable[object]]] = {
            "flow": lambda i: pipeline.StopFlow(pipeline_pb2.StopFlowRequest(flow_id=i),
                                                timeout=deadline),
            "connection": lambda i: pipeline.DisconnectEntities(
                pipeline_pb2.DisconnectEntitiesRequest(connection_id=i), timeout=deadline),
            "entity": lambda i: entities.DestroyEntity(
                entity_pb2.DestroyEntityRequest(entity_id=i), timeout=deadline),
        }
        found: list[TeardownProblem] = []
        for resource in reversed(list(self.resources)):
            if check is not None and resource.check != check:
                continue
            self.resources.remove(resource)
            try:
                await calls[resource.kind](resource.id)
            except grpc.aio.AioRpcError as exc:
                found.append(TeardownProblem(resource, exc.code().name, exc.details() or ""))
        self.problems.extend(found)
        return found
