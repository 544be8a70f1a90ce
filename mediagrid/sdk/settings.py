"""The module process contract's environment (GRPC_PORT and the MEDIAGRID_* variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mediagrid.sdk.errors import ConfigurationError
from mediagrid.sdk.limits import ID_PATTERN

DEFAULT_BIND_HOST = "127.0.0.1"


@dataclass(frozen=True)
class TlsFiles:
    """PEM files for serving TLS (rule S-4); a client CA makes it mutual TLS."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TlsFiles | None:
        names = (
            "MEDIAGRID_TLS_CERT_FILE", "MEDIAGRID_TLS_KEY_FILE", "MEDIAGRID_TLS_CLIENT_CA_FILE"
        )
        cert, key, ca = (env.get(name, "").strip() for name in names)
        if not (cert or key or ca):
            return None
        if not (cert and key):
            missing = names[0] if not cert else names[1]
            raise ConfigurationError(
                f"{missing} is not set: TLS needs both MEDIAGRID_TLS_CERT_FILE and"
                " MEDIAGRID_TLS_KEY_FILE (PEM files); set both, or neither for plaintext"
            )
        return cls(
            cert=_read_pem(names[0], cert),
            key=_read_pem(names[1], key),
            client_ca=_read_pem(names[2], ca) if ca else None,
        )


def _read_pem(variable: str, path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"{variable}={path!r} cannot be read ({exc.strerror}): point it at a readable PEM file"
        ) from exc


@dataclass(frozen=True)
class Settings:
    port: int
    bind_host: str = DEFAULT_BIND_HOST
    module_id: str = ""
    orchestrator_address: str = ""
    token: str = ""
    tls: TlsFiles | None = None

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
            tls=TlsFiles.from_env(env),
        )
