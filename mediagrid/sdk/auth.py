"""The bearer-token check on every mediagrid RPC (rules S-2, S-8); health and reflection stay
open.

A refused call is answered by a handler of the same shape as the method it replaces (unary or
streaming, on either side): gRPC drives a handler by the method's shape, so the refusal of a
server-streaming method (SubscribeToEvents) is a streaming handler too.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

PROTECTED_PREFIX = "/mediagrid.v1."
MESSAGE = ("missing or wrong token: send the metadata 'authorization: Bearer <token>' with the"
           " token this server was given in MEDIAGRID_TOKEN")


async def _abort(context: grpc.aio.ServicerContext) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, MESSAGE)


async def _deny_unary(request: Any, context: grpc.aio.ServicerContext) -> None:
    await _abort(context)


async def _deny_stream(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    await _abort(context)
    yield  # pragma: no cover - abort raises; the yield makes this an async generator


def deny_handler(handler: grpc.RpcMethodHandler | None) -> grpc.RpcMethodHandler:
    """A handler refusing the call with UNAUTHENTICATED, shaped like `handler`. The request
    is not decoded (no deserializer): a refused caller's bytes are never parsed."""
    client_streams = bool(handler and handler.request_streaming)
    server_streams = bool(handler and handler.response_streaming)
    make = {
        (False, False): grpc.unary_unary_rpc_method_handler,
        (False, True): grpc.unary_stream_rpc_method_handler,
        (True, False): grpc.stream_unary_rpc_method_handler,
        (True, True): grpc.stream_stream_rpc_method_handler,
    }[(client_streams, server_streams)]
    return make(_deny_stream if server_streams else _deny_unary)


class TokenInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, token: str, protected_prefix: str = PROTECTED_PREFIX) -> None:
        if not token:
            raise ValueError("an empty token protects nothing")
        self._token = token.encode()
        self._prefix = protected_prefix

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if not handler_call_details.method.startswith(self._prefix):
            return handler  # health and reflection stay open
        if self.admits(handler_call_details.invocation_metadata):
            return handler
        return deny_handler(handler)  # also for an unknown mediagrid method: no probing

    def admits(self, metadata: Any) -> bool:
        """Exactly one `authorization` value: the scheme `Bearer` in any letter case, one
        space, the token exactly (rule S-8)."""
        given = [v if isinstance(v, str) else v.decode("latin-1")
                 for k, v in metadata or () if k == "authorization"]
        if len(given) != 1:
            return False
        scheme, space, token = given[0].partition(" ")
        return (scheme.lower() == "bearer" and bool(space)
                and hmac.compare_digest(token.encode(), self._token))
