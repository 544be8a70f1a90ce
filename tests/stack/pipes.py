"""A small SDK module for the stack tests: whatever entity types its module.yaml declares,
each an entity whose flows idle (no media) until stopped. The SDK checks every contract rule
of the calls it gets (codecs, transports, kinds), so a plan the orchestrator builds is checked
by a real module.

    python pipes.py module.yaml

Config keys every type accepts (declare them in the type's config schema):
  refuse: connect | start   refuse that call with FAILED_PRECONDITION (a half-built pipeline)
  delay:  S                 CreateEntity answers only after S seconds (deadlines)
  connect_delay: S          ConnectEntities answers only after S seconds (a caller giving up)
A module.yaml with `configurable: true` serves ConfigurableModuleService (the config tests).
With CONTEND_ONCE=KEY=VALUE in its environment, the first ApplyConfig that names an
expected_revision finds someone else's change (KEY=VALUE) applied just before it, so it is
ABORTED (C-5), as when two writers race.
"""

import asyncio
import os
import sys
from pathlib import Path

from mediagrid import sdk
from mediagrid.sdk.config import ModuleConfig

module = sdk.Module.from_manifest(Path(sys.argv[1] if len(sys.argv) > 1 else "module.yaml"))


class Pipe(sdk.Entity):
    async def create(self) -> None:
        await asyncio.sleep(float(self.config.get("delay", "0")))

    async def connect(self, link: sdk.Link) -> None:
        await asyncio.sleep(float(self.config.get("connect_delay", "0")))
        if self.config.get("refuse") == "connect":
            raise sdk.FailedPrecondition(f"entity {self.id} refuses connections (refuse=connect)")

    async def start(self, link: sdk.Link) -> None:
        if self.config.get("refuse") == "start":
            raise sdk.FailedPrecondition(f"entity {self.id} refuses to start (refuse=start)")
        link.spawn(asyncio.sleep(3600))  # cancelled at StopFlow


if os.environ.get("CONTEND_ONCE"):
    key, _, value = os.environ["CONTEND_ONCE"].partition("=")
    plain_apply = ModuleConfig.apply
    contended: list[int] = []

    async def contend(self: ModuleConfig, changes: dict[str, str], *, replace: bool,
                      validate_only: bool, expected: int) -> tuple[dict[str, str], int, bool]:
        if expected and not contended:
            contended.append(expected)
            await plain_apply(self, {key: value}, replace=False, validate_only=False,
                              expected=0)
        return await plain_apply(self, changes, replace=replace, validate_only=validate_only,
                                 expected=expected)

    ModuleConfig.apply = contend  # type: ignore[method-assign]

for name in module.entity_types:
    module.entity(name)(type(f"Pipe_{name.replace('-', '_')}", (Pipe,), {}))

if __name__ == "__main__":
    sdk.serve(module)
