"""The suite's second chances, judged against a scripted module on a real loopback gRPC server
(in this process): one HealthCheck past the health timeout is asked again, two in a row fail,
any other code fails at once (H-5 and the rules citing health_check); a disagreement of the
flow figures is measured once more over a fresh window (P-10, P-24); the H-10 probe in
STOPPING is let off only when the answer was cut off by the process exiting.

A module that keeps the contract on an idle machine never takes these paths, so the runs
against real modules and mutants do not notice when they break. Written by the mutation audit
audit-12; each test names the planted bugs it catches (ids as in /work/coord/audit-12.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc
import pytest

from mediagrid.conformance.checks import flows
from mediagrid.conformance.checks.health import health_check
from mediagrid.conformance.checks.lifecycle import while_stopping
from mediagrid.conformance.context import CheckContext, Suite, Target
from mediagrid.conformance.recorder import EventRecorder
from mediagrid.conformance.registry import Check, CheckFailed
from mediagrid.conformance.tracker import ResourceTracker
from mediagrid.manifest import load_manifest
from mediagrid.v1 import entity_pb2, entity_pb2_grpc, module_pb2, module_pb2_grpc
from tests.support import ROOT

WELL_BEHAVED = load_manifest(ROOT / "simulator" / "mutants" / "modules" / "well-behaved")
HEALTH_TIMEOUT = 1.0
READY, STOPPING = module_pb2.MODULE_STATE_READY, module_pb2.MODULE_STATE_STOPPING


class Scripted(module_pb2_grpc.ModuleServiceServicer, entity_pb2_grpc.EntityServiceServicer):
    """HealthCheck answers as `health` says, one word a call ("ok", "late": never within the
    deadline, or a status code name), then "ok"; ListEntities answers `entities` (a status
    code name) and may end `process` some seconds after the call. Calls are noted in order."""

    def __init__(self, health: tuple[str, ...] = (), state: int = READY,
                 entities: str = "UNAVAILABLE") -> None:
        self.health, self.state, self.entities = list(health), state, entities
        self.calls: list[str] = []
        self.end_after: tuple[asyncio.subprocess.Process, float] | None = None

    async def HealthCheck(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("health")
        what = self.health.pop(0) if self.health else "ok"
        if what == "late":
            await asyncio.Event().wait()  # cancelled when the caller's deadline passes
        if what != "ok":
            await context.abort(grpc.StatusCode[what], f"scripted {what}")
        return module_pb2.HealthCheckResponse(status=module_pb2.ModuleStatus(state=self.state))

    async def Shutdown(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("shutdown")
        return module_pb2.ShutdownResponse(initiated=False)

    async def ListEntities(self, request, context):  # type: ignore[no-untyped-def]
        self.calls.append("list")
        if self.end_after is not None:
            process, delay = self.end_after
            asyncio.get_running_loop().call_later(delay, process.kill)
        if self.entities != "OK":
            await context.abort(grpc.StatusCode[self.entities], f"scripted {self.entities}")
        return entity_pb2.ListEntitiesResponse()


@asynccontextmanager
async def checking(module: Scripted) -> AsyncIterator[CheckContext]:
    """A check's context against `module` served on a free loopback port."""
    server = grpc.aio.server()
    module_pb2_grpc.add_ModuleServiceServicer_to_server(module, server)
    entity_pb2_grpc.add_EntityServiceServicer_to_server(module, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    manifest = dataclasses.replace(
        WELL_BEHAVED, configurable=False,
        supervision=dataclasses.replace(WELL_BEHAVED.supervision, health_timeout=HEALTH_TIMEOUT))
    suite = Suite(Target(manifest, f"127.0.0.1:{port}", False, ""), EventRecorder(), None,
                  ResourceTracker())
    try:
        async with CheckContext(suite, Check("audit.x", ("H-5",), "x", lambda c: None)) as ctx:
            yield ctx
    finally:
        await server.stop(grace=None)


async def late_then_ok() -> None:  # H04: the first late answer failed the check
    module = Scripted(("late", "ok"))
    async with checking(module) as ctx:
        response = await asyncio.wait_for(health_check(ctx, "H-6"), 30)
    assert response.status.state == READY
    assert module.calls == ["health", "health"]
    assert any("asked again" in note for note in ctx.notes)


async def late_twice() -> None:  # H02: never fails; H03: asks until one is in time
    module = Scripted(("late", "late", "ok"))
    async with checking(module) as ctx:
        with pytest.raises(CheckFailed) as failed:
            await asyncio.wait_for(health_check(ctx, "H-6"), 30)
    assert failed.value.rule == "H-6" and "DEADLINE_EXCEEDED" in failed.value.got
    assert module.calls == ["health", "health"]


async def other_code() -> None:  # H01: any code was asked again
    module = Scripted(("UNAVAILABLE", "ok"))
    async with checking(module) as ctx:
        with pytest.raises(CheckFailed) as failed:
            await asyncio.wait_for(health_check(ctx, "H-7"), 30)
    assert failed.value.rule == "H-7" and "UNAVAILABLE" in failed.value.got
    assert module.calls == ["health"]


def test_h5_one_late_health_check_is_asked_again_two_fail_other_codes_fail_at_once() -> None:
    async def scenarios() -> None:
        await asyncio.gather(late_then_ok(), late_twice(), other_code())
    asyncio.run(scenarios())


def test_p10_p24_figures_that_disagree_are_measured_again_after_a_fresh_window(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Wrong once: measured again after WINDOW, and noted (F02: failed at once; F03: measured
    again at once). Wrong twice: the second window's failure is the verdict (F01: swallowed)."""
    monkeypatch.setattr(flows, "WINDOW", 0.3)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        async with checking(Scripted()) as ctx:
            judged: list[float] = []

            async def wrong_once() -> None:
                judged.append(loop.time())
                if len(judged) == 1:
                    raise CheckFailed("P-10", "24.0 fps", "12.0 fps")
            await flows.measured(ctx, wrong_once)
            assert len(judged) == 2 and judged[1] - judged[0] >= 0.25
            assert any("disagreed once" in n and "12.0 fps" in n for n in ctx.notes)

            tries: list[int] = []

            async def always_wrong() -> None:
                tries.append(1)
                raise CheckFailed("P-24", "1000 kbit/s", f"{100 * len(tries)} kbit/s")
            with pytest.raises(CheckFailed) as failed:
                await flows.measured(ctx, always_wrong)
            assert failed.value.got == "200 kbit/s" and len(tries) == 2
    asyncio.run(scenario())


class Exiting:
    """A real process standing for the module's: its exit as LaunchedModule.exit_code sees it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    async def exit_code(self, within: float) -> int | None:
        try:
            return await asyncio.wait_for(self.process.wait(), within)
        except TimeoutError:
            return None


async def sleeper(seconds: float) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-c", f"import time; time.sleep({seconds})")


def test_h10_the_stopping_probe_is_let_off_only_when_the_process_has_exited() -> None:
    """Serving ListEntities in STOPPING while the process runs on fails H-10, also when it
    ends a few seconds later (L01: let off while still running; L03: let off when the process
    ended within 5 s). An answer cut off by a process that has already exited is noted, not
    failed, and nothing more is asked (L01 inverted the other way fails it); a proper
    UNAVAILABLE is probed further even when the process ends at once (L02)."""
    poller = types.SimpleNamespace(states=[READY, STOPPING])
    request = module_pb2.ShutdownRequest(reason="audit")

    async def serving_then_ending() -> None:
        module = Scripted(state=STOPPING, entities="OK")
        process = await sleeper(60)
        module.end_after = (process, 3.0)  # well past the 0.5 s the probe waits for an exit
        try:
            async with checking(module) as ctx:
                with pytest.raises(CheckFailed) as failed:
                    await while_stopping(ctx, Exiting(process), poller, request)  # type: ignore[arg-type]
            assert failed.value.rule == "H-10" and failed.value.got.startswith("OK")
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def cut_off_by_the_exit() -> None:
        module = Scripted(state=STOPPING, entities="CANCELLED")
        process = await sleeper(0)
        await process.wait()
        async with checking(module) as ctx:
            await while_stopping(ctx, Exiting(process), poller, request)  # type: ignore[arg-type]
        assert module.calls == ["list"]
        assert any("exited before it could be probed" in note for note in ctx.notes)

    async def unavailable_then_ending() -> None:
        # UNAVAILABLE is the right answer: the probe goes on to HealthCheck at once, even if
        # the process ends right after (L02: let off whenever the process ended within 0.5 s,
        # so a module answering READY in STOPPING was never asked).
        module = Scripted(state=READY, entities="UNAVAILABLE")
        process = await sleeper(60)
        module.end_after = (process, 0.0)
        try:
            async with checking(module) as ctx:
                with pytest.raises(CheckFailed) as failed:
                    await while_stopping(ctx, Exiting(process), poller, request)  # type: ignore[arg-type]
            assert failed.value.rule in ("H-8", "H-9") and "READY" in failed.value.got
            assert module.calls[:2] == ["list", "health"]
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()

    async def scenarios() -> None:
        await asyncio.gather(serving_then_ending(), cut_off_by_the_exit(),
                             unavailable_then_ending())
    asyncio.run(scenarios())
