"""The config service (reference/services/config/): every configurable module gets its
configuration when it becomes READY and again after it is SIGKILLed and restarted (a new
instance starts from its defaults, C-9); a configuration the module refuses (C-4) surfaces
in the event stream with the module's reason."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import grpc
import yaml

from mediagrid.reference.orchestrator.modules import READY
from mediagrid.v1 import config_pb2, config_pb2_grpc, event_pb2, orchestrator_pb2
from tests.orchestrator.conftest import client, orchestrator, ready, run
from tests.stack.helpers import kind, write_pipes
from tests.support import eventually

op = orchestrator_pb2
SCHEMA = {"type": "object", "additionalProperties": False,
          "properties": {"level": {"type": "string", "enum": ["low", "high"],
                                   "default": "low"}}}


async def config_of(address: str) -> config_pb2.GetConfigResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = config_pb2_grpc.ConfigurableModuleServiceStub(channel)
        return await stub.GetConfig(config_pb2.GetConfigRequest(), timeout=5)


def test_config_service_configures_at_ready_and_again_after_a_restart(tmp_path: Path) -> None:
    mods = tmp_path / "mods"
    for module_id in ("tuned", "stubborn"):
        write_pipes(mods, module_id, {"cam": kind("source", ["h264"])}, configurable=True,
                    config_schema=SCHEMA)
    # Someone else changes this one's configuration just before the service's first
    # ApplyConfig lands: ABORTED (C-5), to be read again and retried.
    write_pipes(mods, "contended", {"cam": kind("source", ["h264"])}, configurable=True,
                config_schema=SCHEMA, env={"CONTEND_ONCE": "level=low"})
    write_pipes(mods, "plain", {"cam": kind("source", ["h264"])})
    configs = tmp_path / "configs.yaml"
    configs.write_text(yaml.safe_dump({"modules": {"tuned": {"level": "high"},
                                                   "stubborn": {"level": "loud"},
                                                   "contended": {"level": "high"}}}))

    async def body() -> None:
        async with orchestrator(tmp_path / "state.sqlite", mods, bus="real") as app, \
                client(app) as stub:
            # Every module is READY before the service starts: it configures what is READY
            # when it subscribes, and (after the SIGKILL below) what becomes READY later.
            await ready(app)
            contended = app.modules.get("contended").view.address
            async with grpc.aio.insecure_channel(contended) as channel:
                await config_pb2_grpc.ConfigurableModuleServiceStub(channel).ApplyConfig(
                    config_pb2.ApplyConfigRequest(config={"level": "high"}), timeout=5)
            service = subprocess.Popen(  # noqa: ASYNC220 - a process the test owns
                [sys.executable, "-m", "mediagrid.reference.services.config",
                 "--orchestrator", app.address, "--config", str(configs)],
                stderr=subprocess.PIPE, text=True)
            try:
                view = app.modules.get("tuned").view
                pid, address = view.pid, view.address  # the view changes with the module
                seen: dict[str, config_pb2.GetConfigResponse] = {}

                async def configured(address: str) -> bool:
                    seen[address] = await config_of(address)
                    return dict(seen[address].config) == {"level": "high"}

                async def until_configured(address: str) -> None:
                    async with asyncio.timeout(30):
                        while not await configured(address):  # noqa: ASYNC110 - polls a process
                            await asyncio.sleep(0.1)

                await until_configured(address)
                assert seen[address].revision == 1

                os.kill(pid, signal.SIGKILL)
                await eventually(lambda: view.pid not in (0, pid) and view.state == READY, 30)
                await until_configured(view.address)  # a new instance: revision 1 again
                assert seen[view.address].revision == 1

                # The refusal, with the module's reason, in the event stream.
                request = op.SubscribeToEventsRequest(since_cursor="0")
                request.filter.module_ids.append("config")
                found: list[event_pb2.Event] = []
                async with asyncio.timeout(30):
                    async for message in stub.SubscribeToEvents(request):
                        found += [e.report.event for e in message.envelopes]
                        if {"stubborn", "contended"} <= {e.details["module_id"] for e in found} \
                                and sum(e.details["module_id"] == "tuned" for e in found) >= 2:
                            break
                refusal = next(e for e in found if e.details["module_id"] == "stubborn")
                assert refusal.type == event_pb2.EVENT_TYPE_ERROR
                assert refusal.details["code"] == "INVALID_ARGUMENT"
                assert "level" in refusal.details["reason"], refusal.details["reason"]
                assert (await config_of(app.modules.get("stubborn").view.address)).revision == 0
                # ABORTED was retried with the revision read again: revision 1 (the test),
                # 2 (the other writer), 3 (the service's conditional apply).
                retried = next(e for e in found if e.details["module_id"] == "contended")
                assert retried.type == event_pb2.EVENT_TYPE_INFO, retried.message
                now = await config_of(contended)
                assert (dict(now.config), now.revision) == ({"level": "high"}, 3)
            finally:
                service.send_signal(signal.SIGTERM)
                _, err = service.communicate(timeout=20)
            assert service.returncode == 0, err

    run(body())
