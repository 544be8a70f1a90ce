"""The gRPC transcript of a check: every call with request, status, response and timing.

`Transcript.interceptors()` go on the check's own channel, so each failing check shows the
calls it made and nothing else.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import text_format
from google.protobuf.message import Message

MAX_TEXT = 600  # characters of one request or response kept in the report
TOKEN = re.compile(r"\b([a-z_][a-z0-9_]*)(?=[:{ ])|\b([A-Z][A-Z0-9_]{3,})\b")


def tokens(*messages: Any) -> frozenset[str]:
    """Field names and enum value names in the messages (for the coverage matrix)."""
    found: set[str] = set()
    for message in messages:
        if isinstance(message, Message):
            text = text_format.MessageToString(message, as_one_line=True)
            found.update(a or b for a, b in TOKEN.findall(text))
    return frozenset(found)


def brief(message: Any) -> str:
    """A message in one line of protobuf text format, cut to MAX_TEXT characters."""
    if message is None:
        return ""
    if isinstance(message, Message):
        text = text_format.MessageToString(message, as_one_line=True)
    else:
        text = str(message)
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}... ({len(text)} chars)"


@dataclass
class Call:
    method: str  # /mediagrid.v1.EntityService/CreateEntity
    request: str
    status: str  # OK, NOT_FOUND...
    details: str
    response: str
    started: float  # seconds since the transcript began
    seconds: float
    tokens: frozenset[str] = frozenset()  # field and enum value names in request and response

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "request": self.request, "status": self.status,
                "details": self.details, "response": self.response,
                "started_s": round(self.started, 4), "ms": round(self.seconds * 1000, 1)}

    def line(self) -> str:
        head = f"+{self.started:7.3f}s {self.method} ({self.seconds * 1000:.1f} ms)"
        out = f"{head}\n    request:  {self.request or '{}'}\n    status:   {self.status}"
        if self.details:
            out += f" ({self.details})"
        if self.response:
            out += f"\n    response: {self.response}"
        return out


@dataclass
class Transcript:
    calls: list[Call] = field(default_factory=list)
    began: float = field(default_factory=time.monotonic)

    def add(self, method: str, request: Any, status: str, details: str, response: Any,
            started: float) -> None:
        now = time.monotonic()
        self.calls.append(Call(method, brief(request), status, details, brief(response),
                               started - self.began, now - started, tokens(request, response)))

    def interceptors(self, token: str = "") -> list[grpc.aio.ClientInterceptor]:
        return [_Unary(self, token), _UnaryStream(self, token)]


def _metadata(details: grpc.aio.ClientCallDetails, token: str) -> grpc.aio.ClientCallDetails:
    if not token:
        return details
    metadata = grpc.aio.Metadata(*(details.metadata or ()))
    if "authorization" not in metadata:
        metadata.add("authorization", f"Bearer {token}")
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata,
                                      details.credentials, details.wait_for_ready)


def _name(details: grpc.aio.ClientCallDetails) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


class _Unary(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, transcript: Transcript, token: str) -> None:
        self.transcript, self.token = transcript, token

    async def intercept_unary_unary(self, continuation, details, request):  # type: ignore[no-untyped-def]
        started = time.monotonic()
        call = await continuation(_metadata(details, self.token), request)
        try:
            response = await call
        except grpc.aio.AioRpcError as exc:
            self.transcript.add(_name(details), request, exc.code().name, exc.details() or "",
                                None, started)
            raise
        except BaseException:
            self.transcript.add(_name(details), request, "CANCELLED", "by the suite", None,
                                started)
            raise
        self.transcript.add(_name(details), request, "OK", "", response, started)
        return call


class _UnaryStream(grpc.aio.UnaryStreamClientInterceptor):
    """Streams (health Watch) are noted when they open; the check notes what they sent."""

    def __init__(self, transcript: Transcript, token: str) -> None:
        self.transcript, self.token = transcript, token

    async def intercept_unary_stream(self, continuation, details, request):  # type: ignore[no-untyped-def]
        self.transcript.add(_name(details), request, "STREAM", "opened", None, time.monotonic())
        return await continuation(_metadata(details, self.token), request)
