"""The package's shape: one import direction (no cycles), no ``a2`` imports hidden inside functions, and no two
public functions or classes of the same name within one package."""

from __future__ import annotations

import ast
from pathlib import Path

import a2

SRC = Path(a2.__file__).resolve().parent
# ``main`` is every command-line module's entry point: the same idea in each, so it may repeat.
# "bundle": each weights-file module (text.predict, text.encoder_weights) names its own file format
# so, and callers always write it qualified (predict.bundle, encoder_weights.bundle).
SHARED_NAMES = {"main", "bundle"}


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


def test_no_a2_imports_inside_functions():
    assert _graph()[1] == set()


def _same_named() -> dict[str, list[str]]:
    """``{"<package>.<name>": [modules]}`` for public top-level functions and classes defined in two modules of a
    package (``a2``, ``a2.anomaly``, ...), where an import of the wrong one would silently do something else."""
    where: dict[tuple[str, str], list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        package = _module(path.parent / "__init__.py")
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                where.setdefault((package, node.name), []).append(path.stem)
    return {f"{p}.{n}": mods for (p, n), mods in where.items() if len(mods) > 1 and n not in SHARED_NAMES}


def test_no_two_public_names_alike_within_a_package():
    assert set(_same_named()) == set()
