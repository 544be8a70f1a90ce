"""The orchestrator's settings: where it listens, its state file, its security, its modules.

Every value has the contract's default (docs/orchestrator.md). `from_env` reads the §7
variables (MEDIAGRID_TOKEN, MEDIAGRID_TLS_*) the same way a module does, so one environment
secures the orchestrator and the modules it starts.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_ADDRESS = "127.0.0.1:50050"  # rule S-1: loopback unless told otherwise
DEFAULT_STATE = "mediagrid-state.sqlite"
MAX_MESSAGE = 4 * 1024 * 1024  # rule S-5
TLS_VARIABLES = ("MEDIAGRID_TLS_CERT_FILE", "MEDIAGRID_TLS_KEY_FILE",
                 "MEDIAGRID_TLS_CLIENT_CA_FILE")
CA_VARIABLE = "MEDIAGRID_ORCHESTRATOR_CA_FILE"


class SettingsError(ValueError):
    """A setting is wrong; the message names it and the fix (exit code 2 in `mediagrid up`)."""


@dataclass(frozen=True)
class TlsFiles:
    """PEM files: the orchestrator serves TLS with them (mutual with a client CA, rule S-4)
    and passes them to its modules, which then serve TLS too (and present the certificate as
    their client certificate, S-9). `ca` signed the certificate: modules get it as
    MEDIAGRID_ORCHESTRATOR_CA_FILE, so their reports go over TLS, and the orchestrator trusts
    it when it dials them. Unset, it is the client CA (one CA for everything), else the
    certificate itself (self-signed)."""

    cert: Path
    key: Path
    client_ca: Path | None = None
    ca: Path | None = None

    @property
    def trusted(self) -> Path:
        return self.ca or self.client_ca or self.cert

    def read(self) -> tuple[bytes, bytes, bytes | None]:
        """(certificate, key, client CA or None), read now."""
        def pem(variable: str, path: Path) -> bytes:
            try:
                return path.read_bytes()
            except OSError as exc:
                raise SettingsError(f"{variable}={str(path)!r} cannot be read ({exc.strerror}):"
                                    " point it at a readable PEM file") from exc
        return (pem(TLS_VARIABLES[0], self.cert), pem(TLS_VARIABLES[1], self.key),
                pem(TLS_VARIABLES[2], self.client_ca) if self.client_ca else None)

    def module_env(self) -> dict[str, str]:
        env = {TLS_VARIABLES[0]: str(self.cert), TLS_VARIABLES[1]: str(self.key),
               CA_VARIABLE: str(self.trusted)}
        if self.client_ca:
            env[TLS_VARIABLES[2]] = str(self.client_ca)
        return env

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TlsFiles | None:
        cert, key, ca = (env.get(name, "").strip() for name in TLS_VARIABLES)
        if not (cert or key or ca):
            return None
        if not (cert and key):
            missing = TLS_VARIABLES[0] if not cert else TLS_VARIABLES[1]
            raise SettingsError(f"{missing} is not set: TLS needs both {TLS_VARIABLES[0]} and"
                                f" {TLS_VARIABLES[1]} (PEM files); set both, or neither")
        signer = env.get(CA_VARIABLE, "").strip()
        return cls(Path(cert).resolve(), Path(key).resolve(),
                   Path(ca).resolve() if ca else None,
                   Path(signer).resolve() if signer else None)


@dataclass(frozen=True)
class OrchestratorSettings:
    module_dirs: tuple[Path, ...] = ()
    address: str = DEFAULT_ADDRESS  # HOST:PORT of OrchestratorService and EventService
    state_path: Path = Path(DEFAULT_STATE)  # desired state and event log (SQLite, WAL)
    token: str = ""  # rule S-2: required on every mediagrid call when set; given to modules
    tls: TlsFiles | None = None  # rule S-4
    module_bind_host: str = "127.0.0.1"  # MEDIAGRID_BIND_HOST of the modules (rule S-1)
    call_timeout: float = 30.0  # a brokered call's deadline when the caller set none
    max_message: int = MAX_MESSAGE
    port_retries: int = 10  # exit 98 (port taken) in a row before it counts as a failure
    extra_module_env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        split_address(self.address)
        if self.call_timeout <= 0:
            raise SettingsError("call_timeout must be above 0 s")

    @property
    def host(self) -> str:
        return split_address(self.address)[0]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **values: object) -> (
            OrchestratorSettings):
        """Settings from keyword values, the token and TLS files from `env` (default: this
        process's environment) unless given."""
        env = os.environ if env is None else env
        values.setdefault("token", env.get("MEDIAGRID_TOKEN", ""))
        values.setdefault("tls", TlsFiles.from_env(env))
        return cls(**values)  # type: ignore[arg-type]


def split_address(address: str) -> tuple[str, int]:
    """("127.0.0.1", 50050) from "127.0.0.1:50050" ("[::1]:50050" for IPv6); SettingsError
    naming the fix when it is not HOST:PORT."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise SettingsError(f"address {address!r} is not HOST:PORT: write it like"
                            f" {DEFAULT_ADDRESS} (port 0 picks a free one)")
    return host.strip("[]"), int(port)


def dial_address(host: str, port: int) -> str:
    """The address a local client dials for a server bound on host:port."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
