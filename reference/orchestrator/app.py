"""The orchestrator assembled: state file, event log, server, discovery and one supervisor per
module.

    orchestrator = Orchestrator(OrchestratorSettings(module_dirs=(Path("examples"),)))
    await orchestrator.start()      # serves, starts every valid module found
    ...
    await orchestrator.stop()       # every module by the shutdown ladder, then the server

`mediagrid up` (command.py) runs it in the foreground. Tests and benchmarks run it in-process
and may pass their own event bus, clock and random source.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import IO, TYPE_CHECKING, Any

from mediagrid.backoff import Clock
from mediagrid.manifest.model import ModuleManifest
from mediagrid.reference.orchestrator import security
from mediagrid.reference.orchestrator.api import OrchestratorApi
from mediagrid.reference.orchestrator.broker.calls import Broker, ModuleLocks
from mediagrid.reference.orchestrator.desired_state import DesiredState
from mediagrid.reference.orchestrator.discovery import RescanResult, compare
from mediagrid.reference.orchestrator.module_events import StateReporter
from mediagrid.reference.orchestrator.modules import ModuleRegistry
from mediagrid.reference.orchestrator.monitoring.flows import FlowMonitor, MonitorSettings
from mediagrid.reference.orchestrator.recovery import Recovery
from mediagrid.reference.orchestrator.server import OrchestratorServer
from mediagrid.reference.orchestrator.settings import OrchestratorSettings, dial_address
from mediagrid.reference.orchestrator.statefile import StateFileLock
from mediagrid.reference.orchestrator.supervision.supervisor import ModuleSupervisor
from mediagrid.v1 import event_pb2

if TYPE_CHECKING:
    from mediagrid.reference.orchestrator.events import EventBus, EventSettings

log = logging.getLogger("mediagrid.orchestrator")


class Orchestrator:
    def __init__(self, settings: OrchestratorSettings, *, bus: EventBus | Any = None,
                 event_settings: EventSettings | None = None, clock: Clock = time.monotonic,
                 rng: random.Random | None = None, out: IO[bytes] | None = None,
                 monitor: MonitorSettings | None = None) -> None:
        self.settings = settings
        self.monitor_settings = monitor or MonitorSettings()
        self.bus = bus
        self._own_bus = bus is None
        self.event_settings = event_settings
        self.clock, self.rng, self.out = clock, rng, out
        self.modules = ModuleRegistry()
        self.reporter = StateReporter(bus)
        self.channel = security.channel_factory(settings)
        self.address = ""
        self.last_scan = RescanResult()
        self._state_lock = StateFileLock(settings.state_path)
        self._rescanning = asyncio.Lock()
        self.store: DesiredState
        self.server: OrchestratorServer
        self.recovery: Recovery
        self.monitor: FlowMonitor

    async def start(self) -> None:
        """Takes the state file, opens the event log, serves, starts the modules. Raises
        SettingsError (bad settings, state file in use) or AddressInUse."""
        self._state_lock.acquire()
        try:
            self.store = await DesiredState.open(self.settings.state_path)
            if self.bus is None:
                from mediagrid.reference.orchestrator.events import EventBus, EventSettings
                self.bus = await EventBus.open(self.settings.state_path,
                                               self.event_settings or EventSettings())
            self.reporter.bus = self.bus
            broker = Broker(self.modules, self.store, ModuleLocks(), self.settings.call_timeout)
            self.recovery = Recovery(broker, self._warn)
            self.monitor = FlowMonitor(broker, self.bus, self.monitor_settings)
            api = OrchestratorApi(broker, self.bus, self.rescan, self.monitor.latest)
            self.server = OrchestratorServer(self.settings, api, self.bus.servicer())
            port = await self.server.start()
        except BaseException:
            await self._close_state()
            raise
        self.address = dial_address(self.settings.host, port)
        await self.rescan()
        self.monitor.start()

    async def rescan(self) -> RescanResult:
        """Scans the module folders again: starts new modules, retires removed ones (the
        shutdown ladder) and replaces changed ones. Invalid files are reported and skipped."""
        async with self._rescanning:
            running = {s.id: s.manifest for s in self.modules}
            result = await asyncio.to_thread(compare, self.settings.module_dirs, running)
            for problem in result.problems:
                log.warning("skipped: %s", problem)
            retired = [self.modules.remove(m) for m in
                       [*result.removed, *(m.id for m in result.changed)]]
            await asyncio.gather(*(s.stop("its module.yaml was removed or changed")
                                   for s in retired if s is not None))
            for manifest in [*result.changed, *result.added]:
                self._supervise(manifest)
            self.last_scan = result
            return result

    def _supervise(self, manifest: ModuleManifest) -> None:
        supervisor = ModuleSupervisor(
            manifest, settings=self.settings, orchestrator_address=self.address,
            reporter=self.reporter, recover=self.recovery.recover, channel=self.channel,
            clock=self.clock, rng=self.rng, out=self.out)
        self.modules.add(supervisor)
        supervisor.start()

    async def _warn(self, module_id: str, message: str) -> None:
        """Something of a module's desired state could not be re-created: a WARNING event."""
        supervisor = self.modules.find(module_id)
        if supervisor is not None:
            self.reporter.say(supervisor.view, message)
        event = event_pb2.Event(type=event_pb2.EVENT_TYPE_WARNING,
                                severity=event_pb2.EVENT_SEVERITY_WARNING,
                                source_module_id=module_id, message=message)
        event.timestamp.GetCurrentTime()
        try:
            await self.bus.publish(module_id, event)
        except Exception:
            log.exception("could not write a warning for %s to the event log", module_id)

    async def stop(self) -> None:
        """Every module by the shutdown ladder (all at once), then the event log (subscribers
        are told, STREAM_SIGNAL_SHUTTING_DOWN), the server and the state file."""
        monitor = getattr(self, "monitor", None)
        if monitor is not None:
            await monitor.stop()
        supervisors = list(self.modules)
        await asyncio.gather(*(s.stop() for s in supervisors))
        for supervisor in supervisors:
            self.modules.remove(supervisor.id)
        try:
            if self.bus is not None and self._own_bus:
                await self.bus.close()
            await self.server.stop()
        finally:
            await self._close_state()

    def kill_now(self) -> None:
        """SIGKILL to every module's process group (the second Ctrl-C)."""
        for supervisor in self.modules:
            supervisor.kill_now()

    async def _close_state(self) -> None:
        store = getattr(self, "store", None)
        if store is not None:
            await store.close()
        self._state_lock.release()
