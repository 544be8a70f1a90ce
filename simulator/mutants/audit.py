"""Checks that every mutant's patch replaces something that exists: a patch that assigns a name
the SDK no longer has (after a refactoring) silently patches nothing, and the mutant would be
the well-behaved module under another name.

    python -m mediagrid.simulator.mutants.audit     # prints each stale patch; exit 1 if any
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys
from types import ModuleType

import mediagrid.sdk
from mediagrid.simulator.mutants.catalogue import MUTANTS


def modules() -> list[ModuleType]:
    found = [importlib.import_module(f"mediagrid.sdk.{m.name}")
             for m in pkgutil.walk_packages(mediagrid.sdk.__path__)
             if not m.name.startswith("_")]
    return [mediagrid.sdk, *found]


def snapshot() -> dict[str, set[str]]:
    names: dict[str, set[str]] = {}
    for module in modules():
        names[module.__name__] = set(vars(module))
        for name, value in vars(module).items():
            if inspect.isclass(value) and value.__module__ == module.__name__:
                names[f"{module.__name__}.{name}"] = set(vars(value))
    return names


def stale() -> list[str]:
    found = []
    for mutant in MUTANTS:
        if mutant.patch is None:
            continue
        before = snapshot()
        mutant.patch()
        after = snapshot()
        for owner, names in after.items():
            new = names - before.get(owner, set())
            if new:
                found.append(f"{mutant.name}: sets {owner}.{', '.join(sorted(new))}, which the "
                             "SDK does not have")
    return found


if __name__ == "__main__":
    problems = stale()
    for line in problems:
        print(line)
    sys.exit(1 if problems else 0)
