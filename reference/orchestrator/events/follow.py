"""The client side of `mediagrid events`: read the stream, resume by cursor, survive restarts.

`watch()` subscribes with the cursor it holds, prints every envelope, and keeps the cursor of
the last message (envelopes, bookmarks and signals all carry one). Without --follow it stops
at the first bookmark, which the orchestrator sends when the subscriber reaches the live end.
With --follow it reconnects with that cursor whenever the stream breaks after it once worked:
the orchestrator restarting (SHUTTING_DOWN, UNAVAILABLE) or this terminal falling behind
(LAGGED): nothing is shown twice and nothing is skipped.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass

import grpc
from rich.console import Console
from rich.markup import escape

from mediagrid.backoff import REPORT_RETRY, Backoff
from mediagrid.reference.orchestrator.dial import ClientTls, dial, token_metadata
from mediagrid.reference.orchestrator.events import render
from mediagrid.v1 import orchestrator_pb2, orchestrator_pb2_grpc

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
SHUTTING_DOWN = orchestrator_pb2.STREAM_SIGNAL_SHUTTING_DOWN
LAGGED = orchestrator_pb2.STREAM_SIGNAL_LAGGED


@dataclass
class Watch:
    address: str
    filter: orchestrator_pb2.EventFilter
    since: str
    follow: bool
    tls: ClientTls | None = None


class Output:
    """Envelopes on stdout (lines or JSON lines); notes and the summary's advice on stderr."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self.out = Console(highlight=False, soft_wrap=True)
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.cursor = ""
        self.shown = 0

    def envelope(self, envelope: orchestrator_pb2.EventEnvelope) -> None:
        self.shown += 1
        if self.as_json:
            print(render.as_json(envelope), flush=True)
        else:
            self.out.print(render.line(envelope))

    def note(self, message: str) -> None:
        self.err.print(f"[dim]{escape(message)}[/]")

    def summary(self, error: str = "") -> None:
        if self.as_json:
            doc = {"ok": not error, "shown": self.shown, "resume_cursor": self.cursor}
            print(json.dumps({**doc, "error": error} if error else doc), flush=True)
        if error:
            self.err.print(f"[red]error:[/] {escape(error)}")
        elif not self.as_json:
            again = f" --since {self.cursor}" if self.cursor else ""
            self.note(f"{self.shown} shown; to go on from here: mediagrid events --follow{again}")


# Dial again soon after the orchestrator comes back: gRPC's own reconnect backoff would
# otherwise grow to minutes while it is down, and every retry in between fails at once.
RECONNECT_OPTIONS = (
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 2000),
)


def channel(address: str, tls: ClientTls | None) -> grpc.aio.Channel:
    return dial(address, tls, RECONNECT_OPTIONS)


async def watch(w: Watch, out: Output) -> int:
    """Prints the stream; returns the exit code or raises Failure (the caller prints the
    summary)."""
    out.cursor = w.since
    backoff = Backoff(REPORT_RETRY)
    ever = lagged = False  # ever: a stream of this run worked once
    async with channel(w.address, w.tls) as ch:
        stub = orchestrator_pb2_grpc.OrchestratorServiceStub(ch)
        while True:
            request = orchestrator_pb2.SubscribeToEventsRequest(
                filter=w.filter, since_cursor=out.cursor, subscriber="mediagrid events",
                max_batch=500)
            try:
                async for message in stub.SubscribeToEvents(request, metadata=token_metadata()):
                    if backoff.attempt:
                        out.note(f"reconnected to {w.address}")
                        backoff.reset()
                    ever, lagged = True, False
                    for envelope in message.envelopes:
                        out.envelope(envelope)
                    out.cursor = message.resume_cursor or out.cursor
                    if message.signal == LAGGED:
                        lagged = True
                        out.note("this terminal fell behind the stream; resuming from its cursor")
                    elif message.signal == SHUTTING_DOWN:
                        out.note(f"the orchestrator at {w.address} is shutting down")
                    elif message.bookmark and not w.follow:
                        return EXIT_OK
                if not w.follow:
                    raise Failure(EXIT_FAILURE, "the orchestrator ended the stream before its "
                                                "live end was reached")
            except grpc.aio.AioRpcError as exc:
                if lagged and exc.code() is grpc.StatusCode.RESOURCE_EXHAUSTED:
                    continue  # at once, from the cursor of the LAGGED signal
                _check(exc, w, out, ever)
            if not backoff.attempt:
                out.note(f"the orchestrator at {w.address} is gone; retrying, to resume at "
                         f"{out.cursor or 'the live end'}")
            await asyncio.sleep(backoff.next_delay())


class Failure(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def _check(exc: grpc.aio.AioRpcError, w: Watch, out: Output, ever: bool) -> None:
    """Returns when the stream is worth resuming; raises Failure otherwise."""
    code, details = exc.code(), exc.details() or ""
    if code is grpc.StatusCode.UNAVAILABLE:
        if not ever:
            raise Failure(EXIT_FAILURE, f"no orchestrator answers at {w.address}: start one "
                                        "with `mediagrid up --modules DIR`, or give its --address")
        if not w.follow:
            raise Failure(EXIT_FAILURE, f"lost the orchestrator at {w.address}: {details}")
        return
    if code is grpc.StatusCode.OUT_OF_RANGE:
        if not ever:
            raise Failure(EXIT_INVALID, f"--since {w.since}: {details}")
        out.note("events were dropped from the retained window while this command was away; "
                 "going on from the oldest retained")
        out.cursor = "0"
        return
    if code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.INVALID_ARGUMENT):
        hint = " (set MEDIAGRID_TOKEN)" if code is grpc.StatusCode.UNAUTHENTICATED else ""
        raise Failure(EXIT_INVALID, f"{details}{hint}")
    raise Failure(EXIT_FAILURE, f"the orchestrator at {w.address} refused: {code.name}: "
                                f"{details}")
