"""The config service's work (the protocol design's interaction patterns 1 and 5).

1. Subscribe to the event stream (MODULE_STATE_CHANGED only) at its live end, then list the
   modules: every configurable module that is READY now, and every one that becomes READY
   later (a start, a crash, a restart: each new instance starts from its defaults), is
   configured.
2. Configuring a module: dial `ModuleInfo.grpc_address` directly, read `GetConfigSchema`
   (kept for the log) and `GetConfig`'s revision, `ApplyConfig` with that revision as
   `expected_revision`. ABORTED (someone changed it meanwhile): read the revision again and
   retry, with the project's backoff. The module confirms with its own report (C-6).
3. A configuration the module refuses (INVALID_ARGUMENT, FAILED_PRECONDITION) becomes an
   ERROR event in the event stream, from the service (header module_id "config"), with the
   module's reason in `details` (module_id, code, reason); an applied one an INFO event.
The stream ending (the orchestrator restarting) is followed by a new subscription from the
last cursor, and the modules are listed again: configuring twice changes nothing (C-10).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import grpc

from mediagrid.backoff import REPORT_RETRY, BackoffPolicy
from mediagrid.reference.services.config.configs import Configs
from mediagrid.v1 import (
    config_pb2,
    config_pb2_grpc,
    event_pb2,
    event_pb2_grpc,
    module_pb2,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

log = logging.getLogger("mediagrid.config")
SERVICE_ID = "config"
ABORTED_RETRY = BackoffPolicy(initial=0.05, multiplier=2.0, max=1.0, jitter=0.2)
MAX_ABORTED = 8
CALL_TIMEOUT = 10.0
REFUSED = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.FAILED_PRECONDITION)


@dataclass
class Outcome:
    module_id: str
    applied: bool
    revision: int = 0
    code: str = ""
    reason: str = ""


class ConfigService:
    def __init__(self, configs: Configs, orchestrator: grpc.aio.Channel, *,
                 metadata: tuple[tuple[str, str], ...] = (),
                 dial: Callable[[str], grpc.aio.Channel] = grpc.aio.insecure_channel) -> None:
        self.configs = configs
        self.channel = orchestrator
        self.stub = orchestrator_pb2_grpc.OrchestratorServiceStub(orchestrator)
        self.events = event_pb2_grpc.EventServiceStub(orchestrator)
        self.metadata = metadata
        self.dial = dial
        self.instance_id = str(uuid.uuid4())
        self.sequence = 0
        self.outcomes: list[Outcome] = []
        self._busy: dict[str, asyncio.Task[None]] = {}

    async def run(self) -> None:
        """Runs until cancelled, subscribing again whenever the stream ends."""
        cursor = ""
        delays = REPORT_RETRY.delays()
        while True:
            try:
                cursor = await self._follow(cursor)
                delays = REPORT_RETRY.delays()
            except grpc.aio.AioRpcError as exc:
                if exc.code() is grpc.StatusCode.OUT_OF_RANGE:
                    cursor = ""  # resync: list the modules again and follow the live end
                log.info("event stream ended (%s); subscribing again", exc.code().name)
            await asyncio.sleep(next(delays))

    async def _follow(self, cursor: str) -> str:
        request = orchestrator_pb2.SubscribeToEventsRequest(since_cursor=cursor,
                                                            subscriber="config-service")
        request.filter.event_types.append(event_pb2.EVENT_TYPE_MODULE_STATE_CHANGED)
        stream = self.stub.SubscribeToEvents(request, metadata=self.metadata)
        listed = False
        async for message in stream:
            cursor = message.resume_cursor or cursor
            if not listed:  # subscribed: now nothing READY from here on can be missed
                listed = True
                await self.configure_ready_modules()
            for envelope in message.envelopes:
                event = envelope.report.event
                if event.details.get("new_state") == "READY" and \
                        event.details.get("old_state") != "READY":
                    self.configure_soon(envelope.report.header.module_id)
            if message.signal:
                break
        return cursor

    async def configure_ready_modules(self) -> None:
        token = ""
        while True:
            request = orchestrator_pb2.ListModulesRequest()
            request.page.page_token = token
            page = await self.stub.ListModules(request, timeout=CALL_TIMEOUT,
                                               metadata=self.metadata)
            for info in page.modules:
                if info.status.state == module_pb2.MODULE_STATE_READY:
                    self.configure_soon(info.id)
            token = page.next_page_token
            if not token:
                return

    def configure_soon(self, module_id: str) -> None:
        """Configures the module in the background; one configuration at a time per module."""
        if module_id not in self.configs.modules:
            return
        running = self._busy.get(module_id)
        if running is not None and not running.done():
            running.add_done_callback(lambda _: self.configure_soon(module_id))
            return
        self._busy[module_id] = asyncio.get_running_loop().create_task(
            self.configure(module_id), name=f"configure-{module_id}")

    async def configure(self, module_id: str) -> None:
        try:
            outcome = await self._configure(module_id)
        except grpc.aio.AioRpcError as exc:
            # Unreachable or not READY again: its next READY brings us back.
            log.warning("could not configure %s: %s: %s", module_id, exc.code().name,
                        exc.details())
            return
        self.outcomes.append(outcome)
        await self._report(outcome)

    async def _configure(self, module_id: str) -> Outcome:
        info = (await self.stub.GetModule(orchestrator_pb2.GetModuleRequest(module_id=module_id),
                                          timeout=CALL_TIMEOUT, metadata=self.metadata)).module
        wanted = self.configs.modules[module_id]
        if not info.configurable:
            return Outcome(module_id, False, code="FAILED_PRECONDITION",
                           reason=f"module {module_id!r} is not configurable (its module.yaml"
                                  " has no `configurable: true`): remove it from the config file")
        async with self.dial(info.grpc_address) as channel:
            module = config_pb2_grpc.ConfigurableModuleServiceStub(channel)
            schema = await module.GetConfigSchema(config_pb2.GetConfigSchemaRequest(),
                                                  timeout=CALL_TIMEOUT, metadata=self.metadata)
            keys = sorted(json.loads(schema.json_schema or "{}").get("properties", {}))
            log.info("%s takes %s", module_id, ", ".join(keys) or "no declared keys")
            delays = ABORTED_RETRY.delays()
            for _ in range(MAX_ABORTED):
                revision = (await module.GetConfig(config_pb2.GetConfigRequest(),
                                                   timeout=CALL_TIMEOUT,
                                                   metadata=self.metadata)).revision
                try:
                    applied = await module.ApplyConfig(config_pb2.ApplyConfigRequest(
                        config=wanted, expected_revision=revision), timeout=CALL_TIMEOUT,
                        metadata=self.metadata)
                    return Outcome(module_id, True, applied.revision)
                except grpc.aio.AioRpcError as exc:
                    if exc.code() in REFUSED:
                        return Outcome(module_id, False, code=exc.code().name,
                                       reason=exc.details() or "")
                    if exc.code() is not grpc.StatusCode.ABORTED:
                        raise
                await asyncio.sleep(next(delays))  # changed meanwhile: read it again
        return Outcome(module_id, False, code="ABORTED",
                       reason=f"the configuration kept changing under {MAX_ABORTED} tries")

    async def _report(self, outcome: Outcome) -> None:
        self.sequence += 1
        if outcome.applied:
            event = event_pb2.Event(type=event_pb2.EVENT_TYPE_INFO,
                                    severity=event_pb2.EVENT_SEVERITY_INFO,
                                    message=f"configured module {outcome.module_id}: revision"
                                            f" {outcome.revision}")
        else:
            event = event_pb2.Event(type=event_pb2.EVENT_TYPE_ERROR,
                                    severity=event_pb2.EVENT_SEVERITY_ERROR,
                                    message=f"module {outcome.module_id} refused its"
                                            f" configuration: {outcome.code}: {outcome.reason}")
        event.id = f"config-{self.instance_id}-{self.sequence}"
        event.source_module_id = SERVICE_ID
        event.details.update(module_id=outcome.module_id, code=outcome.code or "OK",
                             reason=outcome.reason, revision=str(outcome.revision),
                             file=str(self.configs.path))
        event.timestamp.GetCurrentTime()
        request = event_pb2.ReportEventRequest(event=event)
        request.header.module_id, request.header.instance_id = SERVICE_ID, self.instance_id
        request.header.sequence = self.sequence
        log.info("%s", event.message)
        for delay in REPORT_RETRY.delays():
            try:
                await self.events.ReportEvent(request, timeout=CALL_TIMEOUT,
                                              metadata=self.metadata)
                return
            except grpc.aio.AioRpcError as exc:
                if exc.code() in REFUSED:
                    log.error("the orchestrator refused the report: %s", exc.details())
                    return
            await asyncio.sleep(delay)
