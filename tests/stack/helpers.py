"""Helpers of the stack tests: module.yaml files for pipes.py, and small client calls."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from mediagrid.v1 import common_pb2, orchestrator_pb2

PIPES = Path(__file__).with_name("pipes.py")
VIDEO, AUDIO = common_pb2.MEDIA_TYPE_VIDEO, common_pb2.MEDIA_TYPE_AUDIO
op = orchestrator_pb2
CONFIG = {"type": "object", "properties": {"refuse": {"type": "string"},
                                           "delay": {"type": "string"},
                                           "connect_delay": {"type": "string"}}}
FAST: dict[str, Any] = {
    "startup_timeout": "20s", "health_period": "300ms", "health_timeout": "300ms",
    "restart_backoff": {"initial": "50ms", "multiplier": 2, "max": "200ms", "jitter": 0},
    "shutdown": {"rpc_grace": "2s", "term_grace": "2s"},
}


def kind(kind: str, codecs: list[str], *, media: str = "video", protocols: list[str] | None = None,
         output: list[str] | None = None) -> dict[str, Any]:
    """One entity type of pipes.py."""
    spec: dict[str, Any] = {"kind": kind, "media_types": [media],
                            "protocols": ["mpegts-udp"] if protocols is None else protocols,
                            "codecs": codecs, "config": CONFIG}
    if output is not None:
        spec["output"] = {"codecs": output}
    return spec


def write_pipes(root: Path, module_id: str, types: Mapping[str, dict[str, Any]],
                **extra: Any) -> Path:
    folder = root / module_id
    folder.mkdir(parents=True, exist_ok=True)
    document: dict[str, Any] = {
        "id": module_id, "version": "0.0.1",
        "command": ["{python}", str(PIPES), "module.yaml"],
        "entity_types": [{"type": name, **spec} for name, spec in types.items()],
        "supervision": FAST, **extra,
    }
    (folder / "module.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return folder


def ref(module_id: str, entity_id: str) -> op.EntityRef:
    return op.EntityRef(module_id=module_id, entity_id=entity_id)


async def make(stub: Any, module_id: str, entity_type: str, entity_id: str,
               media_type: int = VIDEO, **config: str) -> None:
    request = op.OrchestratorServiceCreateEntityRequest(module_id=module_id)
    request.request.entity_type, request.request.entity_id = entity_type, entity_id
    request.request.media_type = media_type
    request.request.config.update(config)
    await stub.CreateEntity(request, timeout=20)


async def refused(call: Any, code: grpc.StatusCode) -> str:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    assert caught.value.code() is code, caught.value.details()
    return caught.value.details() or ""
