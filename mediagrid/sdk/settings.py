"""The module process contract's environment (docs/contract.md §2.1): GRPC_PORT and the
MEDIAGRID_* variables, each checked as rules H-3, H-23 and H-24 say; a bad one is a
ConfigurationError naming it and the fix (`serve()` exits 2)."""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mediagrid.sdk.errors import ConfigurationError

DEFAULT_BIND_HOST = "127.0.0.1"
PORT_PATTERN = re.compile(r"[1-9][0-9]{0,4}")  # no sign, spaces or leading zeros (H-3)
MODULE_ID_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,62}")  # module.yaml's id pattern (H-23)
DNS_NAME = re.compile(
    r"(?=.{1,253}\.?$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
WILDCARD_ADVERTISED = {"0.0.0.0": "127.0.0.1", "::": "::1"}  # rule P-17


def is_port(text: str) -> bool:
    """A port number as rule H-3 writes it: 1-65535 in plain decimal digits."""
    return bool(PORT_PATTERN.fullmatch(text)) and int(text) <= 65535


def is_host(text: str) -> bool:
    """A DNS name, an IPv4 address or an IPv6 address (without brackets)."""
    try:
        ipaddress.ip_address(text)
        return True
    except ValueError:
        return ":" not in text and bool(DNS_NAME.fullmatch(text))


def split_host_port(text: str) -> tuple[str, str] | None:
    """'host:port' or '[v6]:port' -> (host, port), or None when it is neither (H-24)."""
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        ok = sep and ":" in host and is_host(host)
    else:
        host, sep, port = text.rpartition(":")
        ok = sep and ":" not in host and is_host(host)
    return (host, port) if ok and is_port(port) else None


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
    advertise_host: str = ""
    """MEDIAGRID_ADVERTISE_HOST; empty: see `endpoint_host`."""
    orchestrator_ca: bytes | None = None
    """MEDIAGRID_ORCHESTRATOR_CA_FILE's PEM: reports go over TLS (rule S-9)."""

    @property
    def address(self) -> str:
        host = f"[{self.bind_host}]" if ":" in self.bind_host else self.bind_host
        return f"{host}:{self.port}"

    @property
    def endpoint_host(self) -> str:
        """The host put in the media endpoints this module returns (rule P-17)."""
        return self.advertise_host or WILDCARD_ADVERTISED.get(self.bind_host, self.bind_host)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Reads the variables; a bad one raises ConfigurationError naming it and the fix."""
        env = os.environ if env is None else env
        raw_port = env.get("GRPC_PORT", "")
        if not raw_port:
            raise ConfigurationError(
                "GRPC_PORT is not set: set GRPC_PORT to the TCP port this module should serve"
                " on (1-65535); the orchestrator sets it, by hand: GRPC_PORT=50051"
            )
        if not is_port(raw_port):
            raise ConfigurationError(
                f"GRPC_PORT={raw_port!r} is not a port number: set GRPC_PORT to an integer"
                " between 1 and 65535, digits only (no spaces, sign or leading zeros)"
            )
        module_id = env.get("MEDIAGRID_MODULE_ID", "")
        if not MODULE_ID_PATTERN.fullmatch(module_id):
            shown = f"={module_id!r} is not a module id" if module_id else " is not set"
            raise ConfigurationError(
                f"MEDIAGRID_MODULE_ID{shown}: set MEDIAGRID_MODULE_ID to the module's id (a"
                " lowercase letter, then lowercase letters, digits or '-'); the orchestrator"
                " sets it, by hand: MEDIAGRID_MODULE_ID=my-module (or `mediagrid module run`)"
            )
        orchestrator = env.get("MEDIAGRID_ORCHESTRATOR_ADDRESS", "")
        if orchestrator and split_host_port(orchestrator) is None:
            raise ConfigurationError(
                f"MEDIAGRID_ORCHESTRATOR_ADDRESS={orchestrator!r} is not host:port: set it"
                " like 127.0.0.1:50050 or [::1]:50050, or leave it empty to run standalone"
            )
        advertise = env.get("MEDIAGRID_ADVERTISE_HOST", "")
        if advertise and not is_host(advertise):
            raise ConfigurationError(
                f"MEDIAGRID_ADVERTISE_HOST={advertise!r} is not a host: set it to a DNS name or"
                " an IP address (no port, no brackets) the other modules can reach"
            )
        ca = env.get("MEDIAGRID_ORCHESTRATOR_CA_FILE", "")
        bind_host = env.get("MEDIAGRID_BIND_HOST", "") or DEFAULT_BIND_HOST
        return cls(
            port=int(raw_port), bind_host=bind_host, module_id=module_id,
            orchestrator_address=orchestrator, token=env.get("MEDIAGRID_TOKEN", ""),
            tls=TlsFiles.from_env(env), advertise_host=advertise,
            orchestrator_ca=_read_pem("MEDIAGRID_ORCHESTRATOR_CA_FILE", ca) if ca else None,
        )
