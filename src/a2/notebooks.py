"""Notebook housekeeping: exporting ``#@save`` cells into the package, and saving without widget state.

``python -m a2.notebooks export [--check]``: the graded code (models, loops) is written in notebook
cells, where a grader reads it and a student edits it. Where the package needs the same definition
(the ``predict`` CLI, the NAB detector, unit tests), the cell is marked with a first line
``#@save a2.some.module``, as d2l marks its ``#@save`` functions. All cells marked for one module, in
notebook order, become ``src/a2/some/module.py`` under a generated header; ``--check`` (run by the tests)
fails when a committed module differs from its cells, so there is one hand-kept copy: the notebook's.

``python -m a2.notebooks strip-widgets NOTEBOOK...``: saved notebooks without widget state.

A progress bar drawn as a Jupyter widget is saved as an ``application/vnd.jupyter.widget-view+json``
output plus the widget models in ``metadata.widgets``. Outside a live session the bar shows nothing (or
a frozen state), and the models can weigh hundreds of kB. :func:`strip_widgets` removes both and keeps
every other output: streams, tables, figures, markdown.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from a2.errors import A2Error

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SAVE_MARK = "#@save"
NOTEBOOK_GLOBS = ("*.ipynb", "bonus/*.ipynb")


def saved_cells(nb: dict[str, Any]) -> list[tuple[str, str]]:
    """``(module, code)`` for every code cell whose first line is ``#@save <module>``, in notebook order."""
    found = []
    for i, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        source = "".join(cell.get("source", []))
        first, _, body = source.partition("\n")
        if not first.startswith(SAVE_MARK):
            continue
        module = first[len(SAVE_MARK):].strip()
        if not module.startswith("a2.") or not all(part.isidentifier() for part in module.split(".")):
            raise A2Error(f"cell {i}: {first!r} does not name a module of the package",
                          f"write the cell's first line as '{SAVE_MARK} a2.<package>.<module>'")
        if any(line.lstrip().startswith(("%", "!")) for line in body.splitlines()):
            raise A2Error(f"cell {i} ({module}) holds an IPython magic or shell line, which a module cannot",
                          "move the magic to a cell of its own")
        found.append((module, body.strip("\n")))
    return found


def module_path(root: Path, module: str) -> Path:
    return root / "src" / Path(*module.split(".")).with_suffix(".py")


def render_module(module: str, notebook: str, cells: list[str]) -> str:
    """The text of an exported module: a generated header, then the cells, two blank lines apart."""
    header = (f"# Generated from {notebook} by `make export` (python -m a2.notebooks export): edit the\n"
              f"# notebook's '{SAVE_MARK} {module}' cells, not this file; tests/test_exports.py checks they agree.\n")
    return header + "\n\n\n".join(c.rstrip() for c in cells) + "\n"


def exported_modules(root: Path) -> dict[Path, str]:
    """Every module the notebooks under ``root`` export, with the text it should have."""
    by_module: dict[str, tuple[str, list[str]]] = {}
    for pattern in NOTEBOOK_GLOBS:
        for path in sorted(root.glob(pattern)):
            name = path.relative_to(root).as_posix()
            try:
                cells = saved_cells(json.loads(path.read_text(encoding="utf-8")))
            except A2Error as err:
                raise A2Error(f"{name}: {err.what}", err.fix) from None
            for module, code in cells:
                owner, codes = by_module.setdefault(module, (name, []))
                if owner != name:
                    raise A2Error(f"{module} is exported from both {owner} and {name}",
                                  "mark a module's cells in one notebook only")
                codes.append(code)
    return {module_path(root, m): render_module(m, nb, codes) for m, (nb, codes) in by_module.items()}


def export(root: Path, check: bool = False) -> list[Path]:
    """Write (or with ``check``, only compare) the exported modules; returns those that differed."""
    stale = []
    for path, text in exported_modules(root).items():
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(path)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return stale


def widget_state(nb: dict[str, Any]) -> list[str]:
    """Where ``nb`` holds widget state, one description per place (empty when clean)."""
    found = []
    if "widgets" in nb.get("metadata", {}):
        found.append("metadata.widgets")
    for i, cell in enumerate(nb.get("cells", [])):
        n = sum(WIDGET_VIEW in out.get("data", {}) for out in cell.get("outputs", []))
        if n:
            found.append(f"cell {i}: {n} widget output(s)")
        if "widgets" in cell.get("metadata", {}):
            found.append(f"cell {i}: metadata.widgets")
    return found


def strip_widgets(nb: dict[str, Any]) -> dict[str, Any]:
    """``nb`` without widget outputs and widget metadata; all other outputs are kept, in order.

    A widget output is dropped whole: its ``text/plain`` fallback is only the placeholder of the widget
    (e.g. a bar frozen at 0%), not output of the run.
    """
    nb = json.loads(json.dumps(nb))  # deep copy
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("widgets", None)
        if "outputs" in cell:
            cell["outputs"] = [out for out in cell["outputs"] if WIDGET_VIEW not in out.get("data", {})]
    return nb


def strip_file(path: str | Path) -> bool:
    """Strip widget state from the notebook at ``path`` in place; True if it changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    if not widget_state(nb):
        return False
    # the layout nbformat/papermill write (indent 1, keys sorted, non-ASCII kept), so the diff is only the removal
    out = json.dumps(strip_widgets(nb), indent=1, sort_keys=True, ensure_ascii=False)
    path.write_text(out + ("\n" if text.endswith("\n") else ""), encoding="utf-8")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m a2.notebooks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["export", "strip-widgets"])
    parser.add_argument("notebooks", nargs="*", type=Path, help="strip-widgets: the notebooks to clean")
    parser.add_argument("--check", action="store_true", help="export: only report modules that differ")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.command == "export":
        try:
            stale = export(args.root, check=args.check)
        except A2Error as err:
            print(f"error: {err}")
            return 2
        for path in stale:
            rel = path.relative_to(args.root)
            print(f"{rel}: differs from its {SAVE_MARK} cells" if args.check else f"{rel}: written")
        if args.check and stale:
            print("run `make export` to regenerate them from the notebooks")
        return 1 if args.check and stale else 0
    for path in args.notebooks:
        print(f"{path}: {'widget state removed' if strip_file(path) else 'no widget state'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
