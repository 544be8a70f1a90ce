"""Reports to the orchestrator (rules E-1 to E-10), read from the suite's own EventService.

The suite serves a real EventService and passes its address in
MEDIAGRID_ORCHESTRATOR_ADDRESS, so it sees every report of every instance it starts. The
whole-record checks run last (they read what every other check made the module report).
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict

from mediagrid.conformance.context import CheckContext, entity_body
from mediagrid.conformance.recorder import Attempt, about_entity, describe
from mediagrid.conformance.registry import Checks
from mediagrid.v1 import entity_pb2, event_pb2

CHECKS = Checks("events")
T = event_pb2
SETTLE = 1.0  # seconds for late reports to arrive before a whole-record check reads it
MIN_REPORTS = 120


def need_events(ctx: CheckContext) -> None:
    if ctx.suite.events is None:
        raise ctx.skip("the module reports to another orchestrator: start it with "
                       "MEDIAGRID_ORCHESTRATOR_ADDRESS set to the suite's --event-port, or let "
                       "the suite start it")


async def some_activity(ctx: CheckContext) -> None:
    """Makes the module report enough to judge: entities created, configured and destroyed
    until more than MIN_REPORTS reports were made (some faults show only after the 100th),
    and a flow started and stopped when the module has a sink."""
    found = ctx.creatable()
    if not found:
        return
    spec, config = found[0]
    for _ in range(MIN_REPORTS):
        if len(ctx.recorder.accepted(ctx.suite.target.instance_id)) > MIN_REPORTS:
            break
        entity_id = entity_body(await ctx.create_entity(spec, config, rule="E-6")).id
        await ctx.code(ctx.entities.ConfigureEntity, entity_pb2.ConfigureEntityRequest(
            entity_id=entity_id, config=config))
        await ctx.code(ctx.entities.DestroyEntity,
                       entity_pb2.DestroyEntityRequest(entity_id=entity_id))
        ctx.tracker.forget("entity", entity_id)
        await asyncio.sleep(0.01)
    if ctx.suite.flows or not ctx.creatable("sink"):
        return
    from mediagrid.conformance.checks import pipeline_support as ps

    _, sink, media = await ps.make(ctx, "sink")
    connection = await ps.connect_target(ctx, sink, media, rule="E-8")
    await ps.start_flow(ctx, [connection.id], rule="E-8")


def configs_hint(ctx: CheckContext) -> str:
    from mediagrid.conformance.configs import missing_config_reason

    return missing_config_reason(ctx.manifest.entity_types[0]) if ctx.manifest.entity_types \
        else "it offers no entity type"


def by_instance(attempts: list[Attempt]) -> dict[str, list[Attempt]]:
    found: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts:
        found[attempt.instance].append(attempt)
    return found


def declared_drops(accepted: list[event_pb2.ModuleReport]) -> set[int]:
    """Sequence numbers the module said it dropped (E-22 WARNING events)."""
    found: set[int] = set()
    for report in accepted:
        details = report.event.details if report.WhichOneof("report") == "event" else {}
        first, last = details.get("first_dropped", ""), details.get("last_dropped", "")
        if first.isdigit() and last.isdigit():
            found.update(range(int(first), int(last) + 1))
    return found


def same_report(a: event_pb2.ModuleReport, b: event_pb2.ModuleReport) -> bool:
    return a.SerializeToString(deterministic=True) == b.SerializeToString(deterministic=True)


def timestamp_ns(report: event_pb2.ModuleReport) -> int:
    kind = report.WhichOneof("report")
    return getattr(report, kind).timestamp.ToNanoseconds() if kind else 0


def event_type(report: event_pb2.ModuleReport) -> int:
    return report.event.type if report.WhichOneof("report") == "event" else 0


@CHECKS.check("E-1", "E-2", "E-9", final=True, title="every report: module id and instance id "
              "in the header, sequences 1, 2, 3... with no gap or repeat, timestamps never back")
async def headers_and_sequences(ctx: CheckContext) -> None:
    need_events(ctx)
    await some_activity(ctx)
    await asyncio.sleep(SETTLE)
    streams = by_instance(ctx.recorder.attempts)
    if not streams and not ctx.creatable():
        raise ctx.skip("the module made no report, and the suite could create no entity to "
                       "make it report: " + configs_hint(ctx))
    ctx.require(ctx.suite.target.instance_id in streams, "E-1",
                f"reports from instance {ctx.suite.target.instance_id!r} (the running module)",
                f"reports from {sorted(streams) or 'no instance'}")
    for instance, attempts in streams.items():
        accepted = [a.report for a in attempts if a.outcome == "accepted"]
        by_sequence = {r.header.sequence: r for r in accepted}
        for attempt in attempts:
            first = by_sequence.get(attempt.sequence)
            if attempt.outcome == "duplicate" and first is not None and not same_report(
                    first, attempt.report):
                raise ctx.fail("E-2", f"sequence {attempt.sequence} for one report only "
                               "(a repeat must be a retry of the same report)",
                               f"{describe(first)}, then {describe(attempt.report)}")
        want_id = (ctx.suite.target.module_id if instance == ctx.suite.target.instance_id
                   else accepted[0].header.module_id if accepted else "")
        for report in accepted:  # other instances were given other ids by some checks
            ctx.require(report.header.module_id == want_id, "E-1",
                        f"header.module_id {want_id!r} (MEDIAGRID_MODULE_ID) on every report of "
                        f"instance {instance[:12]}", f"{report.header.module_id!r} in "
                        f"{describe(report)}")
        ctx.require(instance, "E-1", "a non-empty header.instance_id", "''")
        sequences = [r.header.sequence for r in accepted]
        declared = declared_drops(accepted)
        want = [n for n in range(1, max(sequences, default=0) + 1) if n not in declared]
        if sequences != want:
            gap = next((i for i, (a, b) in enumerate(zip(sequences, want, strict=False))
                        if a != b), len(want))
            raise ctx.fail("E-2", f"instance {instance[:12]}'s sequences 1, 2, 3... rising by "
                           "exactly 1", f"{sequences[max(0, gap - 3):gap + 3]} around report "
                           f"{gap + 1}")
        stamps = [timestamp_ns(r) for r in accepted]
        for index in range(1, len(stamps)):
            back_ms = (stamps[index - 1] - stamps[index]) / 1e6
            ctx.require(back_ms <= 0, "E-9", "report timestamps that never go backwards",
                        f"{describe(accepted[index])} is {back_ms:.1f} ms earlier than "
                        f"{describe(accepted[index - 1])}")


@CHECKS.check("E-6", "E-7", "E-8", final=True, title="ENTITY_CREATED first and ENTITY_DESTROYED "
              "last about each entity; FLOW_STARTED after its connections' CONNECTION_CREATED")
async def entity_and_flow_order(ctx: CheckContext) -> None:
    need_events(ctx)
    await some_activity(ctx)
    await asyncio.sleep(SETTLE)
    for instance, attempts in by_instance(ctx.recorder.attempts).items():
        live: dict[str, bool] = {}  # entity id -> alive (False once destroyed)
        connections: set[str] = set()
        made = {a.sequence: a for a in attempts if a.outcome in ("accepted", "rejected")}
        for attempt in (made[n] for n in sorted(made)):  # rejected ones were made too (E-23)
            report, kind = attempt.report, event_type(attempt.report)
            entity = about_entity(report)
            if kind == T.EVENT_TYPE_ENTITY_CREATED:
                live[entity] = True
            elif entity:
                ctx.require(entity in live, "E-6", f"ENTITY_CREATED for {entity} before any "
                            "other report about it", f"{describe(report)} came first "
                            f"(instance {instance[:12]})")
                ctx.require(live[entity], "E-7", f"nothing about {entity} after its "
                            "ENTITY_DESTROYED", f"{describe(report)} followed it")
                if kind == T.EVENT_TYPE_ENTITY_DESTROYED:
                    live[entity] = False
            if kind == T.EVENT_TYPE_CONNECTION_CREATED:
                connections.add(report.event.connection_id)
            elif kind == T.EVENT_TYPE_FLOW_STARTED:
                wanted = ctx.suite.flows.get(report.event.flow_id, [])
                missing = [c for c in wanted if c not in connections]
                ctx.require(not missing, "E-8", f"FLOW_STARTED of {report.event.flow_id} after "
                            f"CONNECTION_CREATED of {', '.join(wanted)}",
                            f"{describe(report)} before CONNECTION_CREATED of "
                            f"{', '.join(missing)}")


@CHECKS.check("E-3", "E-2", exclusive=True, title="a refused report is retried with the same "
              "sequence; nothing later is sent before it is acknowledged")
async def retry_same_sequence(ctx: CheckContext) -> None:
    need_events(ctx)
    spec, config = ctx.any_creatable()
    mark = len(ctx.recorder.attempts)
    ctx.recorder.refuse_next = 3
    try:
        entity_id = entity_body(await ctx.create_entity(spec, config, rule="E-3")).id

        def delivered() -> bool:
            return any(event_type(r) == T.EVENT_TYPE_ENTITY_CREATED and
                       r.event.source_entity_id == entity_id
                       for r in ctx.recorder.accepted(ctx.suite.target.instance_id))
        arrived = await ctx.recorder.wait_for(delivered, within=15.0)
    finally:
        ctx.recorder.refuse_next = 0
    ctx.require(arrived, "E-3", f"ENTITY_CREATED of {entity_id} delivered after 3 refused calls "
                "(retry with backoff 50 ms doubling)", "not delivered within 15 s")
    attempts = [a for a in ctx.recorder.attempts[mark:]
                if a.instance == ctx.suite.target.instance_id]
    refused = [a for a in attempts if a.outcome == "refused"]
    ctx.require(refused, "E-3", "reports sent to the refusing EventService", "none arrived")
    accepted = {a.sequence: a.report for a in attempts if a.outcome in ("accepted", "duplicate")}
    for attempt in refused:
        again = accepted.get(attempt.sequence)
        ctx.require(again is not None and again.WhichOneof("report") ==
                    attempt.report.WhichOneof("report") and
                    about_entity(again) == about_entity(attempt.report), "E-3",
                    f"{describe(attempt.report)} retried with the same sequence",
                    "sequence {} then carried {}".format(
                        attempt.sequence, describe(again) if again else "nothing"))
    problem = sent_ahead(attempts)
    if problem:
        raise ctx.fail("E-3", *problem)


def sent_ahead(attempts: list[Attempt]) -> tuple[str, str] | None:
    """E-3 on one instance's recorded calls: no call starts past the next report not yet
    acknowledged. (expected, got) of the first call that does, or None."""
    highest = min(a.sequence for a in attempts) - 1
    for call in sorted({a.call for a in attempts}):
        batch = [a for a in attempts if a.call == call]
        first = min(a.sequence for a in batch)
        if first > highest + 1:
            return (f"no report sent before #{highest + 1} is acknowledged",
                    f"a call starting at #{first}")
        if any(a.outcome == "accepted" for a in batch):
            highest = max(highest, max(a.sequence for a in batch))
    return None


@CHECKS.check("E-5", exclusive=True, timeout=40.0, title="reports made while the orchestrator "
              "is unreachable are buffered and all delivered, in order, when it is back")
async def buffer_while_unreachable(ctx: CheckContext) -> None:
    need_events(ctx)
    spec, config = ctx.any_creatable()
    assert ctx.suite.events is not None
    await ctx.suite.events.drop()
    made: list[str] = []
    try:
        for _ in range(3):
            entity_id = entity_body(await ctx.create_entity(spec, config, rule="E-5")).id
            await ctx.code(ctx.entities.DestroyEntity,
                           entity_pb2.DestroyEntityRequest(entity_id=entity_id))
            ctx.tracker.forget("entity", entity_id)
            made.append(entity_id)
        await asyncio.sleep(0.5)
    finally:
        await ctx.suite.events.restore()

    def all_destroyed() -> bool:
        seen = {r.event.source_entity_id for r in ctx.recorder.accepted(
            ctx.suite.target.instance_id) if event_type(r) == T.EVENT_TYPE_ENTITY_DESTROYED}
        return set(made) <= seen
    arrived = await ctx.recorder.wait_for(all_destroyed, within=20.0)
    ctx.require(arrived, "E-5", f"ENTITY_DESTROYED of {', '.join(made)} (made while the "
                "EventService was down) delivered once it is back", "missing after 20 s")
    accepted = ctx.recorder.accepted(ctx.suite.target.instance_id)
    sequences = [r.header.sequence for r in accepted]
    declared = declared_drops(accepted)
    want = [n for n in range(1, max(sequences, default=0) + 1) if n not in declared]
    ctx.require(sequences == want, "E-5",
                "no report lost while the orchestrator was unreachable (sequences without gap)",
                f"{len(sequences)} reports, highest #{max(sequences, default=0)}")


@CHECKS.check("E-10", title="batches of at most 500 contiguous reports; a quiet module sends a "
              "report at once")
async def batches_and_promptness(ctx: CheckContext) -> None:
    need_events(ctx)
    spec, config = ctx.any_creatable()
    await asyncio.sleep(0.3)
    made_at = time.monotonic()
    entity_id = entity_body(await ctx.create_entity(spec, config, rule="E-10")).id

    def arrived() -> bool:
        return any(event_type(a.report) == T.EVENT_TYPE_ENTITY_CREATED and
                   a.report.event.source_entity_id == entity_id for a in ctx.recorder.attempts)
    ctx.require(await ctx.recorder.wait_for(arrived, within=1.0), "E-10",
                "ENTITY_CREATED sent the moment it is made (within 1 s)",
                f"nothing after {time.monotonic() - made_at:.1f} s")
    problem = batch_problem(ctx.recorder.attempts)
    if problem:
        raise ctx.fail("E-10", *problem)


def batch_problem(attempts: list[Attempt]) -> tuple[str, str] | None:
    """E-10 on the recorded calls: at most 500 reports a call, their sequences ascending and
    contiguous. (expected, got) of the first call that breaks it, or None."""
    for call in sorted({a.call for a in attempts}):
        batch = [a.sequence for a in attempts if a.call == call]
        if len(batch) > 500:
            return "at most 500 reports a batch", str(len(batch))
        if batch != list(range(batch[0], batch[0] + len(batch))):
            return "ascending contiguous sequences in a batch", str(batch[:10])
    return None
