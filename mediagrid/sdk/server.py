"""`serve(module)`: runs a module as the process contract says (docs/contract.md, rules H-*).

Reads GRPC_PORT and the MEDIAGRID_* variables, binds MEDIAGRID_BIND_HOST (127.0.0.1), serves
the mediagrid services with grpc.health.v1.Health and reflection on one port, turns READY,
and stops on Shutdown, SIGTERM or SIGINT within the grace period. Exit codes: 0 clean stop,
1 unexpected failure, 2 bad environment or module setup, 98 the port could not be bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from collections.abc import Callable, Mapping, Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from mediagrid.sdk.auth import TokenInterceptor
from mediagrid.sdk.errors import ConfigurationError
from mediagrid.sdk.health import ModuleHealth
from mediagrid.sdk.module import Module
from mediagrid.sdk.reporter import EventReporter
from mediagrid.sdk.runtime import ModuleRuntime
from mediagrid.sdk.sender import GrpcReportSender
from mediagrid.sdk.servicers import (
    DEFAULT_GRACE,
    ConfigServicer,
    EntityServicer,
    ModuleServicer,
    PipelineServicer,
)
from mediagrid.sdk.settings import Settings
from mediagrid.v1 import (
    config_pb2,
    config_pb2_grpc,
    entity_pb2,
    entity_pb2_grpc,
    module_pb2,
    module_pb2_grpc,
    pipeline_pb2,
    pipeline_pb2_grpc,
)

log = logging.getLogger("mediagrid.sdk")

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG, EXIT_PORT_IN_USE = 0, 1, 2, 98
MODULE_SERVICE = module_pb2.DESCRIPTOR.services_by_name["ModuleService"].full_name
SERVICE_NAMES = (
    MODULE_SERVICE,
    entity_pb2.DESCRIPTOR.services_by_name["EntityService"].full_name,
    pipeline_pb2.DESCRIPTOR.services_by_name["PipelineService"].full_name,
)
CONFIG_SERVICE = config_pb2.DESCRIPTOR.services_by_name["ConfigurableModuleService"].full_name
HEALTH_SERVICE = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name


class PortInUse(RuntimeError):
    """The port could not be bound (exit code 98: the orchestrator retries another port)."""


ExtraService = tuple[str, Callable[[grpc.aio.Server], None]]
"""(full service name, a function adding its handlers to the server): served beside the
mediagrid services and listed by reflection (rule H-4)."""


class ModuleServer:
    """One module process's gRPC server. `serve()` drives it; tests may embed it.

    `interceptors` run after the token check on every call (the simulator injects its faults
    there); `extra_services` are served on the same port and listed by reflection."""

    def __init__(
        self, module: Module, settings: Settings, *, reporter: EventReporter | None = None,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        extra_services: Sequence[ExtraService] = (),
    ) -> None:
        self.settings = settings
        sender = None
        if reporter is None and settings.orchestrator_address:
            tls = settings.tls if settings.orchestrator_ca is not None else None
            sender = GrpcReportSender(
                settings.orchestrator_address, token=settings.token, ca=settings.orchestrator_ca,
                client_cert=tls.cert if tls else None, client_key=tls.key if tls else None,
            )
        self._sender = sender
        module_id = settings.module_id or module.id
        self.runtime = ModuleRuntime(
            module, module_id=module_id, bind_host=settings.bind_host,
            advertise_host=settings.endpoint_host,
            reporter=reporter or EventReporter(module_id, "", sender=sender),
        )
        self.health = ModuleHealth(self.runtime.status, ("", MODULE_SERVICE))
        self._stop = asyncio.Event()
        self._grace = DEFAULT_GRACE
        chain = [TokenInterceptor(settings.token)] if settings.token else []
        self.server = grpc.aio.server(
            interceptors=[*chain, *interceptors], options=[("grpc.so_reuseport", 0)]
        )
        rt = self.runtime
        module_pb2_grpc.add_ModuleServiceServicer_to_server(
            ModuleServicer(rt, self.request_shutdown), self.server
        )
        entity_pb2_grpc.add_EntityServiceServicer_to_server(EntityServicer(rt), self.server)
        pipeline_pb2_grpc.add_PipelineServiceServicer_to_server(PipelineServicer(rt), self.server)
        names = list(SERVICE_NAMES)
        if rt.config is not None:
            config_pb2_grpc.add_ConfigurableModuleServiceServicer_to_server(
                ConfigServicer(rt), self.server
            )
            names.append(CONFIG_SERVICE)
        for name, add in extra_services:
            add(self.server)
            names.append(name)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = (*names, HEALTH_SERVICE, reflection.SERVICE_NAME)
        reflection.enable_server_reflection(self.service_names, self.server)

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        """Binds the port (PortInUse when taken) and serves, STARTING; `run()` turns READY."""
        try:
            self._port = self._bind()
        except RuntimeError as exc:
            raise PortInUse(
                f"cannot bind {self.settings.address}: the port is in use (or the address is"
                " not local); run with another GRPC_PORT"
            ) from exc
        await self.server.start()
        log.info(
            "module %s (instance %s) serving on %s", self.runtime.module_id,
            self.runtime.status.instance_id, self.settings.address,
        )

    def _bind(self) -> int:
        """Adds the listening port: TLS (mutual with a client CA) or plaintext (rule S-4)."""
        tls = self.settings.tls
        if tls is None:
            return self.server.add_insecure_port(self.settings.address)
        credentials = grpc.ssl_server_credentials(
            [(tls.key, tls.cert)],
            root_certificates=tls.client_ca,
            require_client_auth=tls.client_ca is not None,
        )
        return self.server.add_secure_port(self.settings.address, credentials)

    def request_shutdown(self, grace: float = DEFAULT_GRACE, reason: str = "") -> bool:
        """Starts a graceful stop; False when one is already under way (idempotent)."""
        if not self.runtime.begin_shutdown():
            return False
        log.info("shutting down within %.1f s%s", grace, f": {reason}" if reason else "")
        self._grace = grace
        self._stop.set()
        return True

    async def run(self) -> None:
        """Runs the start-up hooks (READY after them), serves until a shutdown is requested,
        then stops everything within the grace. A shutdown during STARTING cuts the start-up
        hooks short (rule H-8)."""
        async with asyncio.TaskGroup() as tasks:
            sender = tasks.create_task(self.runtime.reporter.run())
            watch = tasks.create_task(self.runtime.flows.watch())  # flows turn ERROR on time
            startup = tasks.create_task(self.runtime.start())
            await self._stop.wait()
            deadline = time.monotonic() + self._grace
            startup.cancel()
            watch.cancel()
            try:  # rule H-26: the stop, and the reports it makes, fit in the grace period
                async with asyncio.timeout(self._grace * 0.8):
                    await self.runtime.teardown()
            except TimeoutError:
                log.warning("did not stop within the grace period (%.1f s), exiting anyway: %s",
                            self._grace, self.runtime.leftovers())
            except Exception:
                log.exception("stopping entities failed")
            await self.runtime.reporter.flush(max(0.0, deadline - time.monotonic() - 0.2))
            await self.server.stop(grace=max(0.05, min(1.0, deadline - time.monotonic())))
            sender.cancel()
        if self._sender is not None:
            await self._sender.close()


async def serve_async(module: Module, env: Mapping[str, str] | None = None) -> int:
    """Runs the module until it is stopped; returns the process exit code."""
    try:
        settings = Settings.from_env(env)
        server = ModuleServer(module, settings)
    except ConfigurationError as exc:
        print(f"{module.id}: {exc.message}", file=sys.stderr)
        return EXIT_CONFIG
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # from the start: STARTING -> STOPPING too
        loop.add_signal_handler(sig, server.request_shutdown, DEFAULT_GRACE, sig.name)
    try:
        try:
            await server.start()
        except PortInUse as exc:
            print(f"{module.id}: {exc}", file=sys.stderr)
            return EXIT_PORT_IN_USE
        await server.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    return EXIT_OK


def serve(module: Module) -> None:
    """The module's main: `if __name__ == "__main__": sdk.serve(module)`. Never returns."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        code = asyncio.run(serve_async(module))
    except ConfigurationError as exc:
        print(f"{module.id}: {exc.message}", file=sys.stderr)
        code = EXIT_CONFIG
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        code = EXIT_OK
    except Exception:
        log.exception("module %s failed", module.id)
        code = EXIT_FAILURE
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    sys.exit(code)
