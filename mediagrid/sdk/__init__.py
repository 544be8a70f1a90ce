"""mediagrid.sdk: the kit a Python module author builds on (guide: docs/sdk.md).

    from mediagrid import sdk

    module = sdk.Module.from_manifest("module.yaml")

    @module.entity("testsrc")
    class TestSource(sdk.Entity):
        async def start(self, link: sdk.Link) -> None: ...

    if __name__ == "__main__":
        sdk.serve(module)
"""

from mediagrid.backoff import Backoff, BackoffPolicy
from mediagrid.sdk.entity import Endpoint, Entity, EntityState, Link, LinkMetrics, Role
from mediagrid.sdk.errors import (
    Aborted,
    AlreadyExists,
    ConfigurationError,
    FailedPrecondition,
    InvalidArgument,
    ModuleError,
    NotFound,
    ReportOrderError,
    Unavailable,
)
from mediagrid.sdk.module import Module
from mediagrid.sdk.reporter import EventReporter, ReporterStats, ReportSender
from mediagrid.sdk.runtime import ModuleRuntime
from mediagrid.sdk.sender import GrpcReportSender
from mediagrid.sdk.server import (
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_PORT_IN_USE,
    ModuleServer,
    PortInUse,
    serve,
    serve_async,
)
from mediagrid.sdk.settings import Settings
from mediagrid.sdk.state import ModuleState, ModuleStatusTracker
from mediagrid.sdk.types import EntityKind, EntityType, Health, MediaType

__all__ = [
    "EXIT_CONFIG", "EXIT_FAILURE", "EXIT_OK", "EXIT_PORT_IN_USE",
    "Aborted", "AlreadyExists", "Backoff", "BackoffPolicy", "ConfigurationError", "Endpoint",
    "Entity",
    "EntityKind", "EntityState", "EntityType", "EventReporter", "FailedPrecondition",
    "GrpcReportSender", "Health", "InvalidArgument", "Link", "LinkMetrics", "MediaType",
    "Module", "ModuleError", "ModuleRuntime", "ModuleServer", "ModuleState",
    "ModuleStatusTracker", "NotFound", "PortInUse", "ReportOrderError", "ReportSender",
    "ReporterStats", "Role", "Settings", "Unavailable", "serve", "serve_async",
]
