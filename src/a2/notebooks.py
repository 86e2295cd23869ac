"""Saved notebooks without widget state: ``python -m a2.notebooks strip-widgets NOTEBOOK...``.

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

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


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
    parser = argparse.ArgumentParser(prog="python -m a2.notebooks", description=__doc__)
    parser.add_argument("command", choices=["strip-widgets"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks:
        print(f"{path}: {'widget state removed' if strip_file(path) else 'no widget state'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
