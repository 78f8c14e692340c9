"""YAML loading that remembers where each mapping and key came from.

Content errors must name ``file:line``; PyYAML forgets positions once it builds Python
objects, so this loader returns :class:`MarkedDict` mappings that keep them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml


class MarkedDict(dict[str, Any]):
    """A dict that knows the line of itself and of each of its keys (1-based)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str | int | None = None) -> int:
        """The line of ``key`` if known, else the line where this mapping starts."""
        if key is not None and isinstance(key, str):
            return self.key_lines.get(key, self.line)
        return self.line


class _MarkedLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _MarkedLoader, node: yaml.MappingNode) -> Iterator[MarkedDict]:
    data = MarkedDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                "found an unhashable or complex key",
                key_node.start_mark,
            )
        # Keys are always text in our formats; YAML would turn A/yes/1 into other types.
        text_key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key)
        if text_key in data.key_lines:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {text_key!r}",
                key_node.start_mark,
            )
        data.key_lines[text_key] = key_node.start_mark.line + 1
        data[text_key] = loader.construct_object(value_node, deep=True)


_MarkedLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class YamlSyntaxError(ValueError):
    """YAML that does not parse; ``line`` is 1-based."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.line = line


def load_marked_yaml(text: str, *, first_line: int = 1) -> Any:
    """Parse YAML text into plain values with :class:`MarkedDict` mappings.

    Args:
        text: the YAML document.
        first_line: the file line on which ``text`` starts (front matter starts on 2).

    Raises:
        YamlSyntaxError: with the offending line, when the text is not valid YAML.
    """
    try:
        data = yaml.load(text, Loader=_MarkedLoader)
    except yaml.MarkedYAMLError as exc:
        # The context (where an unclosed bracket or quote opened) is where to look first.
        problem = exc.problem or "invalid YAML"
        offset = first_line - 1
        constructing = isinstance(exc, yaml.constructor.ConstructorError)
        if not constructing and exc.context_mark is not None and exc.problem_mark is not None:
            line = exc.context_mark.line + 1 + offset
            if exc.problem_mark.line != exc.context_mark.line:
                problem += f" (noticed at line {exc.problem_mark.line + 1 + offset})"
        else:
            mark = exc.problem_mark or exc.context_mark
            line = (mark.line + 1 if mark else 1) + offset
        if exc.context:
            problem = f"{exc.context}: {problem}"
        raise YamlSyntaxError(f"malformed YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"malformed YAML: {exc}", first_line) from None
    if first_line != 1:
        _shift_lines(data, first_line - 1)
    return data


def _shift_lines(value: Any, offset: int) -> None:
    if isinstance(value, MarkedDict):
        value.line += offset
        value.key_lines = {key: line + offset for key, line in value.key_lines.items()}
        for item in value.values():
            _shift_lines(item, offset)
    elif isinstance(value, list):
        for item in value:
            _shift_lines(item, offset)
