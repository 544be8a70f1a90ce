"""The module process contract's environment (GRPC_PORT and the MEDIAGRID_* variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from mediagrid.sdk.errors import ConfigurationError
from mediagrid.sdk.limits import ID_PATTERN

DEFAULT_BIND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    port: int
    bind_host: str = DEFAULT_BIND_HOST
    module_id: str = ""
    orchestrator_address: str = ""
    token: str = ""

    @property
    def address(self) -> str:
        host = f"[{self.bind_host}]" if ":" in self.bind_host else self.bind_host
        return f"{host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Reads the variables; a bad one raises ConfigurationError naming it and the fix."""
        env = os.environ if env is None else env
        raw_port = env.get("GRPC_PORT", "").strip()
        if not raw_port:
            raise ConfigurationError(
                "GRPC_PORT is not set: set GRPC_PORT to the TCP port this module should serve"
                " on (1-65535); the orchestrator sets it, by hand: GRPC_PORT=50051"
            )
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise ConfigurationError(
                f"GRPC_PORT={raw_port!r} is not a port number: set GRPC_PORT to an integer"
                " between 1 and 65535"
            )
        module_id = env.get("MEDIAGRID_MODULE_ID", "").strip()
        if module_id and not ID_PATTERN.fullmatch(module_id):
            raise ConfigurationError(
                f"MEDIAGRID_MODULE_ID={module_id!r} is not a module id: use lowercase letters,"
                " digits, '-' and '_'"
            )
        orchestrator = env.get("MEDIAGRID_ORCHESTRATOR_ADDRESS", "").strip()
        if orchestrator:
            host, _, port = orchestrator.rpartition(":")
            if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ConfigurationError(
                    f"MEDIAGRID_ORCHESTRATOR_ADDRESS={orchestrator!r} is not host:port: set it"
                    " like 127.0.0.1:50050, or leave it empty to run standalone"
                )
        bind_host = env.get("MEDIAGRID_BIND_HOST", "").strip() or DEFAULT_BIND_HOST
        return cls(
            port=int(raw_port), bind_host=bind_host, module_id=module_id,
            orchestrator_address=orchestrator, token=env.get("MEDIAGRID_TOKEN", ""),
        )
