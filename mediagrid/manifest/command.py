"""`mediagrid validate PATH...`: check module.yaml files against the published schema."""

from __future__ import annotations

import argparse
from typing import Any

EXIT_OK, EXIT_INVALID = 0, 2

EPILOG = """\
examples:
  mediagrid validate examples/python/hello
      check one module: a folder means the module.yaml in it
  mediagrid validate modules/*/
      check several; every file is checked even when an earlier one is invalid
  mediagrid validate --json my-module | jq '.[0].errors'
      the same verdicts as JSON, for a script or CI

Every problem names the file, the field (like entity_types[0].kind), what is wrong
and how to fix it. A command not found on this machine is only a warning: the file
may be meant for another machine. For editor completion, save the schema with
`mediagrid validate --print-schema > module.schema.json`.
Format reference: docs/module-yaml.md.

exit codes:
  0  every file is valid (warnings allowed)
  2  at least one file is invalid, or bad usage
"""


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="check module.yaml files (schema, field names, values)",
        description="Check module.yaml files before a module is run: the published JSON "
                    "Schema and the rules beyond it. Prints a verdict per file (the "
                    "module.yaml read) with every problem and its fix.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="a module.yaml file, or a folder holding one; give several "
                             "to check them all")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list, one object per file: file (the "
                             "module.yaml read), valid, id, errors, warnings (each problem: "
                             "file, field, message, fix, severity, line)")
    parser.add_argument("--print-schema", action="store_true",
                        help="print the module.yaml JSON Schema (draft 2020-12) and exit; "
                             "takes no PATH")
    parser.set_defaults(func=run, _parser=parser)
    from mediagrid.manifest import run as module_run  # light: it imports nothing heavy

    module_run.register(subparsers)  # `mediagrid module run`, its sibling for module authors


def run(args: argparse.Namespace) -> int:
    import json

    from mediagrid.manifest.files import manifest_file
    from mediagrid.manifest.loader import load_manifest
    from mediagrid.manifest.model import ManifestError, ModuleManifest
    from mediagrid.manifest.report import console, print_verdict, verdict_json
    from mediagrid.manifest.schemas import schema_text

    if args.print_schema:
        if args.paths:
            args._parser.error(f"--print-schema takes no PATH (got {' '.join(args.paths)}); "
                               "to check files, leave out --print-schema")
        print(schema_text(), end="")
        return EXIT_OK
    if not args.paths:
        args._parser.error("give at least one PATH (a module.yaml or its folder)")
    results: list[tuple[str, ModuleManifest | ManifestError]] = []
    stacks = _stack_files(args.paths)  # stack files (docs/stacks.md) are checked too
    for path in args.paths:
        if path in stacks:
            results.append((path, stacks[path]))
            continue
        file = str(manifest_file(path))  # a folder means folder/module.yaml: name what was read
        try:
            results.append((file, load_manifest(path)))
        except ManifestError as exc:
            results.append((file, exc))
    invalid = sum(isinstance(result, ManifestError) for _, result in results)
    if args.json:
        print(json.dumps([verdict_json(path, result) for path, result in results], indent=2))
    else:
        out = console()
        for path, result in results:
            print_verdict(out, path, result)
        if len(results) > 1:
            out.print(f"{len(results)} files: {len(results) - invalid} valid, {invalid} invalid")
    return EXIT_INVALID if invalid else EXIT_OK


def _stack_files(paths: list[str]) -> dict[str, Any]:
    """Verdicts of the paths that are stack files: a Stack's summary stands in for a
    ModuleManifest (it has id and entity_types), its problems make a ManifestError."""
    from mediagrid.manifest.model import ManifestError
    from mediagrid.reference.stacks.model import is_stack_file, verdict

    found: dict[str, Any] = {}
    for path in paths:
        if is_stack_file(path):
            stack, problems = verdict(path)
            found[path] = ManifestError(problems) if stack is None else _StackSummary(stack)
    return found


class _StackSummary:
    """What print_verdict and verdict_json read of a valid file, for a stack."""

    def __init__(self, stack: Any) -> None:
        self.id = stack.name
        self.entity_types = stack.entities
        self.warnings: list[Any] = []
        self.summary = (f"stack {stack.name}, {len(stack.manifests)} modules,"
                        f" {len(stack.entities)} entities, {len(stack.pipelines)} pipelines")
