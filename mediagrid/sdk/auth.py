"""The bearer-token check on every mediagrid RPC (rule S-2); health and reflection stay open."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

PROTECTED_PREFIX = "/mediagrid.v1."


class TokenInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, token: str, protected_prefix: str = PROTECTED_PREFIX) -> None:
        if not token:
            raise ValueError("an empty token protects nothing")
        self._token = token.encode()
        self._prefix = protected_prefix
        self._deny = grpc.unary_unary_rpc_method_handler(self._reject)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        if handler_call_details.method.startswith(self._prefix) and not self.admits(
            handler_call_details.invocation_metadata
        ):
            return self._deny
        return await continuation(handler_call_details)

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

    @staticmethod
    async def _reject(request: Any, context: grpc.aio.ServicerContext) -> None:
        await context.abort(
            grpc.StatusCode.UNAUTHENTICATED,
            "missing or wrong token: send the metadata 'authorization: Bearer <token>' with the"
            " token this module was given in MEDIAGRID_TOKEN",
        )
