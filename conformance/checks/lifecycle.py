"""The module process (rules H-1, H-2, H-3, H-6, H-7, H-8, H-9, H-10, H-11): the suite starts
extra instances of the module as the orchestrator would and watches them start and stop.
Launch mode only."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import grpc
from grpc_health.v1 import health_pb2

from mediagrid.conformance.checks.health import NOT_SERVING, serving_name, state_name
from mediagrid.conformance.context import CheckContext, entity_body
from mediagrid.conformance.launch import LaunchedModule
from mediagrid.conformance.registry import PROCESS, Checks
from mediagrid.v1 import config_pb2, entity_pb2, event_pb2, module_pb2

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
    """Polls HealthCheck on an instance and keeps every state (and health) seen, in order."""

    def __init__(self, ctx: CheckContext, process: LaunchedModule) -> None:
        ctx.stubs(ctx.channel(process.address))
        self.ctx, self.states = ctx, []  # type: ignore[var-annotated]
        self.healths: list[tuple[int, int]] = []
        self.stub = ctx.module
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                response = await self.stub.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
                self.states.append(response.status.state)
                self.healths.append((response.status.state, response.status.health))
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
            # No answer within the deadline (a starved process) is not serving: probe again.
            if after.status.state == S.MODULE_STATE_STARTING and \
                    code != grpc.StatusCode.DEADLINE_EXCEEDED:
                ctx.require(code == grpc.StatusCode.UNAVAILABLE, "H-10",
                            "UNAVAILABLE for ListEntities while the module is STARTING",
                            f"{code.name} {details}".strip())
        await asyncio.sleep(0.01)
    return seen


@CHECKS.check("H-8", "H-6", "H-7", "H-9", "H-10", "H-11", "H-22", "H-25", "H-26", "C-11",
              profile=PROCESS, launch_only=True, timeout=60.0,
              title="a new instance: new instance_id, UNAVAILABLE unless READY, Shutdown moves "
              "to STOPPING, answers once initiated=true, stops everything with its reports, "
              "exits 0")
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
            instance = ready.status.instance_id
            ctx.require(instance and instance != ctx.suite.target.instance_id, "H-6",
                        "a new instance_id for a new process start "
                        f"(the first process had {ctx.suite.target.instance_id!r})",
                        repr(instance))
            made = await populate(ctx)
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
            await while_stopping(ctx, process, poller, request)
            code_exit = await process.exit_code(within=3 + EXIT_WAIT)
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            ctx.require(code_exit == 0, "H-8", "exit code 0 within the grace period (3 s)",
                        "still running" if code_exit is None else f"exit code {code_exit}")
        check_transitions(ctx, poller.states)
        for state, health in poller.healths:
            ctx.require(health != 0, "H-25", "ModuleStatus.health set in every answer",
                        "HEALTH_STATUS_UNSPECIFIED")
            ctx.require(state != S.MODULE_STATE_ERROR or health == 3, "H-25",
                        "UNHEALTHY while ERROR", f"health {health} in ERROR")
        ctx.require(NOT_SERVING in watched or not watched, "H-7",
                    "Watch('') to send NOT_SERVING when the module left READY",
                    ", ".join(serving_name(s) for s in watched))
        if not saw_starting:
            ctx.note("the STARTING window was too short to probe H-10 there")
        await reported_the_stop(ctx, instance, made)


async def populate(ctx: CheckContext) -> dict[str, str]:
    """Gives the instance something to stop: an entity, and a connection and a flow when it
    has a sink. Returns what it made by kind."""
    made: dict[str, str] = {}
    if ctx.creatable("sink"):
        from mediagrid.conformance.checks import pipeline_support as ps

        _, made["entity"], media = await ps.make(ctx, "sink")
        made["connection"] = (await ps.connect_target(ctx, made["entity"], media, rule="H-26")).id
        made["flow"] = (await ps.start_flow(ctx, [made["connection"]], rule="H-26")).id
    elif ctx.creatable():
        made["entity"] = entity_body(await ctx.create_entity(*ctx.creatable()[0])).id
    return made


async def while_stopping(ctx: CheckContext, process: LaunchedModule, poller: StatePoller,
                         request: module_pb2.ShutdownRequest) -> None:
    """H-10, H-22, C-11: in STOPPING, entity, pipeline and config calls are UNAVAILABLE,
    HealthCheck and Shutdown still answer OK (until the process exits)."""
    code, details = await ctx.code(ctx.entities.ListEntities, entity_pb2.ListEntitiesRequest(),
                                   deadline=2.0)
    if await exited_unprobed(ctx, process, code):
        return
    ctx.require(code == grpc.StatusCode.UNAVAILABLE, "H-10",
                "UNAVAILABLE for ListEntities after Shutdown (STOPPING)",
                f"{code.name} {details}".strip())
    if ctx.manifest.configurable:
        code, details = await ctx.code(ctx.config.GetConfig, config_pb2.GetConfigRequest(),
                                       deadline=2.0)
        if await exited_unprobed(ctx, process, code):
            return
        ctx.require(code == grpc.StatusCode.UNAVAILABLE, "C-11",
                    "UNAVAILABLE for GetConfig while STOPPING", f"{code.name} {details}".strip())
    try:
        state = await ctx.module.HealthCheck(S.HealthCheckRequest(), timeout=1.0)
        check_transitions(ctx, [*poller.states, state.status.state])
        ctx.require(state.status.state == S.MODULE_STATE_STOPPING, "H-8",
                    "HealthCheck STOPPING after Shutdown", state_name(state.status.state))
        again = await ctx.module.Shutdown(request, timeout=1.0)
        ctx.require(not again.initiated, "H-22",
                    "initiated=false from a Shutdown while one is under way", "initiated=true")
    except grpc.aio.AioRpcError as exc:
        answered, _ = await ctx.code(ctx.module.HealthCheck, S.HealthCheckRequest(), deadline=1.0)
        ctx.require(answered != grpc.StatusCode.OK, "H-22", "Shutdown answering OK "
                    "(initiated=false) while STOPPING", f"{exc.code().name}: {exc.details()} "
                    "while HealthCheck still answers")
        still = await process.exit_code(within=3.0) is None  # sockets close just before exit
        ctx.require(not still, "H-22", "HealthCheck and Shutdown answering OK while STOPPING",
                    f"{exc.code().name}: {exc.details()} while the process still runs")


async def exited_unprobed(ctx: CheckContext, process: LaunchedModule,
                          code: grpc.StatusCode) -> bool:
    """True (noted) when a call made in STOPPING was not answered because the module ended.

    A shutdown with little to do can end before the call is answered: the server cancels it
    as it closes (CANCELLED), or the answer never comes (DEADLINE_EXCEEDED). STOPPING was too
    short to probe, which breaks no rule (H-26 still judges the shutdown). A loaded machine can
    take seconds to end the process after that; another code is an answer, and gets only a
    moment; OK and UNAVAILABLE are always judged."""
    if code in (grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE):
        return False
    cut_off = code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED)
    if await process.exit_code(within=3.0 if cut_off else 0.5) is None:
        return False
    ctx.note(f"the module exited before it could be probed in STOPPING ({code.name}; H-10, "
             "C-11, H-22 not judged there)")
    return True


async def reported_the_stop(ctx: CheckContext, instance: str, made: dict[str, str]) -> None:
    """H-26: the shutdown stopped the flow, removed the connection, destroyed the entity, each
    with its report, and delivered them before exiting."""
    if ctx.suite.events is None or not made:
        return
    wanted = {"flow": (event_pb2.EVENT_TYPE_FLOW_STOPPED, "flow_id"),
              "connection": (event_pb2.EVENT_TYPE_CONNECTION_REMOVED, "connection_id"),
              "entity": (event_pb2.EVENT_TYPE_ENTITY_DESTROYED, "source_entity_id")}
    events = [a.report.event for a in ctx.recorder.attempts
              if a.instance == instance and a.outcome == "accepted"
              and a.report.WhichOneof("report") == "event"]
    for kind, identifier in made.items():
        event_type, field = wanted[kind]
        ctx.require(any(e.type == event_type and getattr(e, field) == identifier
                        for e in events), "H-26",
                    f"{event_pb2.EventType.Name(event_type)} for {kind} {identifier} delivered "
                    "by the shutdown", "not received before the process exited")


@CHECKS.check("H-8", profile=PROCESS, launch_only=True, timeout=40.0,
              title="SIGTERM stops the module cleanly: exit code 0")
async def sigterm_exits_zero(ctx: CheckContext) -> None:
    async with ctx.launch() as process:
        process.terminate()
        code = await process.exit_code(within=5 + EXIT_WAIT)
        ctx.require(code == 0, "H-8", "exit code 0 after SIGTERM (default grace 5 s)",
                    "still running" if code is None else f"exit code {code}")
