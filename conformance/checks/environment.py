"""The §2.1 environment (rules H-1, H-2, H-3, H-23, H-24): the suite starts instances of the
module with a taken port, bad variables or another bind host, as an orchestrator might.
Launch mode only."""

from __future__ import annotations

import asyncio
import socket

from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.registry import PROCESS, Checks
from mediagrid.process import free_port

CHECKS = Checks("environment")
EXIT_WAIT = 10.0


async def exits_with(ctx: CheckContext, overrides: dict[str, str | None], **kwargs: object
                     ) -> tuple[int | None, str]:
    async with ctx.launch(overrides=overrides, ready=False, **kwargs) as process:
        code = await process.exit_code(within=EXIT_WAIT)
        await asyncio.sleep(0.1)  # let the output pumps catch the last words
        return code, process.output.text()


def shown(code: int | None) -> str:
    return "still running" if code is None else f"exit code {code}"


@CHECKS.check("H-2", profile=PROCESS, launch_only=True, timeout=40.0,
              title="a GRPC_PORT already in use (or a bind host that is not local): exit 98")
async def taken_port_exits_98(ctx: CheckContext) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with ctx.launch(port=port, ready=False) as process:
            code = await process.exit_code(within=EXIT_WAIT)
            ctx.require(code == 98, "H-2", f"exit code 98 when GRPC_PORT={port} is taken",
                        "still running" if code is None else f"exit code {code}")
    async with ctx.launch(bind_host="192.0.2.1", port=free_port(), ready=False) as process:
        code = await process.exit_code(within=EXIT_WAIT)
        ctx.require(code == 98, "H-2", "exit code 98 when MEDIAGRID_BIND_HOST=192.0.2.1 "
                    "(not a local address) cannot be bound",
                    "still running" if code is None else f"exit code {code}")


@CHECKS.check("H-3", profile=PROCESS, launch_only=True, timeout=40.0,
              title="GRPC_PORT missing or not a port number: exit 2 naming GRPC_PORT")
async def bad_port_exits_2(ctx: CheckContext) -> None:
    values = (None, "not-a-port", "70000")
    results = await asyncio.gather(*(exits_with(ctx, {"GRPC_PORT": v}) for v in values))
    for value, (code, output) in zip(values, results, strict=True):
        what = "missing" if value is None else f"GRPC_PORT={value!r}"
        ctx.require(code == 2, "H-3", f"exit code 2 with {what}", shown(code))
        ctx.require("GRPC_PORT" in output, "H-3", f"stderr naming GRPC_PORT with {what}",
                    repr(output[-300:]))


@CHECKS.check("H-1", profile=PROCESS, launch_only=True, timeout=40.0,
              title="binds MEDIAGRID_BIND_HOST: with 127.0.0.2 it serves there, not on 127.0.0.1")
async def binds_the_given_host(ctx: CheckContext) -> None:
    port = free_port("127.0.0.2")
    async with ctx.launch(bind_host="127.0.0.2", port=port) as process:
        ctx.require(process.address == f"127.0.0.2:{port}", "H-1", "address 127.0.0.2",
                    process.address)
        with socket.socket() as probe:
            probe.settimeout(1.0)
            refused = probe.connect_ex(("127.0.0.1", port)) != 0
        ctx.require(refused, "H-1", f"nothing listening on 127.0.0.1:{port} when told to bind "
                    "127.0.0.2", "a connection was accepted")


@CHECKS.check("H-23", profile=PROCESS, launch_only=True, timeout=40.0,
              title="MEDIAGRID_MODULE_ID is required (exit 2 naming it) and used as given")
async def module_id_from_environment(ctx: CheckContext) -> None:
    values = (None, "Not_A_Module_Id")
    results = await asyncio.gather(*(exits_with(ctx, {"MEDIAGRID_MODULE_ID": v})
                                     for v in values))
    for value, (code, output) in zip(values, results, strict=True):
        what = "missing" if value is None else f"MEDIAGRID_MODULE_ID={value!r}"
        ctx.require(code == 2, "H-23", f"exit code 2 with MEDIAGRID_MODULE_ID {what}",
                    shown(code))
        ctx.require("MEDIAGRID_MODULE_ID" in output, "H-23",
                    f"stderr naming MEDIAGRID_MODULE_ID ({what})", repr(output[-300:]))
    given = "conformance-other-id"
    async with ctx.launch(overrides={"MEDIAGRID_MODULE_ID": given}) as process:
        assert process.ready is not None
        ctx.require(process.ready.module_id == given, "H-23",
                    f"HealthCheckResponse.module_id {given!r} (MEDIAGRID_MODULE_ID as given)",
                    repr(process.ready.module_id))
        instance = process.ready.status.instance_id
        found = ctx.creatable()
        if found and ctx.suite.events is not None:
            ctx.stubs(ctx.channel(process.address))
            await ctx.create_entity(*found[0], rule="H-23")

            def reported() -> bool:
                return any(a.instance == instance for a in ctx.recorder.attempts)
            await ctx.recorder.wait_for(reported, within=5.0)
            ids = {a.report.header.module_id for a in ctx.recorder.attempts
                   if a.instance == instance}
            ctx.require(ids == {given}, "H-23", f"report headers with module id {given!r}",
                        ", ".join(sorted(ids)) or "no report")


@CHECKS.check("H-24", profile=PROCESS, launch_only=True, timeout=40.0,
              title="a malformed MEDIAGRID_ORCHESTRATOR_ADDRESS or an unreadable TLS file: "
              "exit 2 naming the variable")
async def bad_environment_exits_2(ctx: CheckContext) -> None:
    cases = {
        "MEDIAGRID_ORCHESTRATOR_ADDRESS": {"MEDIAGRID_ORCHESTRATOR_ADDRESS": "no-port-here"},
        "MEDIAGRID_ORCHESTRATOR_ADDRESS ": {"MEDIAGRID_ORCHESTRATOR_ADDRESS": "127.0.0.1:99999"},
        "MEDIAGRID_TLS_CERT_FILE": {"MEDIAGRID_TLS_CERT_FILE": "/nonexistent/conformance.pem",
                                    "MEDIAGRID_TLS_KEY_FILE": "/nonexistent/conformance.key"},
    }
    results = await asyncio.gather(*(exits_with(ctx, env) for env in cases.values()))
    for (variable, env), (code, output) in zip(cases.items(), results, strict=True):
        what = ", ".join(f"{k}={v!r}" for k, v in env.items())
        ctx.require(code == 2, "H-24", f"exit code 2 with {what}", shown(code))
        ctx.require(variable.strip() in output, "H-24", f"stderr naming {variable.strip()}",
                    repr(output[-300:]))
