"""Runs the suite: serve the EventService, launch (or dial) the module, run the checks in a
random order (seeded), tear everything down, and return a RunReport.

Ordinary checks run a few at a time; `exclusive` ones (they drop the EventService, churn
entities, or page through every entity) run alone; `final` ones (they read the whole record
of reports) run last.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import grpc

from mediagrid.conformance.context import CheckContext, Suite, Target
from mediagrid.conformance.launch import StartError, launch
from mediagrid.conformance.recorder import EventRecorder, EventServer
from mediagrid.conformance.registry import (
    Check,
    CheckFailed,
    NotApplicable,
    Skipped,
    all_checks,
)
from mediagrid.conformance.results import Result, RunReport
from mediagrid.conformance.tracker import ResourceTracker
from mediagrid.conformance.transcript import Transcript
from mediagrid.manifest.model import ModuleManifest
from mediagrid.v1 import module_pb2, module_pb2_grpc

Progress = Callable[[Result, int, int], None]


@dataclass
class Options:
    rules: tuple[str, ...] = ()  # --rules patterns; empty means every check
    seed: int | None = None
    address: str = ""  # --address: the module already runs there
    token: str = ""  # sent on every call (--token, or MEDIAGRID_TOKEN)
    event_port: int = 0  # serve the EventService on this port (0: any free port)
    concurrency: int = 4
    progress: Progress | None = field(default=None, repr=False)


def select(checks: list[Check], patterns: tuple[str, ...]) -> list[Check]:
    return [c for c in checks if not patterns or c.selected_by(patterns)]


def order(checks: list[Check], seed: int) -> list[list[Check]]:
    """Phases, each shuffled by the seed: slow (media) checks, which start first and run beside
    everything but the final ones; ordinary ones, a few at a time; exclusive ones, one at a
    time (they drop the EventService, churn entities, page through every entity); final ones,
    which read the whole record of reports."""
    rng = random.Random(seed)
    phases = [[c for c in checks if c.slow and not c.final],
              [c for c in checks if not c.slow and not c.exclusive and not c.final],
              [c for c in checks if c.exclusive and not c.slow and not c.final],
              [c for c in checks if c.final]]
    for phase in phases:
        rng.shuffle(phase)
    return phases


async def run_check(suite: Suite, check: Check) -> Result:
    started = time.monotonic()
    reason = check.not_applicable(suite.manifest)
    if reason:
        return Result(check, "n/a", reason=reason)
    reason = check.skip_reason(suite.target.launched)
    if reason:
        return Result(check, "skip", reason=reason)
    ctx = CheckContext(suite, check)
    try:
        async with asyncio.timeout(check.timeout):
            async with ctx:
                await check.function(ctx)
        result = Result(check, "pass")
    except CheckFailed as exc:
        result = Result(check, "fail", rule=exc.rule, expected=exc.expected, got=exc.got)
    except NotApplicable as exc:
        result = Result(check, "n/a", reason=str(exc))
    except Skipped as exc:
        result = Result(check, "skip", reason=str(exc))
    except TimeoutError:
        result = Result(check, "fail", rule=check.rules[0],
                        expected=f"the check to finish within {check.timeout:g} s",
                        got="it timed out (a call or a state change never came)")
    except grpc.aio.AioRpcError as exc:
        result = Result(check, "fail", rule=check.rules[0], expected="an answer",
                        got=f"{exc.code().name}: {exc.details()}")
    except Exception as exc:
        result = Result(check, "fail", rule=check.rules[0], expected="the check to run",
                        got=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    result.transcript = list(ctx.transcript.calls)
    result.notes = list(ctx.notes)
    return result


async def run_phases(suite: Suite, phases: list[list[Check]], options: Options) -> list[Result]:
    total = sum(len(p) for p in phases)
    results: list[Result] = []

    def done(result: Result) -> None:
        results.append(result)
        if options.progress is not None:
            options.progress(result, len(results), total)

    limit = asyncio.Semaphore(max(1, options.concurrency))

    async def bounded(check: Check) -> None:
        async with limit:
            done(await run_check(suite, check))

    async def run_and_note(check: Check) -> None:
        done(await run_check(suite, check))

    slow, ordinary, exclusive, final = phases
    async with asyncio.TaskGroup() as background:
        for check in slow:
            background.create_task(run_and_note(check))
        async with asyncio.TaskGroup() as group:
            for check in ordinary:
                group.create_task(bounded(check))
        for check in exclusive:
            await run_and_note(check)
    for check in final:
        await run_and_note(check)
    planned = {check.name: n for n, check in enumerate(c for phase in phases for c in phase)}
    return sorted(results, key=lambda r: planned[r.check.name])  # the seed's order


async def identify(suite: Suite) -> None:
    """Reads instance_id and module_id from the module (HealthCheck)."""
    metadata = (("authorization", f"Bearer {suite.target.token}"),) if suite.target.token else ()
    async with grpc.aio.insecure_channel(suite.target.address) as channel:
        response = await module_pb2_grpc.ModuleServiceStub(channel).HealthCheck(
            module_pb2.HealthCheckRequest(), timeout=5.0, metadata=metadata)
    suite.target.instance_id = response.status.instance_id
    if not suite.target.module_id:
        suite.target.module_id = response.module_id


async def run_suite(manifest: ModuleManifest, options: Options) -> RunReport:
    seed = options.seed if options.seed is not None else random.randrange(1, 10**6)
    launched = not options.address
    report = RunReport(module_id=manifest.id, manifest=str(manifest.path),
                       address=options.address, mode="launch" if launched else "address",
                       seed=seed, command="", selection=options.rules)
    started = time.monotonic()
    phases = order(select(all_checks(), options.rules), seed)
    recorder = EventRecorder()
    events = EventServer(recorder, options.event_port) if launched or options.event_port else None
    tracker = ResourceTracker()
    report.recorder = recorder
    if events is not None:
        await events.start()
    try:
        if launched:
            async with contextlib.AsyncExitStack() as stack:
                try:
                    process = await stack.enter_async_context(launch(
                        manifest, orchestrator=events.address if events else "",
                        token=options.token))
                except StartError as exc:
                    report.could_not_run = exc.reason
                    report.module_output = "\n".join(exc.stderr_tail)
                    return report
                target = Target(manifest, process.address, True, options.token, process,
                                module_id=manifest.id)
                report.address = process.address
                await _run(report, Suite(target, recorder, events, tracker), phases, options)
                code = await process.stop()
                if code != 0:
                    report.teardown_problems.append(
                        f"the module exited with code {code} when the suite stopped it "
                        "(Shutdown RPC, then SIGTERM): contract §2.2 wants 0")
                report.module_output = process.output.text()
        else:
            target = Target(manifest, options.address, False, options.token)
            try:
                await identify(Suite(target, recorder, events, tracker))
            except grpc.aio.AioRpcError as exc:
                report.could_not_run = (f"no HealthCheck answer at {options.address}: "
                                        f"{exc.code().name} {exc.details()}")
                return report
            await _run(report, Suite(target, recorder, events, tracker), phases, options)
    finally:
        if events is not None:
            await events.stop()
        report.seconds = time.monotonic() - started
    return report


async def _run(report: RunReport, suite: Suite, phases: list[list[Check]],
               options: Options) -> None:
    await identify(suite)
    with tempfile.TemporaryDirectory(prefix=f"mediagrid-{suite.tracker.prefix}-") as scratch:
        suite.scratch = scratch
        report.results = await run_phases(suite, phases, options)
        await _teardown(report, suite)


async def _teardown(report: RunReport, suite: Suite) -> None:
    interceptors = Transcript().interceptors(suite.target.token)
    async with grpc.aio.insecure_channel(suite.target.address,
                                         interceptors=interceptors) as channel:
        problems = await suite.tracker.teardown(channel)
    report.teardown_problems.extend(str(p) for p in problems)
    for result in report.results:
        report.teardown_problems.extend(n for n in result.notes if n.startswith("teardown of"))
