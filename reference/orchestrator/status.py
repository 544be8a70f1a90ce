"""`mediagrid status` and `mediagrid restart`: clients of a running orchestrator."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import grpc
from google.protobuf import json_format
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mediagrid.reference.orchestrator.dial import ClientTls, dial, token_metadata
from mediagrid.v1 import common_pb2, module_pb2, orchestrator_pb2, orchestrator_pb2_grpc

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
WAIT_READY = 60.0
COLOURS = {"READY": "green", "STARTING": "yellow", "STOPPING": "yellow", "ERROR": "red"}




def _fail(out: Console, as_json: bool, message: str, code: int = EXIT_FAILURE) -> int:
    out.print(f"[red]error:[/] {escape(message)}")
    if as_json:
        print(json.dumps({"ok": False, "error": message}))
    return code


def _unreachable(address: str, exc: grpc.aio.AioRpcError) -> str:
    if exc.code() is grpc.StatusCode.UNAVAILABLE:
        return (f"no orchestrator answers at {address}: start one with `mediagrid up --modules"
                " DIR`, or give its --address")
    return f"the orchestrator at {address} refused: {exc.code().name}: {exc.details()}"


async def list_modules(stub: orchestrator_pb2_grpc.OrchestratorServiceStub
                       ) -> list[module_pb2.ModuleInfo]:
    modules: list[module_pb2.ModuleInfo] = []
    token = ""
    while True:
        request = orchestrator_pb2.ListModulesRequest()
        request.page.page_token = token
        response = await stub.ListModules(request, timeout=10, metadata=token_metadata())
        modules.extend(response.modules)
        token = response.next_page_token
        if not token:
            return modules


def _state(info: module_pb2.ModuleInfo) -> str:
    return module_pb2.ModuleState.Name(info.status.state).removeprefix("MODULE_STATE_")


def _health(info: module_pb2.ModuleInfo) -> str:
    return common_pb2.HealthStatus.Name(info.status.health).removeprefix("HEALTH_STATUS_")


def table(modules: list[module_pb2.ModuleInfo], address: str) -> Table:
    grid = Table(title=f"modules of the orchestrator at {address}", title_justify="left")
    for column in ("module", "state", "address", "pid", "restarts"):
        grid.add_column(column, no_wrap=True)
    grid.add_column("last error", no_wrap=True, overflow="ellipsis", min_width=12)
    for info in modules:
        state, health = _state(info), _health(info)
        shown = state if health in ("HEALTHY", "UNSPECIFIED") else f"{state}/{health}"
        colour = COLOURS.get(state, "white") if health != "DEGRADED" else "yellow"
        error = info.status.error_message or (info.last_error.splitlines() or [""])[0]
        grid.add_row(escape(info.id), f"[{colour}]{shown}[/]", info.grpc_address,
                     str(info.pid or "-"), str(info.restart_count), f"[dim]{escape(error)}[/]")
    return grid


def to_json(info: module_pb2.ModuleInfo) -> dict[str, Any]:
    return json_format.MessageToDict(info, preserving_proto_field_name=True)


def run_status(address: str, *, as_json: bool = False, tls: ClientTls | None = None) -> int:
    from mediagrid.reference.orchestrator.planning.views import (
        entity_table,
        flow_errors,
        flow_table,
        list_entities,
        list_flows,
    )

    async def ask() -> tuple[list[module_pb2.ModuleInfo], list[Any], list[Any]]:
        async with dial(address, tls) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            return (await list_modules(stub), await list_entities(stub, token_metadata()),
                    await list_flows(stub, token_metadata()))

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        modules, entities, flows = asyncio.run(ask())
    except grpc.aio.AioRpcError as exc:
        return _fail(err, as_json, _unreachable(address, exc))
    if as_json:
        print(json.dumps({"ok": True, "address": address,
                          "modules": [to_json(m) for m in modules],
                          "entities": [to_json(e) for e in entities],
                          "flows": [to_json(f) for f in flows]}, indent=2))
        return EXIT_OK
    out = Console(highlight=False)
    if not modules:
        out.print(f"the orchestrator at {address} runs no module")
    else:
        out.print(table(modules, address))
        ready = sum(_state(m) == "READY" for m in modules)
        out.print(f"{ready} of {len(modules)} READY")
    if entities:
        out.print(entity_table(entities))
    if flows:
        out.print(flow_table(flows))
        for line in flow_errors(flows):
            out.print(line)
    return EXIT_OK


def run_restart(address: str, module_id: str, *, reason: str, wait: bool = False,
                as_json: bool = False, tls: ClientTls | None = None) -> int:
    async def restart() -> module_pb2.ModuleInfo:
        async with dial(address, tls) as channel:
            stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
            response = await stub.RestartModule(orchestrator_pb2.RestartModuleRequest(
                module_id=module_id, reason=reason), timeout=60, metadata=token_metadata())
            info = response.module
            deadline = time.monotonic() + WAIT_READY
            while wait and _state(info) != "READY" and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
                info = (await stub.GetModule(orchestrator_pb2.GetModuleRequest(
                    module_id=module_id), timeout=10, metadata=token_metadata())).module
            return info

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        info = asyncio.run(restart())
    except grpc.aio.AioRpcError as exc:
        if exc.code() is grpc.StatusCode.NOT_FOUND:
            return _fail(err, as_json, exc.details() or f"no module {module_id!r}", EXIT_INVALID)
        return _fail(err, as_json, _unreachable(address, exc))
    if wait and _state(info) != "READY":
        return _fail(err, as_json, f"module {module_id} is {_state(info)}, not READY, after"
                     f" {WAIT_READY:g} s: {info.status.error_message or info.last_error}")
    if as_json:
        print(json.dumps({"ok": True, "module": to_json(info)}, indent=2))
    else:
        err.print(f"restarted {escape(module_id)}: now {_state(info)}"
                  f" (restart {info.restart_count}, pid {info.pid or '-'})")
    return EXIT_OK
