"""YAML as gankit reads it: the safe loader, refusing duplicate keys (the last would silently win, so
`lr: -1` then `lr: 0.1` would train) and nesting deeper than any gankit file needs (20,000 levels would
exhaust the interpreter's stack)."""

from __future__ import annotations

from typing import Any

import yaml

MAX_DEPTH = 50


class DuplicateKey(yaml.YAMLError):
    pass


class TooDeep(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_DEPTH} levels (line {self.get_mark().line + 1})")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
            except TypeError:  # an unhashable key: the base constructor says so
                break
            if duplicate:
                raise DuplicateKey(f"the key {str(key)[:40]!r} appears twice (line {key_node.start_mark.line + 1})")
            seen.add(key)
        return super().construct_mapping(node, deep)


def load(text: str) -> Any:
    """Parse YAML text; yaml.YAMLError (DuplicateKey and TooDeep among them) for what gankit does not accept."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
