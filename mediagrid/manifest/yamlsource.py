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
MAX_NODES = 100_000  # values with aliases expanded; a real module.yaml has a few hundred


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
    def __init__(self, message: str, line: int | None, column: int | None,
                 fix: str = "fix the YAML there (indentation, a missing ':' or quote)") -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.fix = message, line, column, fix


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
    loop = _alias_loop(root, set(), set())
    if loop is not None:
        line = loop.start_mark.line + 1
        raise YamlSyntaxError(f"YAML alias loop at line {line}: an anchor (&name) is used "
                              "inside itself", line, loop.start_mark.column + 1,
                              "remove the *alias there, or write the data out")
    size = _expanded_size(root, {})
    if size > MAX_NODES:
        raise YamlSyntaxError(f"YAML aliases expand this file to {size} values (more than "
                              f"{MAX_NODES})", None, None,
                              "a module.yaml needs no such nesting of *aliases: write it out")
    source = YamlSource(data=data, root=root)
    source.duplicates = list(_duplicates(root, ()))
    return source


def _alias_loop(node: yaml.Node | None, open_nodes: set[int],
                done: set[int]) -> yaml.Node | None:
    """The first node that contains itself through an alias (`a: &x [*x]`), else None.
    `done` holds nodes already walked, so a shared (aliased) node is walked once."""
    if id(node) in open_nodes:
        return node
    if id(node) in done:
        return None
    if isinstance(node, yaml.MappingNode):
        children = [child for pair in node.value for child in pair]
    elif isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    else:
        return None
    open_nodes.add(id(node))
    try:
        return next((loop for child in children
                     if (loop := _alias_loop(child, open_nodes, done)) is not None), None)
    finally:
        open_nodes.discard(id(node))
        done.add(id(node))


def _expanded_size(node: yaml.Node | None, memo: dict[int, int]) -> int:
    """Values in the document with every alias expanded (aliases nested in aliases grow it
    exponentially, and every later walk over the data would pay for that)."""
    if id(node) not in memo:
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        memo[id(node)] = 1 + sum(_expanded_size(child, memo) for child in children)
    return memo[id(node)]


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
