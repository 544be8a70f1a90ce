"""The module process (rules H-1, H-2, H-3, H-6, H-7, H-8, H-9, H-10, H-11): the suite starts
extra instances of the module as the orchestrator would and watches them start and stop.
Launch mode only."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import socket
import time

import grpc
from grpc_health.v1 import health_pb2

from mediagrid.conformance.checks.health import NOT_SERVING, serving_name, state_name
from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.launch import LaunchedModule
from mediagrid.conformance.registry import PROCESS, Checks
from mediagrid.process import free_port
from mediagrid.v1 import entity_pb2, module_pb2

CHECKS = Checks("lifecycle")
S = module_pb2
ALLOWED = {  # contract §2.4
    S.MODULE_STATE_STARTING: {S.MODULE_STATE_READY, S.MODULE_STATE_ERROR, S.MODULE_STATE_STOPPING},
    S.MODULE_STATE_READY: {S.MODULE_STATE_ERROR, S.MODULE_STATE_STOPPING},
    S.MODULE_STATE_ERROR: {S.MODULE_STATE_READY, S.MODULE_STATE_STOPPING},
    S.MODULE_STATE_STOPPING: set(),
}
EXIT_WAIT = 15.0


def check_transitions(ctx: CheckContext, states: list[int]) -> None:
    """H-9: every change seen follows the state diagram."""
    for old, new in itertools.pairwise(states):
        if old != new and new not in ALLOWED.get(old, set()):
            seen = " -> ".join(state_name(s) for s in dict.fromkeys(states))
            raise ctx.fail("H-9", "state changes along the diagram of contract §2.4",
                           f"{state_name(old)} -> {state_name(new)} (seen: {seen})")


class StatePoller:
    """Polls HealthCheck on an instance and keeps every state seen, in order."""

    def __init__(self, ctx: CheckContext, process: LaunchedModule) -> None:
        ctx.stubs(ctx.channel(process.address))
        self.ctx, self.states = ctx, []  # type: ignore[var-annotated]
        self.stub = ctx.module
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                response = await self.stub.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
                self.states.append(response.status.state)
            await asyncio.sleep(0.02)

    def __enter__(self) -> StatePoller:
        self._task = asyncio.create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()


async def probe_while_starting(ctx: CheckContext, process: LaunchedModule) -> bool:
    """H-10 in STARTING: while HealthCheck says STARTING, an entity call is UNAVAILABLE.
    True when the STARTING window was seen."""
    seen = False
    deadline = time.monotonic() + ctx.manifest.supervision.startup_timeout
    while time.monotonic() < deadline and process.returncode is None:
        code, _ = await ctx.code(ctx.module.HealthCheck, S.HealthCheckRequest(), deadline=1.0)
        if code == grpc.StatusCode.OK:
            response = await ctx.module.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
            if response.status.state != S.MODULE_STATE_STARTING:
                return seen
            seen = True
            code, details = await ctx.code(ctx.entities.ListEntities,
                                           entity_pb2.ListEntitiesRequest(), deadline=1.0)
            after = await ctx.module.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
            if after.status.state == S.MODULE_STATE_STARTING:
                ctx.require(code == grpc.StatusCode.UNAVAILABLE, "H-10",
                            "UNAVAILABLE for ListEntities while the module is STARTING",
                            f"{code.name} {details}".strip())
        await asyncio.sleep(0.01)
    return seen


@CHECKS.check("H-8", "H-6", "H-7", "H-9", "H-10", "H-11", profile=PROCESS, launch_only=True,
              title="a new instance: new instance_id, UNAVAILABLE unless READY, Shutdown moves "
              "to STOPPING, answers once initiated=true, exits 0", timeout=60.0)
async def start_and_shutdown(ctx: CheckContext) -> None:
    async with ctx.launch(ready=False) as process:
        ctx.stubs(ctx.channel(process.address))
        with StatePoller(ctx, process) as poller:
            saw_starting = await probe_while_starting(ctx, process)
            try:
                ready = await process.wait_ready()
            except Exception as exc:
                raise ctx.fail("H-11", "READY within the start-up deadline "
                               f"({ctx.manifest.supervision.startup_timeout:g} s)",
                               str(exc)) from None
            ctx.stubs(ctx.channel(process.address))
            ctx.require(ready.status.instance_id and
                        ready.status.instance_id != ctx.suite.target.instance_id, "H-6",
                        "a new instance_id for a new process start "
                        f"(the first process had {ctx.suite.target.instance_id!r})",
                        repr(ready.status.instance_id))
            found = ctx.creatable()
            if found:
                await ctx.create_entity(*found[0])
            watch = ctx.health.Watch(health_pb2.HealthCheckRequest(service=""))
            watched: list[int] = []

            async def follow() -> None:
                with contextlib.suppress(grpc.aio.AioRpcError, asyncio.CancelledError):
                    async for message in watch:
                        watched.append(message.status)

            follower = asyncio.create_task(follow())
            await asyncio.sleep(0.1)
            request = S.ShutdownRequest(reason="conformance: H-8")
            request.grace_period.FromSeconds(3)
            first = await ctx.ok(ctx.module.Shutdown, request, "H-8", "Shutdown")
            ctx.require(first.initiated, "H-8", "initiated=true from the first Shutdown",
                        "initiated=false")
            code, details = await ctx.code(ctx.entities.ListEntities,
                                           entity_pb2.ListEntitiesRequest(), deadline=2.0)
            ctx.require(code == grpc.StatusCode.UNAVAILABLE, "H-10",
                        "UNAVAILABLE for ListEntities after Shutdown (STOPPING)",
                        f"{code.name} {details}".strip())
            with contextlib.suppress(grpc.aio.AioRpcError):
                state = await ctx.module.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
                check_transitions(ctx, [*poller.states, state.status.state])
                ctx.require(state.status.state == S.MODULE_STATE_STOPPING, "H-8",
                            "HealthCheck STOPPING after Shutdown",
                            state_name(state.status.state))
                again = await ctx.module.Shutdown(request, timeout=1.0)
                ctx.require(not again.initiated, "H-8",
                            "initiated=false from a Shutdown while one is under way",
                            "initiated=true")
            code_exit = await process.exit_code(within=3 + EXIT_WAIT)
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            ctx.require(code_exit == 0, "H-8", "exit code 0 within the grace period (3 s)",
                        "still running" if code_exit is None else f"exit code {code_exit}")
        check_transitions(ctx, poller.states)
        ctx.require(NOT_SERVING in watched or not watched, "H-7",
                    "Watch('') to send NOT_SERVING when the module left READY",
                    ", ".join(serving_name(s) for s in watched))
        if not saw_starting:
            ctx.note("the STARTING window was too short to probe H-10 there")


@CHECKS.check("H-8", profile=PROCESS, launch_only=True, timeout=40.0,
              title="SIGTERM stops the module cleanly: exit code 0")
async def sigterm_exits_zero(ctx: CheckContext) -> None:
    async with ctx.launch() as process:
        process.terminate()
        code = await process.exit_code(within=5 + EXIT_WAIT)
        ctx.require(code == 0, "H-8", "exit code 0 after SIGTERM (default grace 5 s)",
                    "still running" if code is None else f"exit code {code}")


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
    async def attempt(value: str | None) -> tuple[str | None, int | None, str]:
        async with ctx.launch(overrides={"GRPC_PORT": value}, ready=False) as process:
            code = await process.exit_code(within=EXIT_WAIT)
            await asyncio.sleep(0.1)  # let the output pumps catch the last words
            return value, code, process.output.text()

    results = await asyncio.gather(*(attempt(v) for v in (None, "not-a-port", "70000")))
    for value, code, output in results:
        shown = "missing" if value is None else f"GRPC_PORT={value!r}"
        ctx.require(code == 2, "H-3", f"exit code 2 with {shown}",
                    "still running" if code is None else f"exit code {code}")
        ctx.require("GRPC_PORT" in output, "H-3", f"stderr naming GRPC_PORT with {shown}",
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
