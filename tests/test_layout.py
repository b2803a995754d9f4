"""The package's shape, as the README's Layout section describes it: no module over 300 lines, no import circle
(function-level and type-only imports included), and no run-directory file name spelled outside rundir.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
MODULES = sorted((SRC / "gankit").rglob("*.py"))


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


NAMES = {module_name(p): p for p in MODULES}


def imports(path: Path) -> set[str]:
    """The gankit modules a file imports, anywhere in it (a name imported from a package that is itself a module
    counts as that module; a package's own __init__ is not counted for its submodules)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("gankit")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gankit"):
            subs = {f"{node.module}.{a.name}" for a in node.names} & set(NAMES)
            found |= subs or {node.module}
    me = module_name(path)
    return {m for m in found if m in NAMES and m != me and not me.startswith(m + ".")}


def test_no_module_is_over_300_lines():
    long = {str(p.relative_to(SRC)): n for p in MODULES if (n := len(p.read_text().splitlines())) > 300}
    assert not long, long


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """A path of imports that comes back to where it started, if the graph has one."""
    seen: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> list[str] | None:
        seen[node] = 1
        for nxt in sorted(graph[node]):
            if seen.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in seen and (found := visit(nxt, [*path, nxt])):
                return found
        seen[node] = 2
        return None

    return next((c for name in sorted(graph) if name not in seen and (c := visit(name, [name]))), None)


def test_the_import_graph_has_no_circle():
    assert find_circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None
    graph = {name: imports(path) for name, path in NAMES.items()}
    assert "gankit.training.loop" in graph["gankit.training.ensure"]  # the walk sees real imports
    assert find_circle(graph) is None, " -> ".join(find_circle(graph))


@pytest.mark.parametrize("pattern, example", [
    (r'"config\.yaml"', 'Path(run) / "config.yaml"'), (r'"metrics\.jsonl"', 'open("metrics.jsonl")'),
    (r'"best\.safetensors"', 'dir / "best.safetensors"'), (r'"report\.html"', 'runs[0] / "report.html"'),
    (r'"\.lock"', 'run / ".lock"'), (r'/ *"checkpoints"', 'run / "checkpoints"'),
    (r'/ *"samples"', 'run /"samples"'), (r'/ *"tensorboard"', 'Path(run_dir) / "tensorboard"')])
def test_only_rundir_spells_a_run_directorys_file_names(pattern, example):
    assert re.search(pattern, example)  # the check would catch such a line
    spelled = [str(p.relative_to(SRC)) for p in MODULES if p.name != "rundir.py" and re.search(pattern, p.read_text())]
    assert not spelled, f"{pattern} spelled in {spelled}; use RunDir's paths"
