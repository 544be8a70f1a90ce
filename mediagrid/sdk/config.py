"""Module-wide configuration for ConfigurableModuleService (rules C-1..C-4)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import jsonschema

from mediagrid.sdk import limits
from mediagrid.sdk.errors import Aborted, InvalidArgument
from mediagrid.sdk.types import describe_schema_error, redact

if TYPE_CHECKING:
    from mediagrid.sdk.module import Module

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


class ModuleConfig:
    def __init__(self, module: Module) -> None:
        self.module = module
        self.schema = module.config_schema or {}
        jsonschema.Draft202012Validator.check_schema(self.schema)
        self._validator = jsonschema.Draft202012Validator(self.schema)
        self.values: dict[str, str] = {}
        self.revision = 0

    def schema_json(self) -> str:
        """The schema as a draft 2020-12 document, saying so in `$schema` (rule C-3)."""
        return json.dumps({"$schema": DRAFT_2020_12, **self.schema}, indent=2, sort_keys=True)

    def redacted(self) -> dict[str, str]:
        return redact(self.values, self.schema)

    async def apply(
        self, changes: dict[str, str], *, replace: bool, validate_only: bool, expected: int
    ) -> None:
        changes = limits.check_config_map("config", changes)
        if expected and expected != self.revision:
            raise Aborted(
                f"expected_revision is {expected} but the configuration in force is revision"
                f" {self.revision}: read it again with GetConfig and retry"
            )
        new = dict(changes) if replace else {**self.values, **changes}
        limits.check_config_map("config (merged with the config in force)", new)
        errors = sorted(self._validator.iter_errors(new), key=lambda e: list(e.path))
        if errors:
            raise InvalidArgument(describe_schema_error(errors[0], "config"))
        if validate_only:
            return
        for hook in self.module.config_hooks:
            await hook(dict(new))
        self.values = new
        self.revision += 1
