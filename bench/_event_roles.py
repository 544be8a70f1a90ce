"""The processes of bench/event_throughput.py: module reporters, subscribers, the baseline.

    python bench/_event_roles.py module ADDRESS MODULE_ID EVENTS RATE
        an SDK EventReporter in its own process; prints `ready`, waits for `go` on stdin,
        then reports EVENTS events as fast as the reporter takes them without dropping any
        (its queue is kept under 2,000 of its 10,000), or RATE per second when RATE is not 0,
        and prints its stats as JSON
    python bench/_event_roles.py subscribers ADDRESS COUNT TOTAL MAX_BATCH
        COUNT subscriptions from the live end; prints `ready` once each got its first
        bookmark, then reads until each has TOTAL envelopes; prints per-stream results as JSON
    python bench/_event_roles.py baseline PORT
        a bare grpc.aio server that fans the same batches out to its subscribers without a
        log, deduplication, filters or bounded buffers: the baseline of the ratio
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mediagrid import sdk
from mediagrid.v1 import (
    event_pb2,
    event_pb2_grpc,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

HIGH_WATER = 2_000  # the reporter's queue is kept below this: nothing is ever dropped


async def module(address: str, module_id: str, events: int, rate: float) -> None:
    """Reports `events` events: as fast as the reporter takes them (rate 0), or at `rate`/s."""
    sender = sdk.GrpcReportSender(address, timeout=30)
    rep = sdk.EventReporter(module_id, uuid.uuid4().hex, sender=sender)
    task = asyncio.create_task(rep.run())
    print("ready", flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # "go"
    started = time.perf_counter()
    made = 0
    while made < events:
        room = min(HIGH_WATER - rep.queued, events - made)
        if rate:
            due = int((time.perf_counter() - started) * rate) + 1
            room = min(room, due - made)
            if room <= 0:
                await asyncio.sleep(max(0.001, (made + 1) / rate - (time.perf_counter() - started)))
                continue
        if room <= 0:
            await asyncio.sleep(0.001)
            continue
        for _ in range(min(room, 500)):
            rep.event(event_pb2.EVENT_TYPE_INFO, "bench event", details={"n": str(made)})
            made += 1
        await asyncio.sleep(0)
    flushed = await rep.flush(120)
    elapsed = time.perf_counter() - started
    task.cancel()
    await sender.close()
    print(json.dumps({"made": rep.stats.made, "sent": rep.stats.sent, "dropped":
                      rep.stats.dropped, "failures": rep.stats.failures, "flushed": flushed,
                      "seconds": elapsed}), flush=True)


async def one_stream(stub: orchestrator_pb2_grpc.OrchestratorServiceStub, total: int,
                     max_batch: int, ready: asyncio.Event, out: dict) -> None:  # type: ignore[type-arg]
    """Follows the stream until `total` envelopes came, checking each module's sequences.
    Cut off for lagging (E-15), it reconnects with its cursor, as a real subscriber does."""
    last: dict[str, int] = {}
    count = wrong = lags = 0
    made_lat: list[float] = []
    accepted_lat: list[float] = []
    first_at = 0.0
    cursor = ""
    while count < total:
        call = stub.SubscribeToEvents(orchestrator_pb2.SubscribeToEventsRequest(
            subscriber="bench", max_batch=max_batch, since_cursor=cursor))
        try:
            while count < total:
                message = await call.read()
                if message is grpc.aio.EOF:
                    raise RuntimeError("the stream ended")
                cursor = message.resume_cursor or cursor
                if message.signal == orchestrator_pb2.STREAM_SIGNAL_LAGGED:
                    lags += 1
                    continue
                ready.set()
                if not message.envelopes:
                    continue
                now = time.time()
                first_at = first_at or now
                for e in message.envelopes:
                    h = e.report.header
                    if last.get(h.instance_id, 0) + 1 != h.sequence:
                        wrong += 1  # a loss, a repeat or a reordering
                    last[h.instance_id] = h.sequence
                count += len(message.envelopes)
                tail = message.envelopes[-1]
                made_lat.append(now - tail.report.event.timestamp.ToNanoseconds() / 1e9)
                accepted_lat.append(now - tail.received_at.ToNanoseconds() / 1e9)
        except grpc.aio.AioRpcError as exc:
            if exc.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:
                raise
        finally:
            call.cancel()
    out.update(count=count, wrong=wrong, lags=lags, first_at=first_at, last_at=time.time(),
               instances=len(last), made_latency=made_lat, accepted_latency=accepted_lat)


async def subscribers(address: str, count: int, total: int, max_batch: int) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(channel)
        results: list[dict] = [{} for _ in range(count)]  # type: ignore[type-arg]
        readies = [asyncio.Event() for _ in range(count)]
        tasks = [asyncio.create_task(one_stream(stub, total, max_batch, r, out))
                 for r, out in zip(readies, results, strict=True)]
        for r in readies:
            await r.wait()
        print("ready", flush=True)
        await asyncio.gather(*tasks)
    print(json.dumps(results), flush=True)


class Baseline(event_pb2_grpc.EventServiceServicer,
               orchestrator_pb2_grpc.OrchestratorServiceServicer):
    def __init__(self) -> None:
        self.position = 0
        self.queues: list[asyncio.Queue[list[orchestrator_pb2.EventEnvelope]]] = []

    def _fan_out(self, reports: list[event_pb2.ModuleReport]) -> None:
        now = time.time_ns()
        envelopes = []
        for report in reports:
            self.position += 1
            e = orchestrator_pb2.EventEnvelope(cursor=f"{self.position:024d}", report=report)
            e.received_at.FromNanoseconds(now)
            envelopes.append(e)
        for queue in self.queues:
            queue.put_nowait(envelopes)

    async def ReportBatch(self, request, context):  # type: ignore[no-untyped-def]
        self._fan_out(list(request.reports))
        return event_pb2.ReportBatchResponse(accepted=len(request.reports))

    async def ReportEvent(self, request, context):  # type: ignore[no-untyped-def]
        self._fan_out([event_pb2.ModuleReport(header=request.header, event=request.event)])
        return event_pb2.ReportEventResponse()

    async def SubscribeToEvents(self, request, context):  # type: ignore[no-untyped-def]
        queue: asyncio.Queue[list[orchestrator_pb2.EventEnvelope]] = asyncio.Queue()
        self.queues.append(queue)
        limit = request.max_batch or 100
        try:
            yield orchestrator_pb2.SubscribeToEventsResponse(bookmark=True)
            pending: list[orchestrator_pb2.EventEnvelope] = []
            while True:
                if not pending:
                    pending = list(await queue.get())
                while not queue.empty():
                    pending += queue.get_nowait()
                batch, pending = pending[:limit], pending[limit:]
                yield orchestrator_pb2.SubscribeToEventsResponse(
                    envelopes=batch, resume_cursor=batch[-1].cursor)
        finally:
            self.queues.remove(queue)


async def baseline(port: int) -> None:
    server = grpc.aio.server()
    servicer = Baseline()
    event_pb2_grpc.add_EventServiceServicer_to_server(servicer, server)
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print(f"ready on 127.0.0.1:{port}", flush=True)
    await server.wait_for_termination()


def main(argv: list[str]) -> None:
    role, *args = argv
    if role == "module":
        asyncio.run(module(args[0], args[1], int(args[2]), float(args[3])))
    elif role == "subscribers":
        asyncio.run(subscribers(args[0], int(args[1]), int(args[2]), int(args[3])))
    elif role == "baseline":
        asyncio.run(baseline(int(args[0])))
    else:
        raise SystemExit(f"unknown role {role!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
