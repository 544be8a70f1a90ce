"""Checks and their registry: each check cites the rule IDs it enforces.

A rule family's file makes one `Checks` collection and decorates its check functions:

    CHECKS = Checks("entities")

    @CHECKS.check("N-6", "destroy twice: destroyed=true then false; unknown id NOT_FOUND",
                  needs=needs_entity_type)
    async def destroy_is_idempotent(ctx: CheckContext) -> None: ...

A check passes by returning, fails by raising `CheckFailed` (through ctx.expect_* helpers),
and skips by raising `Skipped` with the reason. `needs` gates a check on what module.yaml
declares (a capability), so a module is never failed for what it does not offer.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mediagrid.conformance.context import CheckContext
    from mediagrid.manifest import ModuleManifest

CheckFunction = Callable[["CheckContext"], Awaitable[None]]
Need = Callable[["ModuleManifest"], str | None]  # None when met, else the reason to skip

# Profiles: core is never skippable; the others follow what module.yaml declares.
CORE, CONFIGURATION, PIPELINE, SECURITY, PROCESS = (
    "core", "configuration", "pipeline", "security", "process")
PROFILES = (CORE, PROCESS, PIPELINE, CONFIGURATION, SECURITY)


class CheckFailed(AssertionError):
    """A rule was broken: what the rule expects and what came back."""

    def __init__(self, rule: str, expected: str, got: str) -> None:
        self.rule, self.expected, self.got = rule, expected, got
        super().__init__(f"{rule}: expected {expected}; got {got}")


class Skipped(Exception):
    """The check cannot run against this module; the reason says why (shown in the report).
    A skip makes the verdict "partial"."""


class NotApplicable(Skipped):
    """The module does not declare what the check is about (a profile it did not choose,
    a capability it does not offer): shown with the reason, no effect on the verdict."""


@dataclass(frozen=True)
class Check:
    name: str  # unique: family.function
    rules: tuple[str, ...]
    title: str
    function: CheckFunction = field(repr=False)
    profile: str = CORE
    needs: tuple[Need, ...] = ()
    launch_only: bool = False  # needs the suite to start the module itself
    exclusive: bool = False  # runs alone: it disturbs the module (drops the EventService...)
    final: bool = False  # runs after every other check (it reads the whole event record)
    slow: bool = False  # waits on media for many seconds: starts first, beside the others
    timeout: float = 30.0

    def not_applicable(self, manifest: ModuleManifest) -> str | None:
        """Why module.yaml leaves this check out (its profile or capability), or None."""
        for need in self.needs:
            reason = need(manifest)
            if reason:
                return reason
        return None

    def skip_reason(self, launched: bool) -> str | None:
        if self.launch_only and not launched:
            return ("needs the suite to start the module (run `mediagrid conformance "
                    "MODULE_DIR` instead of --address)")
        return None

    def selected_by(self, patterns: Iterable[str]) -> bool:
        """`--rules H-*,E-3` or a check name (`entities.destroy_is_idempotent`)."""
        for pattern in patterns:
            if fnmatch.fnmatchcase(self.name, pattern):
                return True
            if any(fnmatch.fnmatchcase(rule, pattern.upper()) for rule in self.rules):
                return True
        return False


class Checks:
    """The checks of one rule family."""

    def __init__(self, family: str) -> None:
        self.family = family
        self.items: list[Check] = []

    def check(self, *rules: str, title: str, profile: str = CORE, needs: Iterable[Need] = (),
              launch_only: bool = False, exclusive: bool = False, final: bool = False,
              slow: bool = False, timeout: float = 30.0
              ) -> Callable[[CheckFunction], CheckFunction]:
        def register(function: CheckFunction) -> CheckFunction:
            self.items.append(Check(
                name=f"{self.family}.{function.__name__}", rules=tuple(rules), title=title,
                function=function, profile=profile, needs=tuple(needs),
                launch_only=launch_only, exclusive=exclusive, final=final, slow=slow,
                timeout=timeout))
            return function
        return register


def all_checks() -> list[Check]:
    """Every check of every family, in file order."""
    from mediagrid.conformance.checks import FAMILIES

    return [check for family in FAMILIES for check in family.items]
