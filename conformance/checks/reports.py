"""What a module reports and how (rules E-19 to E-23): one event per change with the right
fields, status updates, declared drops, deadlines and which failures are not retried."""

from __future__ import annotations

import asyncio
import uuid

from mediagrid.conformance.checks.events import event_type, need_events
from mediagrid.conformance.context import MEDIA, CheckContext, entity_body
from mediagrid.conformance.recorder import describe
from mediagrid.conformance.registry import Checks
from mediagrid.v1 import common_pb2, entity_pb2, event_pb2, pipeline_pb2

CHECKS = Checks("reports")
T = event_pb2
SETTLE = 1.0
OTHER_END = "remote-e19"  # the other module's entity of the connection


def events_of(ctx: CheckContext, mark: int) -> list[event_pb2.Event]:
    return [a.report.event for a in ctx.recorder.attempts[mark:]
            if a.instance == ctx.suite.target.instance_id and a.outcome == "accepted"
            and a.report.WhichOneof("report") == "event"]


@CHECKS.check("E-19", "E-20", "E-21", exclusive=True, title="one event per change and none for "
              "repeats, a StatusUpdate after ENTITY_CREATED and on each change, the fields of "
              "entity, connection and flow events")
async def one_event_per_change(ctx: CheckContext) -> None:
    need_events(ctx)
    targets = ("sink", "converter", "protocol")
    kind = "sink" if ctx.creatable(*targets) else "source"  # TARGET side, or else SOURCE side
    spec, config = ctx.any_creatable(*targets) if kind == "sink" else ctx.any_creatable(kind)
    media = "video" if "video" in spec.media_types else spec.media_types[0]
    mark = len(ctx.recorder.attempts)
    request_id = str(uuid.uuid4())
    create = entity_pb2.CreateEntityRequest(entity_type=spec.type, config=config,
                                            media_type=MEDIA[media], request_id=request_id,
                                            name=ctx.tracker.name("e19"))
    sink = entity_body((await ctx.ok(ctx.entities.CreateEntity, create, "E-19",
                                     "CreateEntity")).entity).id
    ctx.tracker.add("entity", sink, ctx.check.name)
    await ctx.ok(ctx.entities.CreateEntity, create, "N-2", "the same CreateEntity repeated")
    await ctx.ok(ctx.entities.ConfigureEntity, entity_pb2.ConfigureEntityRequest(
        entity_id=sink, config=config), "E-19", "ConfigureEntity")
    connection_id = ctx.tracker.name("conn")
    if kind == "sink":
        connect = pipeline_pb2.ConnectEntitiesRequest(
            connection_id=connection_id, source_entity_id=OTHER_END, target_entity_id=sink,
            media_type=MEDIA[media], role=pipeline_pb2.CONNECTION_ROLE_TARGET)
    else:  # the module sends to a port nobody reads (loopback discard)
        connect = pipeline_pb2.ConnectEntitiesRequest(
            connection_id=connection_id, source_entity_id=sink, target_entity_id=OTHER_END,
            media_type=MEDIA[media], role=pipeline_pb2.CONNECTION_ROLE_SOURCE,
            endpoint=pipeline_pb2.MediaEndpoint(transport="mpegts-udp",
                                                url="udp://127.0.0.1:9?pkt_size=1316"))
    for _ in range(2):
        await ctx.ok(ctx.pipeline.ConnectEntities, connect, "E-19", "ConnectEntities (twice)")
    flow_id = ctx.tracker.name("flow")
    start = pipeline_pb2.StartFlowRequest(flow_id=flow_id, connection_ids=[connection_id])
    for _ in range(2):
        await ctx.ok(ctx.pipeline.StartFlow, start, "E-19", "StartFlow (twice)")
    for _ in range(2):
        await ctx.ok(ctx.pipeline.StopFlow, pipeline_pb2.StopFlowRequest(flow_id=flow_id),
                     "E-19", "StopFlow (twice)")
        await ctx.ok(ctx.pipeline.DisconnectEntities, pipeline_pb2.DisconnectEntitiesRequest(
            connection_id=connection_id), "E-19", "DisconnectEntities (twice)")
        await ctx.ok(ctx.entities.DestroyEntity, entity_pb2.DestroyEntityRequest(
            entity_id=sink), "E-19", "DestroyEntity (twice)")
    ctx.tracker.forget("entity", sink)
    await asyncio.sleep(SETTLE)
    events = events_of(ctx, mark)
    expected = {T.EVENT_TYPE_ENTITY_CREATED: 1, T.EVENT_TYPE_ENTITY_CONFIGURED: 1,
                T.EVENT_TYPE_CONNECTION_CREATED: 1, T.EVENT_TYPE_FLOW_STARTED: 1,
                T.EVENT_TYPE_FLOW_STOPPED: 1, T.EVENT_TYPE_CONNECTION_REMOVED: 1,
                T.EVENT_TYPE_ENTITY_DESTROYED: 1}
    for kind, count in expected.items():
        mine = [e for e in events if e.type == kind and (
            e.source_entity_id == sink or e.connection_id == connection_id
            or e.flow_id == flow_id)]
        ctx.require(len(mine) == count, "E-19", f"exactly {count} "
                    f"{T.EventType.Name(kind)} for calls made twice (repeats report nothing)",
                    str(len(mine)))
        for event in mine:
            check_fields(ctx, event, sink, connection_id, flow_id)
    statuses = [a.report for a in ctx.recorder.attempts[mark:]
                if a.instance == ctx.suite.target.instance_id and a.outcome == "accepted"
                and a.report.WhichOneof("report") in ("status", "event")]
    about = [r for r in statuses if r.WhichOneof("report") == "status" and
             r.status.entity_id == sink]
    ctx.require(about, "E-20", f"StatusUpdates about {sink}", "none")
    order = [describe(r) for r in statuses if (r.WhichOneof("report") == "status" and
             r.status.entity_id == sink) or (event_type(r) == T.EVENT_TYPE_ENTITY_CREATED and
                                            r.event.source_entity_id == sink)]
    ctx.require(len(order) >= 2 and "ENTITY_CREATED" in order[0] and "status" in order[1],
                "E-20", "a StatusUpdate right after ENTITY_CREATED", ", ".join(order[:4]))
    states = [r.status.entity_status.state for r in about]
    ctx.require(common_pb2.ENTITY_STATE_ACTIVE in states, "E-20",
                "a StatusUpdate when the entity turned ACTIVE (its flow started)",
                ", ".join(common_pb2.EntityState.Name(s) for s in states))


def check_fields(ctx: CheckContext, event: event_pb2.Event, entity: str, connection: str,
                 flow: str) -> None:
    name = T.EventType.Name(event.type)
    ctx.require(event.source_module_id == ctx.suite.target.module_id, "E-21",
                f"source_module_id {ctx.suite.target.module_id!r} on {name}",
                repr(event.source_module_id))
    if event.type in (T.EVENT_TYPE_CONNECTION_CREATED, T.EVENT_TYPE_CONNECTION_REMOVED):
        ctx.require(event.connection_id == connection and event.source_entity_id == entity,
                    "E-21", f"{name} with connection_id {connection} and source_entity_id "
                    f"{entity} (this module's end)",
                    f"connection_id {event.connection_id!r}, entity {event.source_entity_id!r}")
        ends = {event.details.get("source_entity_id"), event.details.get("target_entity_id")}
        ctx.require(ends == {OTHER_END, entity}, "E-21", f"{name} details naming both ends "
                    f"({entity} and {OTHER_END})", str(dict(event.details)))
    elif event.type in (T.EVENT_TYPE_FLOW_STARTED, T.EVENT_TYPE_FLOW_STOPPED):
        ctx.require(event.flow_id == flow and not event.source_entity_id, "E-21",
                    f"{name} with flow_id {flow} and no entity",
                    f"flow_id {event.flow_id!r}, entity {event.source_entity_id!r}")
    else:
        ctx.require(event.source_entity_id == entity, "E-21",
                    f"{name} naming entity {entity}", repr(event.source_entity_id))


@CHECKS.check("E-22", "E-23", exclusive=True, title="a report call refused with "
              "INVALID_ARGUMENT is not retried; the drop is declared by a WARNING with "
              "dropped_reports, first_dropped, last_dropped; every call has a deadline")
async def drops_declared(ctx: CheckContext) -> None:
    need_events(ctx)
    spec, config = ctx.any_creatable()
    mark = len(ctx.recorder.attempts)
    ctx.recorder.reject_next = 1
    try:
        first = entity_body(await ctx.create_entity(spec, config, rule="E-22")).id

        def rejected() -> bool:
            return any(a.outcome == "rejected" for a in ctx.recorder.attempts[mark:])
        await ctx.recorder.wait_for(rejected, within=5.0)
    finally:
        ctx.recorder.reject_next = 0
    dropped = sorted({a.sequence for a in ctx.recorder.attempts[mark:]
                      if a.outcome == "rejected"})
    ctx.require(dropped, "E-23", "a report call to the rejecting EventService", "none arrived")
    await ctx.create_entity(spec, config, rule="E-22")  # a send that succeeds
    await asyncio.sleep(0.5)  # a retry (50 ms backoff) would have come by now
    retried = [a for a in ctx.recorder.attempts[mark:]
               if a.sequence in dropped and a.outcome != "rejected"]
    ctx.require(not retried, "E-23", "no retry of reports answered INVALID_ARGUMENT",
                f"#{retried[0].sequence} sent again" if retried else "")

    def warned() -> bool:
        return any(e.type == T.EVENT_TYPE_WARNING and "dropped_reports" in e.details
                   for e in events_of(ctx, mark))
    ctx.require(await ctx.recorder.wait_for(warned, within=5.0), "E-22",
                f"a WARNING declaring the dropped reports {dropped[0]}..{dropped[-1]}",
                "no WARNING with details['dropped_reports'] within 5 s")
    warning = next(e for e in events_of(ctx, mark)
                   if e.type == T.EVENT_TYPE_WARNING and "dropped_reports" in e.details)
    details = dict(warning.details)
    want = {"dropped_reports": str(len(dropped)), "first_dropped": str(dropped[0]),
            "last_dropped": str(dropped[-1])}
    got = {k: details.get(k, "") for k in want}
    ctx.require(got == want, "E-22", f"details {want}", str(got))
    no_deadline = [a for a in ctx.recorder.attempts if a.deadline is None
                   and a.instance == ctx.suite.target.instance_id]
    ctx.require(not no_deadline, "E-23", "a deadline on every report call",
                f"call {no_deadline[0].call} without one" if no_deadline else "")
    del first
