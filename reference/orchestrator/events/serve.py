"""The event bus alone on a port: EventService, and OrchestratorService.SubscribeToEvents.

The real orchestrator (`mediagrid up`) serves this same bus beside everything else. This
smaller server exists for the bus's own tests and benchmark, and for a module author who wants
to watch a module's reports without running the orchestrator:

    python -m mediagrid.reference.orchestrator.events.serve --state /tmp/events.sqlite
    MEDIAGRID_ORCHESTRATOR_ADDRESS=127.0.0.1:50050 python my_module.py   # another terminal
    mediagrid events --follow                                            # a third

It prints `ready on HOST:PORT` once it accepts calls, and stops cleanly on SIGTERM or Ctrl-C
(subscribers get SHUTTING_DOWN). Every other OrchestratorService call is UNIMPLEMENTED.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from mediagrid.reference.orchestrator.events.bus import EventBus
from mediagrid.reference.orchestrator.events.settings import EventSettings
from mediagrid.v1 import (
    event_pb2_grpc,
    orchestrator_pb2,
    orchestrator_pb2_grpc,
)

MAX_MESSAGE = 4 * 1024 * 1024  # rule S-5


class SubscribeOnly(orchestrator_pb2_grpc.OrchestratorServiceServicer):
    """OrchestratorService with SubscribeToEvents only, exactly as the orchestrator does it."""

    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    async def SubscribeToEvents(  # type: ignore[override]
        self, request: orchestrator_pb2.SubscribeToEventsRequest,
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[orchestrator_pb2.SubscribeToEventsResponse]:
        # aclosing: when the client goes, the bus's stream ends at once (and frees its slot)
        async with contextlib.aclosing(self._bus.subscribe(request, context)) as stream:
            async for message in stream:
                yield message


@contextlib.asynccontextmanager
async def serving(bus: EventBus, address: str = "127.0.0.1:0") -> AsyncIterator[str]:
    """Serves `bus` on `address` (port 0: a free one); yields the HOST:PORT bound. On exit the
    bus is closed first, so subscribers get SHUTTING_DOWN before the server stops."""
    server = grpc.aio.server(options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE),
        ("grpc.max_send_message_length", MAX_MESSAGE),
        ("grpc.so_reuseport", 0),
    ])
    event_pb2_grpc.add_EventServiceServicer_to_server(bus.servicer(), server)
    orchestrator_pb2_grpc.add_OrchestratorServiceServicer_to_server(SubscribeOnly(bus), server)
    host = address.rsplit(":", 1)[0]
    port = server.add_insecure_port(address)
    if not port:
        raise OSError(f"cannot listen on {address}")
    await server.start()
    try:
        yield f"{host}:{port}"
    finally:
        await bus.close()
        await server.stop(grace=1.0)


async def serve(state: Path, address: str, settings: EventSettings) -> None:
    bus = await EventBus.open(state, settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with serving(bus, address) as bound:
        print(f"ready on {bound}", flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mediagrid.reference.orchestrator.events.serve",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--state", type=Path, default=Path("mediagrid-state.sqlite"),
                        help="state file holding the event log (default: %(default)s)")
    parser.add_argument("--address", default="127.0.0.1:50050",
                        help="HOST:PORT to listen on; port 0 picks a free one "
                             "(default: %(default)s)")
    parser.add_argument("--retain-envelopes", type=int, default=EventSettings.retain_envelopes)
    parser.add_argument("--subscriber-buffer", type=int,
                        default=EventSettings.subscriber_buffer)
    parser.add_argument("--bookmark-interval", type=float,
                        default=EventSettings.bookmark_interval)
    args = parser.parse_args(argv)
    try:
        settings = EventSettings(retain_envelopes=args.retain_envelopes,
                                 subscriber_buffer=args.subscriber_buffer,
                                 bookmark_interval=args.bookmark_interval)
    except ValueError as exc:
        parser.error(str(exc))
    asyncio.run(serve(args.state, args.address, settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
