"""Plain data of a loaded module.yaml: frozen dataclasses, durations in float seconds."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from mediagrid.backoff import RESTART, STARTUP_RETRY, BackoffPolicy

if TYPE_CHECKING:
    from mediagrid.v1 import module_pb2

Severity = Literal["error", "warning"]
Kind = Literal["source", "sink", "converter", "protocol"]
RestartPolicy = Literal["always", "on-failure", "never"]

# {name} placeholders the command may use; see ModuleManifest.resolved_command.
PLACEHOLDERS = ("python", "module_dir")
PLACEHOLDER_RE = re.compile(r"\{([a-z_][a-z0-9_]*)\}")

EMPTY: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a module.yaml: where, what, and how to fix it."""

    file: str  # the path as the user gave it (or as discovered)
    field_path: str  # dotted, list items as [i]: "entity_types[0].kind"; "" for the whole file
    message: str
    fix: str
    severity: Severity = "error"
    line: int | None = None  # 1-based line in the file, when known

    def __str__(self) -> str:
        where = f"{self.file}: {self.field_path}: " if self.field_path else f"{self.file}: "
        tail = f"; {self.fix}" if self.fix else ""
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{where}{self.message}{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "field": self.field_path, "message": self.message,
            "fix": self.fix, "severity": self.severity, "line": self.line,
        }


class ManifestError(Exception):
    """A module.yaml (or a set of them) is invalid. `problems` lists every error found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class GiveUp:
    """More than `max_restarts` restarts within `window` seconds: ERROR until an operator acts."""

    max_restarts: int = 5
    window: float = 60.0


@dataclass(frozen=True)
class ShutdownLadder:
    """Shutdown RPC and wait `rpc_grace`; SIGTERM the group and wait `term_grace`; SIGKILL."""

    rpc_grace: float = 5.0
    term_grace: float = 5.0


@dataclass(frozen=True)
class Supervision:
    """Supervision settings (docs/contract.md §9); every duration in seconds. The backoffs
    are `mediagrid.backoff.BackoffPolicy`, the one backoff of the project."""

    startup_timeout: float = 30.0
    startup_retry: BackoffPolicy = STARTUP_RETRY
    health_period: float = 1.0
    health_timeout: float = 0.5
    failure_threshold: int = 3
    restart_backoff: BackoffPolicy = RESTART  # first restart at once; first_at_once=True
    give_up: GiveUp = GiveUp()
    shutdown: ShutdownLadder = ShutdownLadder()
    restart_policy: RestartPolicy = "always"


@dataclass(frozen=True)
class Security:
    """What the module supports: TLS serving, bearer-token checks."""

    tls: bool = False
    token: bool = False


@dataclass(frozen=True)
class Capabilities:
    """One side of an entity type: media types, protocols, codecs."""

    media_types: tuple[str, ...]
    protocols: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ()


@dataclass(frozen=True)
class EntityTypeSpec:
    """One entity type a module offers, as declared in module.yaml."""

    type: str
    kind: Kind
    media_types: tuple[str, ...]
    description: str = ""
    protocols: tuple[str, ...] = ()
    codecs: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    output: Capabilities | None = None  # converters only; gaps filled from the input side
    config: Mapping[str, Any] | None = None  # JSON Schema of the config map, or None

    def to_proto(self) -> module_pb2.EntityTypeInfo:
        """The EntityTypeInfo that HealthCheck and ModuleInfo carry (contract §6.1, rule
        C-16): one capability set per media type, listing that media type's codecs; for a
        converter, output_capabilities likewise."""
        from mediagrid.codecs import of_media
        from mediagrid.v1 import common_pb2, module_pb2

        def caps(media_types: tuple[str, ...], protocols: tuple[str, ...],
                 codecs: tuple[str, ...]) -> list[common_pb2.EntityCapabilities]:
            return [
                common_pb2.EntityCapabilities(
                    supported_protocols=protocols, supported_codecs=of_media(codecs, media),
                    media_type=common_pb2.MediaType.Value(f"MEDIA_TYPE_{media.upper()}"),
                    properties=dict(self.properties),
                )
                for media in media_types
            ]

        info = module_pb2.EntityTypeInfo(
            type=self.type,
            kind=common_pb2.EntityKind.Value(f"ENTITY_KIND_{self.kind.upper()}"),
            description=self.description,
            capabilities=caps(self.media_types, self.protocols, self.codecs),
        )
        if self.output is not None:
            info.output_capabilities.extend(
                caps(self.output.media_types, self.output.protocols, self.output.codecs)
            )
        return info


@dataclass(frozen=True)
class ModuleManifest:
    """A valid module.yaml. `path` is the file (absolute); relative paths in it resolve
    against its folder."""

    path: Path
    id: str
    command: tuple[str, ...]
    name: str = ""
    version: str = "0.0.0"
    description: str = ""
    env: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    working_dir: Path | None = None  # absolute; None means the module folder
    configurable: bool = False
    config_schema: Mapping[str, Any] | None = None  # module-wide config schema (rule C-8)
    entity_types: tuple[EntityTypeSpec, ...] = ()
    supervision: Supervision = field(default_factory=Supervision)
    security: Security = field(default_factory=Security)
    conformance: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # only the suite reads it
    warnings: tuple[Problem, ...] = ()  # things worth a look that do not make the file invalid

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def cwd(self) -> Path:
        """The folder the process starts in."""
        return self.working_dir or self.folder

    def resolved_command(self, python: str | None = None) -> list[str]:
        """The argument list to exec: placeholders expanded ({python} -> the running
        interpreter, {module_dir} -> the module folder) and a program path containing '/'
        made absolute against the module folder. A bare program name stays for PATH lookup."""
        values = {"python": python or sys.executable, "module_dir": str(self.folder)}
        args = [PLACEHOLDER_RE.sub(lambda m: values.get(m[1], m[0]), arg) for arg in self.command]
        program = args[0]
        if "/" in program and not Path(program).is_absolute():
            args[0] = str((self.folder / program).resolve())
        return args

    def entity_type(self, name: str) -> EntityTypeSpec | None:
        return next((spec for spec in self.entity_types if spec.type == name), None)

    def entity_type_infos(self) -> list[module_pb2.EntityTypeInfo]:
        """EntityTypeInfo messages for HealthCheckResponse and ModuleInfo, in file order."""
        return [spec.to_proto() for spec in self.entity_types]
