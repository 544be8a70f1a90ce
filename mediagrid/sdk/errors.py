"""Errors an entity hook or the SDK raises; each maps to the exact gRPC status of the contract.

Raise them from your entity hooks and the SDK answers the call with that status and your
message. Write messages that name what was wrong and how to fix it.
"""

from __future__ import annotations

import grpc


class ModuleError(Exception):
    """Base class: an error with the gRPC status code the caller receives."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(ModuleError):
    """Bad config, unknown entity type, a missing or malformed field (INVALID_ARGUMENT)."""

    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(ModuleError):
    """An entity, connection or flow id this instance never had (NOT_FOUND)."""

    code = grpc.StatusCode.NOT_FOUND


class FailedPrecondition(ModuleError):
    """A media-type or capability mismatch, or an operation the state forbids."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class Unavailable(ModuleError):
    """The module is not READY (UNAVAILABLE)."""

    code = grpc.StatusCode.UNAVAILABLE


class AlreadyExists(ModuleError):
    """An id in use with different arguments (ALREADY_EXISTS)."""

    code = grpc.StatusCode.ALREADY_EXISTS


class Aborted(ModuleError):
    """A stale expected_revision in ApplyConfig (ABORTED)."""

    code = grpc.StatusCode.ABORTED


class ReportOrderError(RuntimeError):
    """A report that would break the ordering rules (E-6..E-8): about an entity before its
    ENTITY_CREATED or after its ENTITY_DESTROYED, or a FLOW_STARTED before its connections.
    This is a bug in the module, so it is raised to the code that made the report."""


class ConfigurationError(RuntimeError):
    """The module itself is set up wrongly (bad environment, an entity type without a class).
    `serve()` prints it and exits with code 2."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
