"""Applying a stack to a running orchestrator, as any service would: through its API.

1. wait until the modules the stack's entities live in are READY;
2. create each entity (entity id and request_id from the stack, so applying again, or after a
   restart with the same state file, finds what exists instead of making it twice);
3. create each pipeline (CreatePipeline with the stack's request_id `stack:<id>`: a repeat
   returns the pipeline already there);
4. read back where the media goes: each recording's file and each display's preview URL
   (their entities' `file` and `preview_url` metrics), once their flows are running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from mediagrid.reference.stacks.model import Stack, StackEntity, expand
from mediagrid.v1 import (
    common_pb2,
    entity_pb2,
    module_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

op = orchestrator_pb2
Say = Callable[[str], None]


class ApplyError(Exception):
    """A step of the stack could not be made; the message names it and the module's answer."""


@dataclass
class Applied:
    pipelines: dict[str, list[str]] = field(default_factory=dict)  # id -> plan lines
    recordings: list[str] = field(default_factory=list)
    previews: list[str] = field(default_factory=list)


def media_type(media: str) -> int:
    return int(common_pb2.MediaType.Value(f"MEDIA_TYPE_{media.upper()}"))


class StackApplier:
    def __init__(self, stack: Stack, stub: orchestrator_pb2_grpc.OrchestratorServiceStub, *,
                 metadata: tuple[tuple[str, str], ...] = (), cwd: Path | None = None,
                 say: Say = lambda text: None) -> None:
        self.stack = stack
        self.stub = stub
        self.metadata = metadata
        self.cwd = cwd or Path.cwd()
        self.say = say

    async def apply(self, ready_within: float = 60.0) -> Applied:
        await self.wait_ready({e.module for e in self.stack.entities}, ready_within)
        for entity in self.stack.entities:
            await self.create(entity)
        applied = Applied()
        for pipeline in self.stack.pipelines:
            source = self.stack.entity(pipeline.source)
            request = op.CreatePipelineRequest(
                request_id=f"stack:{pipeline.id}", pipeline_id=pipeline.id,
                name=pipeline.name, media_type=media_type(source.media), start=pipeline.start,
                transport_protocol=pipeline.transport,
                source=self.ref(pipeline.source), sink=self.ref(pipeline.sink),
                via=[self.ref(v) for v in pipeline.via])
            _quality(request.quality, pipeline.quality, source.media)
            try:
                made = await self.stub.CreatePipeline(request, timeout=60,
                                                      metadata=self.metadata)
            except grpc.aio.AioRpcError as exc:
                raise ApplyError(f"pipeline {pipeline.id!r}: {exc.code().name}:"
                                 f" {exc.details()}") from None
            applied.pipelines[pipeline.id] = list(made.plan)
        return applied

    def ref(self, entity_id: str) -> op.EntityRef:
        return op.EntityRef(module_id=self.stack.entity(entity_id).module, entity_id=entity_id)

    async def wait_ready(self, module_ids: set[str], within: float) -> None:
        deadline = time.monotonic() + within
        while True:
            states = {}
            for module_id in sorted(module_ids):
                info = (await self.stub.GetModule(op.GetModuleRequest(module_id=module_id),
                                                  timeout=10, metadata=self.metadata)).module
                states[module_id] = info
            waiting = [m for m, i in states.items()
                       if i.status.state != module_pb2.MODULE_STATE_READY]
            if not waiting:
                return
            if time.monotonic() > deadline:
                why = "; ".join(f"{m}: {module_pb2.ModuleState.Name(states[m].status.state)}"
                                f" {states[m].status.error_message or states[m].last_error}"
                                for m in waiting)
                raise ApplyError(f"modules not READY after {within:g} s: {why}")
            await asyncio.sleep(0.2)

    async def create(self, entity: StackEntity) -> None:
        request = op.OrchestratorServiceCreateEntityRequest(module_id=entity.module)
        r = request.request
        r.entity_type, r.entity_id, r.name = entity.type, entity.id, entity.name
        r.request_id, r.media_type = f"stack:{entity.id}", media_type(entity.media)
        r.config.update({k: expand(v, self.stack.path.parent, self.cwd)
                         for k, v in entity.config.items()})
        try:
            await self.stub.CreateEntity(request, timeout=30, metadata=self.metadata)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is grpc.StatusCode.ALREADY_EXISTS:
                raise ApplyError(
                    f"entity {entity.id!r}: the state file holds it with other settings"
                    f" ({exc.details()}): use another --state file, or destroy it first"
                ) from None
            raise ApplyError(f"entity {entity.id!r} in module {entity.module!r}:"
                             f" {exc.code().name}: {exc.details()}") from None

    async def outputs(self, within: float = 20.0) -> Applied:
        """Each recording's file and each preview's URL, waiting up to `within` seconds for
        the modules to say (a recorder names its file when its flow starts)."""
        found = Applied()
        wanted = [(e, key) for e in self.stack.entities
                  for key in ("file", "preview_url") if _says(e, key)]
        deadline = time.monotonic() + within
        for entity, key in wanted:
            while True:
                value = await self._metric(entity, key)
                if value or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            if value:
                (found.recordings if key == "file" else found.previews).append(value)
        return found

    async def _metric(self, entity: StackEntity, key: str) -> str:
        request = op.OrchestratorServiceGetEntityStatusRequest(
            module_id=entity.module, request=entity_pb2.GetEntityStatusRequest(
                entity_id=entity.id))
        try:
            status = (await self.stub.GetEntityStatus(request, timeout=10,
                                                      metadata=self.metadata)).response.status
        except grpc.aio.AioRpcError:
            return ""
        value = status.metrics.get(key)
        return value.string_value if value is not None else ""


def _says(entity: StackEntity, key: str) -> bool:
    """Which entity types name an output: the reference recorder and display."""
    return (key == "file" and entity.type == "file" and "path" in entity.config) or \
        (key == "preview_url" and entity.type == "display")


def _quality(quality: common_pb2.QualityProfile, wanted: dict[str, object], media: str) -> None:
    if wanted.get("codec"):
        if media == "video":
            quality.video_codec = str(wanted["codec"])
        else:
            quality.audio_codec = str(wanted["codec"])
    if wanted.get("size"):
        width, height = str(wanted["size"]).split("x")
        quality.resolution.width, quality.resolution.height = int(width), int(height)
    if wanted.get("bitrate"):
        text = str(wanted["bitrate"])
        scale = {"k": 1000, "M": 1_000_000}.get(text[-1], 1)
        quality.bitrate = int(float(text.rstrip("kM")) * scale)
    if wanted.get("framerate"):
        quality.framerate = int(str(wanted["framerate"]))
