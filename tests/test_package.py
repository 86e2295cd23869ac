"""The package's shape: one import direction (no cycles) and no ``a2`` imports hidden inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import a2

SRC = Path(a2.__file__).resolve().parent
# In-function a2 imports in modules other people are restructuring (issue 13); none may be added.
KNOWN_INNER = {"anomaly/nab.py", "anomaly/preprocess.py", "text/predict.py", "vision/images.py"}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _a2_imports(node: ast.AST) -> list[str]:
    if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "a2":
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "a2"]
    return []


def _graph() -> tuple[dict[str, set[str]], set[str]]:
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph, inner = {}, set()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        graph[name] = {m for node in tree.body for m in _a2_imports(node) if m in modules and m != name}
        if any(_a2_imports(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)):
            inner.add(path.relative_to(SRC).as_posix())
    return graph, inner


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path, node, nxt]
            if nxt not in state and (found := visit(nxt, [*path, node])):
                return found
        state[node] = 2
        return []

    return next((c for n in sorted(graph) if n not in state and (c := visit(n, []))), [])


def test_no_import_cycles():
    assert _cycle(_graph()[0]) == []


def test_cycle_finder_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_new_a2_imports_inside_functions():
    assert _graph()[1] - KNOWN_INNER == set()
