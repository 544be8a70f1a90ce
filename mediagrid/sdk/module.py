"""`Module`: what a module is (id, version, entity types) and which class serves each type.

    module = sdk.Module.from_manifest(Path(__file__).with_name("module.yaml"))

    @module.entity("testsrc")
    class TestSource(sdk.Entity): ...

    if __name__ == "__main__":
        sdk.serve(module)

A module declared in code instead:  sdk.Module("hello", version="0.1.0", entity_types=[...]).

A module.yaml that is invalid does not raise at import: the module remembers the problem and
`serve()` prints it and exits 2 (contract §2.2), as it does for a bad environment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mediagrid.sdk.entity import Entity
from mediagrid.sdk.errors import ConfigurationError
from mediagrid.sdk.limits import ID_PATTERN
from mediagrid.sdk.types import EntityType

if TYPE_CHECKING:
    from mediagrid.sdk.runtime import ModuleRuntime

E = TypeVar("E", bound=type[Entity])
Hook = Callable[["ModuleRuntime"], Awaitable[None]]
ConfigHook = Callable[[dict[str, str]], Awaitable[None]]


class Module:
    def __init__(
        self,
        id: str,
        *,
        version: str = "0.0.0",
        name: str = "",
        description: str = "",
        entity_types: Iterable[EntityType] = (),
        config_schema: Mapping[str, Any] | None = None,
        configurable: bool | None = None,
        manifest_path: Path | None = None,
    ) -> None:
        if not ID_PATTERN.fullmatch(id):
            raise ValueError(f"module id {id!r}: use lowercase letters, digits, '-' and '_'")
        self.id, self.version, self.name, self.description = id, version, name or id, description
        self.manifest_path = manifest_path
        self.entity_types: dict[str, EntityType] = {}
        self.entity_classes: dict[str, type[Entity]] = {}
        self.config_schema = dict(config_schema) if config_schema is not None else None
        """JSON Schema of the module-wide config (module.yaml `config_schema`, rule C-8)."""
        self.configurable = config_schema is not None if configurable is None else configurable
        """Serves ConfigurableModuleService; needs config_schema (`check()` says so)."""
        self.problem: ConfigurationError | None = None
        """Why the module cannot start (an invalid module.yaml); `check()` raises it."""
        self.startup_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.config_hooks: list[ConfigHook] = []
        self.problems: list[str] = []
        """Setup errors found while binding classes; `check()` raises the first."""
        self._sealed = False
        for entity_type in entity_types:
            self.declare(entity_type)
        self._sealed = manifest_path is not None
        """Read from a module.yaml: no other types may be offered (rule H-12)."""

    @classmethod
    def from_manifest(cls, path: str | Path) -> Module:
        """The module its module.yaml describes: id, version, name, description, entity
        types, and the module-wide config schema (`config_schema`, rule C-8). An invalid file
        gives a module whose `check()` (run by `serve()`) raises the problems: exit 2."""
        from mediagrid.manifest import ManifestError, load_manifest

        path = Path(path)
        try:
            manifest = load_manifest(path)
        except ManifestError as exc:
            module = cls(_id_guess(path), manifest_path=path)
            module.problem = ConfigurationError(f"invalid module.yaml:\n{exc}")
            return module
        types = [
            EntityType(
                type=spec.type, kind=spec.kind, media_types=spec.media_types,
                description=spec.description, protocols=spec.protocols, codecs=spec.codecs,
                properties=dict(spec.properties),
                config=_plain(spec.config) if spec.config is not None else None,
                output_protocols=spec.output.protocols if spec.output else (),
                output_codecs=spec.output.codecs if spec.output else (),
            )
            for spec in manifest.entity_types
        ]
        schema = manifest.config_schema
        return cls(
            manifest.id, version=manifest.version, name=manifest.name,
            description=manifest.description, entity_types=types,
            config_schema=_plain(schema) if schema is not None else None,
            configurable=manifest.configurable, manifest_path=path,
        )

    def declare(self, entity_type: EntityType) -> None:
        if self.problem is not None:
            return
        if entity_type.type in self.entity_types:
            raise ValueError(f"entity type {entity_type.type!r} is declared twice")
        if self._sealed:
            raise ValueError(
                f"entity type {entity_type.type!r} is not in {self.manifest_path}: a module"
                " offers only the types its module.yaml declares; add it there"
            )
        self.entity_types[entity_type.type] = entity_type

    def entity(self, entity_type: str | EntityType) -> Callable[[E], E]:
        """Class decorator: the class that serves an entity type (declared here or before).

        A type that is not declared (or not in the module.yaml) is a setup error: it is
        kept and raised by `check()`, so `serve()` exits 2 with the message instead of the
        decorator's traceback at import time."""
        problem = ""
        if isinstance(entity_type, EntityType):
            try:
                self.declare(entity_type)
            except ValueError as exc:
                problem = str(exc)
            entity_type = entity_type.type
        if self.problem is not None:  # module.yaml was invalid: serve() says why and exits 2
            return lambda cls: cls
        if not problem and entity_type not in self.entity_types:
            known = ", ".join(self.entity_types) or "(none)"
            where = f" in {self.manifest_path}" if self.manifest_path else ""
            problem = (
                f"entity type {entity_type!r} is not declared{where}: declared are {known};"
                " add it to module.yaml (entity_types) or pass an sdk.EntityType"
            )
        name = entity_type

        def bind(cls: E) -> E:
            if not (isinstance(cls, type) and issubclass(cls, Entity)):
                raise TypeError(f"@module.entity({name!r}) decorates an sdk.Entity subclass")
            if problem:
                self.problems.append(problem)
                return cls
            cls.entity_type = self.entity_types[name]
            self.entity_classes[name] = cls
            return cls

        return bind

    def on_startup(self, hook: Hook) -> Hook:
        """Runs before the module turns READY (open devices, warm caches)."""
        self.startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: Hook) -> Hook:
        """Runs after every entity is destroyed, within the shutdown grace."""
        self.shutdown_hooks.append(hook)
        return hook

    def on_config(self, hook: ConfigHook) -> ConfigHook:
        """`async def hook(config: dict[str, str])`: runs with each new module-wide config
        (the whole configuration that would be in force: merged, schema-checked, secrets in
        clear) before it is in force; raise InvalidArgument to refuse it (docs/sdk.md)."""
        self.config_hooks.append(hook)
        return hook

    def check(self) -> None:
        """Raises ConfigurationError when the module cannot start: an invalid module.yaml, a
        configurable module without a config schema (rule C-8), a class bound to a type that
        is not declared, a declared type without a class."""
        if self.problem is not None:
            raise self.problem
        if self.configurable and self.config_schema is None:
            raise ConfigurationError(
                f"module {self.id!r} is configurable but has no config schema: add"
                " config_schema: (the JSON Schema of the module's configuration) to"
                " module.yaml, or pass config_schema= to sdk.Module (rule C-8)"
            )
        if self.problems:
            raise ConfigurationError(f"module {self.id!r}: {self.problems[0]}")
        missing = [t for t in self.entity_types if t not in self.entity_classes]
        if missing:
            raise ConfigurationError(
                f"module {self.id!r}: entity type(s) {', '.join(missing)} have no class:"
                f" decorate an sdk.Entity subclass with @module.entity({missing[0]!r})"
            )


def _plain(value: Any) -> Any:
    """A JSON-able copy of a (read-only) mapping from the manifest."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _id_guess(path: Path) -> str:
    """A name for messages when module.yaml could not be read: its folder's, if it fits."""
    folder = (path.parent if path.suffix else path).resolve().name.lower()
    return folder if ID_PATTERN.fullmatch(folder) else "module"
