"""The YAML text of a module.yaml: parsed data plus the line of every field, and duplicate keys.

PyYAML keeps the last of two equal keys without a word; a module.yaml with a key twice is
almost always a mistake, so the loader reports it (found here from the node tree).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

PathPart = str | int


@dataclass
class YamlSource:
    data: Any
    root: yaml.Node | None
    duplicates: list[tuple[tuple[PathPart, ...], int, int]] = field(default_factory=list)

    def line_of(self, path: tuple[PathPart, ...]) -> int | None:
        """1-based line of the value at `path` (or of the deepest part of it that exists)."""
        node = self.root
        line = None if node is None else node.start_mark.line + 1
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            key_node, node = child
            line = (key_node or node).start_mark.line + 1
        return line


class YamlSyntaxError(Exception):
    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def parse(text: str) -> YamlSource:
    """Parses YAML text; raises YamlSyntaxError naming the line and column."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = exc.problem or exc.context or "invalid YAML"
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        where = f" at line {line}, column {column}" if mark else ""
        raise YamlSyntaxError(f"YAML syntax error{where}: {what}", line, column) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", None, None) from exc
    source = YamlSource(data=data, root=root)
    source.duplicates = list(_duplicates(root, ()))
    return source


def _child(node: yaml.Node | None, part: PathPart) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None


def _duplicates(
    node: yaml.Node | None, path: tuple[PathPart, ...]
) -> Iterator[tuple[tuple[PathPart, ...], int, int]]:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in seen:
                yield (*path, key.value), seen[key.value], line
            else:
                seen[key.value] = line
            yield from _duplicates(value, (*path, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*path, index))
