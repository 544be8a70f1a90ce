"""`Module`: what a module is (id, version, entity types) and which class serves each type.

    module = sdk.Module.from_manifest(Path(__file__).with_name("module.yaml"))

    @module.entity("testsrc")
    class TestSource(sdk.Entity): ...

    if __name__ == "__main__":
        sdk.serve(module)

A module declared in code instead:  sdk.Module("hello", version="0.1.0", entity_types=[...]).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import jsonschema
import yaml

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
        manifest_path: Path | None = None,
    ) -> None:
        if not ID_PATTERN.fullmatch(id):
            raise ValueError(f"module id {id!r}: use lowercase letters, digits, '-' and '_'")
        self.id, self.version, self.name, self.description = id, version, name or id, description
        self.manifest_path = manifest_path
        self.entity_types: dict[str, EntityType] = {}
        self.entity_classes: dict[str, type[Entity]] = {}
        self.config_schema = dict(config_schema) if config_schema is not None else None
        """Module-wide config: set it to serve ConfigurableModuleService."""
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
        """Reads id, version, name, description and entity_types from a module.yaml."""
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigurationError(f"{path}: cannot read module.yaml: {exc}") from exc
        _validate_with_schema(path)
        if not isinstance(data, dict) or "id" not in data:
            raise ConfigurationError(f"{path}: not a module.yaml: add `id: my-module` at the top")
        types = []
        for n, raw in enumerate(data.get("entity_types") or []):
            try:
                types.append(EntityType(
                    type=raw["type"], kind=raw["kind"], media_types=raw["media_types"],
                    description=raw.get("description", ""),
                    protocols=raw.get("protocols", ()), codecs=raw.get("codecs", ()),
                    properties={k: str(v) for k, v in (raw.get("properties") or {}).items()},
                    config=raw.get("config"),
                    output_protocols=(raw.get("output") or {}).get("protocols", ()),
                    output_codecs=(raw.get("output") or {}).get("codecs", ()),
                ))
            except (KeyError, TypeError, ValueError, jsonschema.SchemaError) as exc:
                raise ConfigurationError(f"{path}: entity_types[{n}]: {exc}") from exc
        # module.yaml only says *whether* the module is configurable; set module.config_schema
        # in code to describe the keys (the default accepts any string map).
        config_schema = {"type": "object"} if data.get("configurable") else None
        return cls(
            str(data["id"]), version=str(data.get("version", "0.0.0")),
            name=data.get("name", ""), description=data.get("description", ""),
            entity_types=types, config_schema=config_schema, manifest_path=path,
        )

    def declare(self, entity_type: EntityType) -> None:
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
        elif entity_type not in self.entity_types:
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
        """Runs with a new, schema-checked module config; raise InvalidArgument to refuse it."""
        self.config_hooks.append(hook)
        return hook

    def check(self) -> None:
        """Raises ConfigurationError when a class was bound to an undeclared type, or a
        declared type has no class."""
        if self.problems:
            raise ConfigurationError(f"module {self.id!r}: {self.problems[0]}")
        missing = [t for t in self.entity_types if t not in self.entity_classes]
        if missing:
            raise ConfigurationError(
                f"module {self.id!r}: entity type(s) {', '.join(missing)} have no class:"
                f" decorate an sdk.Entity subclass with @module.entity({missing[0]!r})"
            )


def _validate_with_schema(path: Path) -> None:
    """Checks the file against the published module.yaml schema when that loader exists."""
    try:
        from mediagrid.manifest import ManifestError, load_manifest
    except ImportError:  # pragma: no cover - the manifest package is optional here
        return
    try:
        load_manifest(path)
    except ManifestError as exc:
        raise ConfigurationError(str(exc)) from exc
