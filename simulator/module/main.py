"""The simulated module's process: an SDK module whose entities move real MPEG-TS, with the
scenario's faults in front of every RPC, a control RPC beside the mediagrid services, and a
journal of what the orchestrator acknowledged.

    python -m mediagrid.simulator.module SCENARIO.yaml       (GRPC_PORT, MEDIAGRID_MODULE_ID set)

Exit codes are the contract's (§2.2): 0 after Shutdown or SIGTERM, 2 a bad environment or
scenario, 98 the port is taken; a `crash` fault exits with its own code or SIGKILLs itself.
SIGUSR1 reads the scenario file again and puts its faults in force.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mediagrid import sdk
from mediagrid.sdk.server import ModuleServer
from mediagrid.simulator.documents import ScenarioError
from mediagrid.simulator.module.control import control_service
from mediagrid.simulator.module.entities import SimEntity
from mediagrid.simulator.module.faults import FaultEngine, FaultInterceptor
from mediagrid.simulator.module.journal import Journal
from mediagrid.simulator.module.reports import FaultyReportSender
from mediagrid.simulator.module.scenario import ModuleScenario, load_scenario

log = logging.getLogger("mediagrid.simulator")


def entity_type(spec: Mapping[str, Any]) -> sdk.EntityType:
    """A module.yaml entity type item as the SDK declares it (output defaults to input)."""
    output = spec.get("output")
    protocols, codecs = tuple(spec.get("protocols", ())), tuple(spec.get("codecs", ()))
    return sdk.EntityType(
        type=spec["type"], kind=spec["kind"], media_types=spec["media_types"],
        description=spec.get("description", ""), protocols=protocols, codecs=codecs,
        properties=dict(spec.get("properties", {})), config=spec.get("config"),
        output_protocols=tuple(output.get("protocols", protocols)) if output else (),
        output_codecs=tuple(output.get("codecs", codecs)) if output else (),
    )


def build_module(scenario: ModuleScenario) -> sdk.Module:
    """The SDK module a scenario describes; ValueError names a type the SDK refuses."""
    module = sdk.Module(scenario.id, version=scenario.version, name=f"{scenario.id} (simulated)",
                        entity_types=[entity_type(spec) for spec in scenario.entity_types],
                        config_schema=scenario.config_schema)
    for name in module.entity_types:
        module.entity(name)(type(f"Sim_{name.replace('-', '_')}", (SimEntity,), {}))
    return module


def report_sender(settings: sdk.Settings) -> sdk.GrpcReportSender | None:
    """The SDK's sender to the orchestrator, as ModuleServer would make it."""
    if not settings.orchestrator_address:
        return None
    tls = settings.tls if settings.orchestrator_ca is not None else None
    return sdk.GrpcReportSender(
        settings.orchestrator_address, token=settings.token, ca=settings.orchestrator_ca,
        client_cert=tls.cert if tls else None, client_key=tls.key if tls else None)


async def serve_scenario(scenario: ModuleScenario, env: Mapping[str, str] | None = None) -> int:
    """Runs the simulated module until it is stopped; returns the exit code."""
    try:
        settings = sdk.Settings.from_env(env)
        module = build_module(scenario)
    except sdk.ConfigurationError as exc:
        print(f"{scenario.id}: {exc.message}", file=sys.stderr)
        return sdk.EXIT_CONFIG
    except ValueError as exc:
        print(f"{scenario.path or scenario.id}: entity_types: {exc}", file=sys.stderr)
        return sdk.EXIT_CONFIG
    engine = FaultEngine(scenario.faults, seed=scenario.seed)
    module.on_startup(engine.startup)
    inner = report_sender(settings)
    sender = FaultyReportSender(inner, engine, None) if inner is not None else None
    reporter = sdk.EventReporter(settings.module_id, "", sender=sender)
    server: ModuleServer | None = None
    server = ModuleServer(module, settings, reporter=reporter,
                          interceptors=[FaultInterceptor(engine)],
                          extra_services=[control_service(lambda: server.runtime, engine)])
    runtime = server.runtime
    journal = Journal.from_env(runtime.module_id, runtime.status.instance_id)
    engine.journal = journal
    if sender is not None:
        sender.journal = journal
    _handle_signals(server, engine, scenario.path)
    try:
        await server.start()
    except sdk.PortInUse as exc:
        print(f"{runtime.module_id}: {exc}", file=sys.stderr)
        return sdk.EXIT_PORT_IN_USE
    if journal is not None:
        journal.write("start", pid=os.getpid(), port=server.port, faults=dict(
            scenario.faults.source))
    faults = asyncio.ensure_future(engine.run(runtime))
    try:
        await server.run()
    finally:
        faults.cancel()
        await asyncio.gather(faults, return_exceptions=True)
        if sender is not None:
            await sender.close()
        if journal is not None:
            journal.write("exit", code=0)
            journal.close()
    return sdk.EXIT_OK


def _handle_signals(server: ModuleServer, engine: FaultEngine, path: Path | None) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # from the start: STARTING -> STOPPING too
        loop.add_signal_handler(sig, server.request_shutdown, 5.0, sig.name)

    def reload() -> None:
        if path is None:
            return
        try:
            engine.replace(load_scenario(path).faults)
            log.info("faults read again from %s", path)
        except ScenarioError as exc:
            print(f"SIGUSR1: {path} is invalid, faults unchanged:\n{exc}", file=sys.stderr)

    loop.add_signal_handler(signal.SIGUSR1, reload)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mediagrid.simulator.module SCENARIO.yaml", file=sys.stderr)
        return sdk.EXIT_CONFIG
    try:
        scenario = load_scenario(args[0])
    except ScenarioError as exc:
        print(f"invalid scenario:\n{exc}", file=sys.stderr)
        return sdk.EXIT_CONFIG
    return run(scenario)


def run(scenario: ModuleScenario, env: Mapping[str, str] | None = None) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        return asyncio.run(serve_scenario(scenario, env))
    except KeyboardInterrupt:
        return sdk.EXIT_OK
