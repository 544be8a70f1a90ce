"""Checks of module.yaml beyond its JSON Schema: rules a schema cannot say well.

They run on data the schema may have rejected, so every access is defensive. `problem`
is the loader's factory: problem(field parts, message, fix, severity="error") -> Problem.
"""

from __future__ import annotations

import difflib
import math
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema

from mediagrid import codecs
from mediagrid.backoff import BackoffPolicy
from mediagrid.manifest.config_schema import string_map_problems
from mediagrid.manifest.durations import format_duration, is_finite, parse_duration
from mediagrid.manifest.model import (
    PLACEHOLDER_RE,
    PLACEHOLDERS,
    ModuleManifest,
    Problem,
    Supervision,
)

# The contract's variables (docs/contract.md §2.1): the orchestrator (and `mediagrid module
# run`) sets them, so module.yaml's env may not (rule C-15). Other MEDIAGRID_* names, like
# MEDIAGRID_FFMPEG, belong to the module.
CONTRACT_ENV = (
    "GRPC_PORT", "MEDIAGRID_BIND_HOST", "MEDIAGRID_ADVERTISE_HOST", "MEDIAGRID_MODULE_ID",
    "MEDIAGRID_ORCHESTRATOR_ADDRESS", "MEDIAGRID_ORCHESTRATOR_CA_FILE", "MEDIAGRID_TOKEN",
    "MEDIAGRID_TLS_CERT_FILE", "MEDIAGRID_TLS_KEY_FILE", "MEDIAGRID_TLS_CLIENT_CA_FILE",
)

MakeProblem = Callable[..., Problem]


def semantic_errors(data: dict[str, Any], problem: MakeProblem) -> list[Problem]:
    """Errors (and a warning or two) the schema cannot express."""
    out: list[Problem] = []
    command = data.get("command")
    if isinstance(command, list):
        for index, arg in enumerate(command):
            for name in PLACEHOLDER_RE.findall(arg) if isinstance(arg, str) else ():
                if name not in PLACEHOLDERS:
                    close = difflib.get_close_matches(name, PLACEHOLDERS, n=1)
                    fix = (f'did you mean "{{{close[0]}}}"?' if close else
                           "known placeholders: " + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS))
                    message = f'unknown placeholder "{{{name}}}"'
                    out.append(problem(("command", index), message, fix))
    env = data.get("env")
    if isinstance(env, dict):
        for key in env:
            if not isinstance(key, str):
                out.append(problem(("env",), f"the name {key!r} is not text",
                                   f'quote it: "{key}"'))
            elif key in CONTRACT_ENV:
                out.append(problem(("env", key),
                                   f"{key} is set by the orchestrator (contract §2.1)",
                                   "remove it from env"))
    out.extend(_configurable_checks(data, problem))
    types = data.get("entity_types")
    seen: dict[str, int] = {}
    for index, spec in enumerate(types if isinstance(types, list) else []):
        if not isinstance(spec, dict):
            continue
        name, kind = spec.get("type"), spec.get("kind")
        if isinstance(name, str):
            if name in seen:
                out.append(problem((("entity_types", index, "type")),
                                   f'entity type "{name}" is declared twice '
                                   f"(also entity_types[{seen[name]}])",
                                   "give each entity type its own name, or merge them"))
            seen.setdefault(name, index)
        if kind == "converter" and "output" not in spec:
            out.append(problem(("entity_types", index, "output"),
                               "a converter needs `output` (what it produces)",
                               "add output: {codecs: [...]} "
                               "(left-out fields default to the input side)"))
        if kind in ("source", "sink", "protocol") and "output" in spec:
            out.append(problem(("entity_types", index, "output"),
                               f"`output` is for converters only, and this is a {kind}",
                               "remove output, or set kind: converter"))
        out.extend(_config_schema_checks(spec.get("config"), ("entity_types", index, "config"),
                                         problem))
        out.extend(_capability_checks(spec, index, problem))
    out.extend(_supervision_checks(data.get("supervision"), problem))
    return out


def _configurable_checks(data: dict[str, Any], problem: MakeProblem) -> list[Problem]:
    """`configurable: true` and `config_schema` come together (rule C-8)."""
    configurable, schema = data.get("configurable") is True, data.get("config_schema")
    if configurable and schema is None:
        return [problem(("configurable",),
                        "the module is configurable but has no config_schema",
                        "add config_schema: (a JSON Schema of the module's configuration, "
                        "e.g. {type: object, properties: {level: {type: string}}}), "
                        "or remove configurable: true")]
    if schema is not None and not configurable:
        return [problem(("config_schema",),
                        "config_schema is given but the module is not configurable",
                        "add configurable: true, or remove config_schema")]
    return _config_schema_checks(schema, ("config_schema",), problem)


def _config_schema_checks(schema: Any, parts: tuple[str | int, ...],
                          problem: MakeProblem) -> list[Problem]:
    """A valid JSON Schema that can match a map of strings (rule C-12)."""
    if not isinstance(schema, dict):
        return []
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        why = exc.message
        if exc.absolute_path and exc.absolute_path[-1] == "type":
            why = (f"{exc.instance!r} is not a JSON Schema type (string, object, array, "
                   "number, integer, boolean, null)")
        return [problem((*parts, *exc.absolute_path), f"not a valid JSON Schema: {why}",
                        "write a JSON Schema fragment, e.g. "
                        "{type: object, properties: {url: {type: string}}}")]
    return [problem((*parts, *where), message, fix)
            for where, message, fix in string_map_problems(schema)]


def _capability_checks(spec: dict[str, Any], index: int, problem: MakeProblem) -> list[Problem]:
    """A converter keeps its media type (C-13); codecs belong to the type's media types and
    travel over its transports (C-14)."""
    out: list[Problem] = []
    media, protocols = _strings(spec.get("media_types")), _strings(spec.get("protocols"))
    output = spec.get("output") if isinstance(spec.get("output"), dict) else {}
    out_media = output.get("media_types")
    if spec.get("kind") == "converter" and isinstance(out_media, list) and media \
            and set(_strings(out_media)) != set(media):
        out.append(problem(("entity_types", index, "output", "media_types"),
                           f"a converter's output carries its input's media type "
                           f"({', '.join(media)}), not {', '.join(_strings(out_media))}",
                           "remove output.media_types (it defaults to media_types); a change "
                           "of media type is two entities, not a converter"))
    sides = [(("entity_types", index, "codecs"), spec.get("codecs"), protocols)]
    if "codecs" in output:
        sides.append((("entity_types", index, "output", "codecs"), output["codecs"],
                      _strings(output.get("protocols")) or protocols))
    for parts, names, side_protocols in sides:
        transports = codecs.crosses_modules(side_protocols)
        for position, codec in enumerate(names if isinstance(names, list) else []):
            kind = codecs.media_of(codec) if isinstance(codec, str) else None
            if kind is None:
                continue  # the schema names the known codecs
            if media and kind not in media:
                article = "an" if kind == codecs.AUDIO else "a"
                out.append(problem((*parts, position),
                                   f'"{codec}" is {article} {kind} codec, but this entity type '
                                   f"carries only {', '.join(media)}",
                                   f"remove it, or add {kind} to media_types"))
            elif transports and codec not in codecs.MPEGTS_CODECS:
                carried = codecs.MPEGTS_VIDEO if kind == codecs.VIDEO else codecs.MPEGTS_AUDIO
                out.append(problem((*parts, position),
                                   f'"{codec}" cannot travel over {", ".join(transports)}: '
                                   "MPEG-TS has no stream type for it (contract §4.5)",
                                   f"list only codecs MPEG-TS carries ({', '.join(carried)}), "
                                   "or offer it on an entity type without those transports "
                                   "(LOCAL connections only)"))
    return out


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _non_finite(value: Any, parts: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], str]]:
    """Paths of .inf, .nan and huge numbers, which YAML reads and the schema lets through."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _non_finite(item, (*parts, str(key)))
    elif isinstance(value, int | float) and not is_finite(value):
        if isinstance(value, int):
            yield parts, f"{str(value)[:12]}... ({len(str(value))} digits)"
        else:
            yield parts, ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")


def _supervision_checks(sup: Any, problem: MakeProblem) -> list[Problem]:
    out: list[Problem] = []
    if not isinstance(sup, dict):
        return out
    for parts, shown in _non_finite(sup, ("supervision",)):
        out.append(problem(parts, f"{shown} is not a finite number",
                           'write a finite number, or a duration like "30s"'))
    defaults = Supervision()
    for name in ("startup_retry", "restart_backoff"):
        block = sup.get(name)
        if not isinstance(block, dict) or ("initial" not in block and "max" not in block):
            continue
        default: BackoffPolicy = getattr(defaults, name)
        # A side left out takes its default, so `initial: 5s` alone is checked against the
        # default max (1 s for startup_retry) too.
        initial_text = block.get("initial", format_duration(default.initial))
        max_text = block.get("max", format_duration(default.max))
        try:
            initial, cap = parse_duration(initial_text), parse_duration(max_text)
        except ValueError:
            continue  # the schema reported it
        if initial > cap:
            given = "initial" in block
            shown_max = max_text if "max" in block else f"{max_text}, the default"
            shown_initial = initial_text if given else f"{initial_text}, the default"
            out.append(problem(("supervision", name, "initial" if given else "max"),
                               f"initial ({shown_initial}) is longer than max ({shown_max})",
                               "make initial at most max" if given else
                               "make max at least initial"))
    try:
        period = parse_duration(sup.get("health_period", 1.0))
        timeout = parse_duration(sup.get("health_timeout", 0.5))
    except ValueError:
        return out
    if timeout > period:
        out.append(problem(("supervision", "health_timeout"),
                           "health_timeout is longer than health_period, so checks overlap",
                           "make health_timeout at most health_period", "warning"))
    return out


def command_warnings(manifest: ModuleManifest, problem: MakeProblem) -> list[Problem]:
    """The program must exist, but the file may be checked on another machine than the one
    that runs it, so a missing program is a warning, not an error (docs/module-yaml.md)."""
    args = manifest.resolved_command()
    program = args[0]
    index, script = _python_script(manifest.command)
    if script.endswith(".py") and not (manifest.cwd / script).is_file():
        return [problem(("command", index), f"{script} is not in {manifest.cwd}",
                        "check the file name, or working_dir", "warning")]
    if "/" in program:
        path = Path(program)
        if not path.exists():
            return [problem(("command", 0), f"{program} does not exist (yet?)",
                            "build or install it before the module is started", "warning")]
        if not os.access(path, os.X_OK) or path.is_dir():
            return [problem(("command", 0), f"{program} is not an executable file",
                            f"chmod +x {program}, or start it through an interpreter", "warning")]
        return []
    if shutil.which(program) is None:
        fix = "install it, or give a path"
        if (manifest.folder / program).is_file():
            fix = f'a file of that name is beside module.yaml: write "./{program}"'
        return [problem(("command", 0), f'"{program}" is not on PATH here', fix, "warning")]
    return []


def _python_script(command: tuple[str, ...]) -> tuple[int, str]:
    """(index, path) of the script in ["{python}", "-u", "module.py", ...]; "" when the
    command is not {python} running a script (-m module, -c code)."""
    if command[0] != "{python}":
        return 0, ""
    for index, arg in enumerate(command[1:], start=1):
        if arg in ("-m", "-c"):
            return 0, ""
        if not arg.startswith("-"):
            return index, arg
    return 0, ""
