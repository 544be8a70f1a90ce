"""Module-wide configuration for ConfigurableModuleService (rules C-3..C-6, C-8..C-11).

The schema is module.yaml's `config_schema` (rule C-8). Revision 0 holds the schema's string
defaults (C-9); an apply that changes nothing keeps the revision (C-10); `validate_only`
checks everything a real apply would and answers what it would answer, changing nothing.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import jsonschema

from mediagrid.sdk import limits
from mediagrid.sdk.errors import Aborted, InvalidArgument
from mediagrid.sdk.types import describe_schema_error, keep_secrets, redact

if TYPE_CHECKING:
    from mediagrid.sdk.module import Module

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class ModuleConfig:
    def __init__(self, module: Module) -> None:
        self.module = module
        self.schema = module.config_schema or {}
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self._validator = jsonschema.Draft202012Validator(self.schema)
        self.values: dict[str, str] = defaults(self.schema)
        self.revision = 0

    def schema_json(self) -> str:
        """The schema as a draft 2020-12 document, saying so in `$schema` (rule C-3)."""
        return json.dumps({"$schema": DRAFT_2020_12, **self.schema}, indent=2, sort_keys=True)

    def redacted(self, values: dict[str, str] | None = None) -> dict[str, str]:
        return redact(self.values if values is None else values, self.schema)

    async def apply(
        self, changes: dict[str, str], *, replace: bool, validate_only: bool, expected: int
    ) -> tuple[dict[str, str], int, bool]:
        """Checks and (unless validate_only) applies; returns the resulting configuration,
        its revision and whether it changed. Hooks see a change before it is in force."""
        changes = limits.check_config_map("config", changes)
        if expected and expected != self.revision:
            raise Aborted(
                f"expected_revision is {expected} but the configuration in force is revision"
                f" {self.revision}: read it again with GetConfig and retry"
            )
        changes = keep_secrets(changes, self.values, self.schema)
        new = dict(changes) if replace else {**self.values, **changes}
        limits.check_config_map("config (merged with the config in force)", new)
        errors = sorted(self._validator.iter_errors(new), key=lambda e: list(e.path))
        if errors:
            raise InvalidArgument(describe_schema_error(errors[0], "config"))
        changed = new != self.values
        revision = self.revision + 1 if changed else self.revision
        if validate_only or not changed:
            return new, revision, False
        for hook in self.module.config_hooks:
            await hook(dict(new))
        self.values, self.revision = new, revision
        return new, revision, True


def defaults(schema: dict[str, object]) -> dict[str, str]:
    """The configuration before any change: each top-level property's string default (C-9)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {
        key: prop["default"] for key, prop in properties.items()
        if isinstance(prop, dict) and isinstance(prop.get("default"), str)
    }
