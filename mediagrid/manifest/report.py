"""Printing manifests and their problems for people (rich) and scripts (JSON)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from mediagrid.manifest.model import ManifestError, ModuleManifest, Problem


def console(stderr: bool = False) -> Console:
    # soft_wrap: long paths stay on one line, so they can be copied (and grepped).
    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def print_problem(out: Console, problem: Problem, indent: str = "    ") -> None:
    colour = "yellow" if problem.severity == "warning" else "red"
    label = "warning" if problem.severity == "warning" else "error"
    where = problem.field_path or "(whole file)"
    line = f" (line {problem.line})" if problem.line else ""
    out.print(f"{indent}[{colour}]{label}[/] [bold]{escape(where)}[/]{line}: "
              f"{escape(problem.message)}")
    if problem.fix:
        out.print(f"{indent}  fix: {escape(problem.fix)}")


def print_verdict(out: Console, file: str, result: ModuleManifest | ManifestError) -> None:
    """One file's verdict: a ✓/✗ line, then every problem with its field and fix."""
    if isinstance(result, ManifestError):
        count = len(result.problems)
        out.print(f"[red]✗[/] {escape(file)}  [red]invalid[/], "
                  f"{count} problem{'s' if count != 1 else ''}")
        for problem in result.problems:
            print_problem(out, problem)
        return
    types = len(result.entity_types)
    summary = getattr(result, "summary", "")  # a stack file (docs/stacks.md) says its own
    out.print(f"[green]✓[/] {escape(file)}  [green]valid[/]  " + (f"({escape(summary)})" if summary
              else f"(module {escape(result.id)}, {types} entity type{'s' if types != 1 else ''})"))
    for problem in result.warnings:
        print_problem(out, problem)


def verdict_json(file: str, result: ModuleManifest | ManifestError) -> dict[str, Any]:
    if isinstance(result, ManifestError):
        return {"file": file, "valid": False, "id": None,
                "errors": [p.to_dict() for p in result.problems], "warnings": []}
    return {"file": file, "valid": True, "id": result.id, "errors": [],
            "warnings": [p.to_dict() for p in result.warnings]}
