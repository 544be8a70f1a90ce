"""Errors the orchestrator answers with: the exact gRPC status of the contract (§8) and a
message naming what is wrong and how to fix it. A module's own error is forwarded unchanged
(code and message)."""

from __future__ import annotations

import grpc


class CallError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message

    @classmethod
    def from_rpc(cls, exc: grpc.aio.AioRpcError) -> CallError:
        """A module's answer, forwarded with its status code and message unchanged."""
        return cls(exc.code(), exc.details() or "")


def not_found(message: str) -> CallError:
    return CallError(grpc.StatusCode.NOT_FOUND, message)


def invalid(message: str) -> CallError:
    return CallError(grpc.StatusCode.INVALID_ARGUMENT, message)


def unavailable(message: str) -> CallError:
    return CallError(grpc.StatusCode.UNAVAILABLE, message)


def failed_precondition(message: str) -> CallError:
    return CallError(grpc.StatusCode.FAILED_PRECONDITION, message)


def already_exists(message: str) -> CallError:
    return CallError(grpc.StatusCode.ALREADY_EXISTS, message)
