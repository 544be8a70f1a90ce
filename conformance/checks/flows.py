"""Flows with real media, both directions (rules P-5, P-9, P-10, P-11, P-14).

For a sink the suite is the source: ffmpeg sends MPEG-TS at a known frame rate to the
endpoint the module returned for role TARGET. For a source the suite is the target: it
listens, asks the module (role SOURCE) to send there, and measures what arrives.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

from mediagrid.conformance.checks.pipeline_support import (
    codec_for,
    connect_source,
    connect_target,
    flow,
    flow_state,
    make,
    needs_source,
    needs_target,
    start_flow,
    wait_state,
)
from mediagrid.conformance.configs import stall_period, start_period
from mediagrid.conformance.context import CheckContext
from mediagrid.conformance.media import SEND_FPS, MediaReceiver, MediaSender
from mediagrid.conformance.registry import PIPELINE, CheckFailed, Checks, NotApplicable
from mediagrid.v1 import common_pb2, pipeline_pb2

CHECKS = Checks("flows")
ACTIVE_WITHIN = 15.0
FPS_TOLERANCE = 0.3  # measured by the module vs measured by the suite
BITRATE_RANGE = (0.75, 1.25)  # contract §4.4: ±25 % over a window of at least 5 s
WINDOW = 5.5


@contextlib.asynccontextmanager
async def sending(url: str, media: str, codec: str) -> AsyncIterator[MediaSender]:
    sender = MediaSender(url, media, codec)
    await sender.start()
    try:
        yield sender
    finally:
        await sender.stop()


@contextlib.asynccontextmanager
async def receiving(count: int = 1) -> AsyncIterator[list[MediaReceiver]]:
    receivers = [MediaReceiver() for _ in range(count)]
    try:
        for receiver in receivers:
            await receiver.start()
        yield receivers
    finally:
        for receiver in receivers:
            await receiver.stop()


def compare_fps(ctx: CheckContext, reported: float, measured: float, where: str) -> None:
    low, high = measured * (1 - FPS_TOLERANCE), measured * (1 + FPS_TOLERANCE)
    ctx.require(low <= reported <= high, "P-10",
                f"FlowMetrics.fps measured from the media: {measured:.1f} fps {where} "
                f"(±{FPS_TOLERANCE:.0%})", f"{reported:.1f} fps")


def compare_bitrate(ctx: CheckContext, reported: int, measured: float, where: str) -> None:
    low, high = measured * BITRATE_RANGE[0], measured * BITRATE_RANGE[1]
    ctx.require(low <= reported <= high, "P-24",
                f"FlowStatus.bandwidth_usage within ±25 % of the {measured / 1000:.0f} kbit/s "
                f"{where} (MPEG-TS bytes, 5 s window)", f"{reported / 1000:.0f} kbit/s")


async def measured(ctx: CheckContext, judge: Callable[[], Awaitable[None]]) -> None:
    """Runs `judge` (which reads the flow and compares its figures with the suite's); a
    disagreement is measured once more over a fresh window before it fails. On a loaded
    machine the suite's own sender or receiver can be starved for a moment, which is not the
    module's fault; a module whose figures are wrong is wrong in both windows."""
    try:
        await judge()
    except CheckFailed as first:
        ctx.note(f"the figures disagreed once ({first.rule}: expected {first.expected}; got "
                 f"{first.got}); measured again over a fresh {WINDOW:g} s window")
        await asyncio.sleep(WINDOW)
        await judge()


@CHECKS.check("P-10", "P-11", "P-22", "P-23", "P-24", "S-10", title="suite as source: not "
              "ACTIVE without media, ACTIVE with measured fps and bandwidth, ERROR when media "
              "stops and no false ACTIVE after, ACTIVE again when a new stream starts",
              profile=PIPELINE, needs=[needs_target], slow=True, timeout=90.0)
async def sink_flow_measured(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")
    codec = codec_for(ctx, spec, media)
    connection = await connect_target(ctx, sink, media, rule="P-11")
    started = await start_flow(ctx, [connection.id], rule="P-11")
    await asyncio.sleep(1.5)
    idle = await flow(ctx, started.id, "P-11")
    ctx.require(flow_state(idle) != "ACTIVE", "P-11",
                "no ACTIVE flow before any media arrives (the suite sent nothing yet)",
                f"ACTIVE, fps {idle.metrics.fps:.1f}")
    listener_bound_to_bind_host(ctx, connection.endpoint.url)
    stall = stall_period(ctx.manifest)
    async with sending(connection.endpoint.url, media, codec) as sender:
        await wait_state(ctx, started.id, "ACTIVE", ACTIVE_WITHIN, "P-11",
                         f"once the suite sends {media} to {connection.endpoint.url}")
        await asyncio.sleep(WINDOW)  # let both sides' windows fill

        async def judge() -> None:
            active = await flow(ctx, started.id, "P-10")
            if media == "video":
                compare_fps(ctx, active.metrics.fps, sender.rate.fps() or SEND_FPS,
                            "sent by the suite")
            compare_bitrate(ctx, active.status.bandwidth_usage, sender.rate.bitrate(),
                            "sent by the suite")
            latency = active.status.latency_ms
            ctx.require(latency == -1 or 0 <= latency < 10_000, "P-10",
                        "latency_ms measured (0-10000) or -1 when not measured", str(latency))
        await measured(ctx, judge)
    stalled = await wait_state(ctx, started.id, "ERROR", stall + 2.0, "P-11",
                               f"after the media stopped (stall period {stall:g} s)")
    ctx.require("stall" in stalled.status.error_message.lower(), "P-11",
                "an error_message that says the flow stalled",
                repr(stalled.status.error_message))
    await stays(ctx, started.id, "ERROR", 5.5, "P-22", "while nothing is sent (a decoder "
                "flushing at its receive timeout is not media)")
    async with sending(connection.endpoint.url, media, codec):
        await wait_state(ctx, started.id, "ACTIVE", ACTIVE_WITHIN, "P-23",
                         "once a new stream starts (a target copes with a restarted source)")


def listener_bound_to_bind_host(ctx: CheckContext, url: str) -> None:
    """S-10: the endpoint's UDP port is bound to the bind host, not every interface."""
    port = int(url.split("://", 1)[1].split("?")[0].rpartition(":")[2])
    bound = udp_addresses(port)
    if bound is None or not bound:
        ctx.note(f"no UDP socket on port {port} seen in /proc/net/udp before media: S-10 not "
                 "judged here")
        return
    wide = [a for a in bound if a in ("0.0.0.0", "::")]
    ctx.require(not wide, "S-10", f"the media listener on port {port} bound to the bind host",
                f"bound to {', '.join(bound)}")


def udp_addresses(port: int) -> list[str] | None:
    from mediagrid.conformance.checks.security import proc_sockets

    return proc_sockets("udp", port, state=None)


async def stays(ctx: CheckContext, flow_id: str, state: str, seconds: float, rule: str,
                why: str) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        now = await flow(ctx, flow_id, rule)
        ctx.require(flow_state(now) == state, rule, f"the flow staying {state} {why}",
                    f"{flow_state(now)} ({now.status.error_message or 'no message'})")
        await asyncio.sleep(0.25)


@CHECKS.check("P-21", title="a flow that gets no media within the start period turns ERROR "
              "saying so, and ACTIVE when media comes later", profile=PIPELINE,
              needs=[needs_target], slow=True, timeout=60.0)
async def no_media_turns_error(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")
    codec = codec_for(ctx, spec, media)
    connection = await connect_target(ctx, sink, media, rule="P-21")
    started = await start_flow(ctx, [connection.id], rule="P-21")
    period = start_period(ctx.manifest)
    failed = await wait_state(ctx, started.id, "ERROR", period + 3.0, "P-21",
                              f"with no media within the start period ({period:g} s)")
    ctx.require("no media" in failed.status.error_message.lower(), "P-21",
                "an error_message saying no media arrived", repr(failed.status.error_message))
    async with sending(connection.endpoint.url, media, codec):
        await wait_state(ctx, started.id, "ACTIVE", ACTIVE_WITHIN, "P-21",
                         "once media comes after the start period")


@CHECKS.check("P-10", "P-5", "P-24", title="suite as target: a source feeds two targets at "
              "once, each gets the full stream; reported fps and bandwidth match what arrives",
              profile=PIPELINE, needs=[needs_source], slow=True, timeout=60.0)
async def source_flow_measured(ctx: CheckContext) -> None:
    _, source, media = await make(ctx, "source")
    async with receiving(2) as receivers:
        connections = [await connect_source(ctx, source, media, r.url, rule="P-5")
                       for r in receivers]
        started = await start_flow(ctx, [c.id for c in connections], rule="P-5")
        await wait_state(ctx, started.id, "ACTIVE", ACTIVE_WITHIN, "P-11",
                         "once the source sends to the suite")
        await asyncio.sleep(WINDOW)
        for index, receiver in enumerate(receivers):
            ctx.require(receiver.bytes > 0 and receiver.rate.bitrate() > 0, "P-5",
                        f"media at each of the {len(receivers)} targets",
                        f"target {index + 1} received {receiver.bytes} bytes")

        async def judge() -> None:
            status = await flow(ctx, started.id, "P-10")
            first, second = receivers
            if media == "video":
                ctx.require(abs(first.rate.fps() - second.rate.fps())
                            <= 0.3 * max(first.rate.fps(), 1.0), "P-5",
                            "each target receiving the full stream (the same fps)",
                            f"{first.rate.fps():.1f} vs {second.rate.fps():.1f} fps")
                compare_fps(ctx, status.metrics.fps, first.rate.fps(), "received by the suite")
            compare_bitrate(ctx, status.status.bandwidth_usage,
                            sum(r.rate.bitrate() for r in receivers),
                            "received by the suite (both targets)")
        await measured(ctx, judge)


@CHECKS.check("P-14", title="disconnecting a connection a running flow uses turns the flow "
              "ERROR naming the connection", profile=PIPELINE, needs=[needs_target],
              slow=True, timeout=40.0)
async def disconnect_breaks_flow(ctx: CheckContext) -> None:
    spec, sink, media = await make(ctx, "sink")
    connection = await connect_target(ctx, sink, media, rule="P-14")
    started = await start_flow(ctx, [connection.id], rule="P-14")
    async with sending(connection.endpoint.url, media, codec_for(ctx, spec, media)):
        await wait_state(ctx, started.id, "ACTIVE", ACTIVE_WITHIN, "P-11", "with media sent")
        await ctx.ok(ctx.pipeline.DisconnectEntities, pipeline_pb2.DisconnectEntitiesRequest(
            connection_id=connection.id), "P-7", "DisconnectEntities")
        ctx.tracker.forget("connection", connection.id)
        broken = await wait_state(ctx, started.id, "ERROR", 2.0, "P-14",
                                  f"after its connection {connection.id} was removed")
        ctx.require(connection.id in broken.status.error_message, "P-14",
                    f"an error_message naming {connection.id}",
                    repr(broken.status.error_message))


@CHECKS.check("P-9", title="AdjustQuality answers with the quality in force; zero fields keep "
              "their value", profile=PIPELINE, needs=[needs_source], slow=True, timeout=40.0)
async def adjust_quality(ctx: CheckContext) -> None:
    _, source, media = await make(ctx, "source")
    async with receiving(1) as (receiver,):
        connection = await connect_source(ctx, source, media, receiver.url, rule="P-9")
        started = await start_flow(ctx, [connection.id], rule="P-9")
        first = common_pb2.QualityProfile(bitrate=300_000)
        code, details = await ctx.code(ctx.pipeline.AdjustQuality,
                                       pipeline_pb2.AdjustQualityRequest(flow_id=started.id,
                                                                         quality=first))
        if code.name in ("FAILED_PRECONDITION", "UNIMPLEMENTED"):
            raise NotApplicable(f"the source type does not adjust quality ({code.name}: "
                                f"{details})")
        ctx.require(code.name == "OK", "P-9", "OK from AdjustQuality on a running flow",
                    f"{code.name}: {details}")
        second = await ctx.ok(ctx.pipeline.AdjustQuality, pipeline_pb2.AdjustQualityRequest(
            flow_id=started.id, quality=common_pb2.QualityProfile(framerate=12)), "P-9",
            "AdjustQuality of the frame rate only")
        for conn in second.connections:
            ctx.require(conn.quality.bitrate == 300_000 and conn.quality.framerate == 12, "P-9",
                        "bitrate kept (300000) and framerate 12 in the answer",
                        f"bitrate {conn.quality.bitrate}, framerate {conn.quality.framerate}")
