"""The running process of a module and the channel to it (one per process start)."""

from __future__ import annotations

import grpc

from mediagrid.manifest.process import ChannelFactory, ModuleProcess
from mediagrid.reference.orchestrator.security import metadata
from mediagrid.v1 import entity_pb2_grpc, module_pb2_grpc, pipeline_pb2_grpc


class Instance:
    """`process` from spawn on; the stubs once it answered READY (`open()`)."""

    def __init__(self, process: ModuleProcess, channel: ChannelFactory, token: str) -> None:
        self.process = process
        self.metadata = metadata(token)
        self._factory = channel
        self._channel: grpc.aio.Channel | None = None
        self.module: module_pb2_grpc.ModuleServiceStub
        self.entities: entity_pb2_grpc.EntityServiceStub
        self.pipeline: pipeline_pb2_grpc.PipelineServiceStub

    def open(self) -> None:
        if self._channel is None:
            self._channel = self._factory(self.process.address, ())
            self.module = module_pb2_grpc.ModuleServiceStub(self._channel)
            self.entities = entity_pb2_grpc.EntityServiceStub(self._channel)
            self.pipeline = pipeline_pb2_grpc.PipelineServiceStub(self._channel)

    @property
    def is_open(self) -> bool:
        return self._channel is not None

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            await channel.close()
