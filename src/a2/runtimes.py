"""The README's run-time table: how long each notebook (and ``make run``) took, never typed by hand.

A notebook's time is the ``runtime_s`` its results file recorded; a notebook whose results file records
none (the bonus notebooks share ``bonus.json``) falls back to the wall time papermill stored in the
executed notebook's metadata. Each row names its source and the device of the run, so a reader can tell
a CPU time from a GPU one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from a2 import io
from a2.results import load_all_results, lookup

# notebook (relative to the repository) -> its results file stem
NOTEBOOK_RESULTS: dict[str, str] = {
    "part_2_autoencoder.ipynb": "part_2",
    "nab_benchmark.ipynb": "nab",
    "part_4_pretrain.ipynb": "part_4_pretrain",
    "part_4_transformer.ipynb": "part_4",
    "bonus/vit.ipynb": "bonus",
    "bonus/efficientnet.ipynb": "bonus",
}
# Run only on request (``python main.py --only pretrain``): listed, but not part of ``make run``'s total.
ON_REQUEST = frozenset({"part_4_pretrain.ipynb"})
START, END = "<!-- runtimes:start -->", "<!-- runtimes:end -->"


@dataclass(frozen=True)
class NotebookTime:
    """One notebook's recorded wall time (None when nothing recorded it) and where the figure comes from."""

    notebook: str
    seconds: float | None
    source: str
    device: str
    fast: bool


def papermill_seconds(path: Path) -> float | None:
    """The wall time papermill stored in an executed notebook (None if it never ran under papermill)."""
    try:
        meta = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    except (OSError, ValueError):
        return None
    value = meta.get("papermill", {}).get("duration")
    return float(value) if isinstance(value, (int, float)) else None


def runtimes(results: Mapping[str, Mapping[str, Any]], notebook_root: Path) -> list[NotebookTime]:
    """One :class:`NotebookTime` per known notebook that exists under ``notebook_root``."""
    rows = []
    for notebook, stem in NOTEBOOK_RESULTS.items():
        path = notebook_root / notebook
        if not path.is_file():
            continue
        payload = results.get(stem, {})
        recorded = lookup(payload, "runtime_s", None)
        if isinstance(recorded, (int, float)) and not isinstance(recorded, bool):
            seconds, source = float(recorded), f"`results/{stem}.json` runtime_s"
        else:
            seconds, source = papermill_seconds(path), "papermill's record in the executed notebook"
        rows.append(NotebookTime(notebook, seconds, source, str(payload.get("device", "?")), bool(payload.get("fast"))))
    return rows


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    return f"{seconds / 60:.0f} min ({seconds:,.0f} s)" if seconds >= 60 else f"{seconds:.0f} s"


def runtime_table(results: Mapping[str, Mapping[str, Any]], notebook_root: Path) -> str:
    """Markdown: one row per notebook, then the total that ``make run`` takes."""
    rows = runtimes(results, notebook_root)
    lines = ["| notebook | wall time | device of the run | source |", "| --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| `{r.notebook}`{' (FAST)' if r.fast else ''}"
                     f"{' (on request, not in `make run`)' if r.notebook in ON_REQUEST else ''} "
                     f"| {_duration(r.seconds)} "
                     f"| {r.device} | {r.source} |")
    counted = [r for r in rows if r.notebook not in ON_REQUEST]
    known = [r.seconds for r in counted if r.seconds is not None]
    if counted:
        total = _duration(sum(known)) + ("" if len(known) == len(counted) else " (without the unrecorded)")
        lines.append(f"| **`make run`** (every notebook, in this order) | **{total}** | | sum of the rows above"
                     + (", without the on-request ones |" if len(counted) < len(rows) else " |"))
    return "\n".join(lines)


def update_readme(text: str, readme: Path) -> bool:
    """Replace the README's runtime block with ``text`` (atomically); True if it changed."""
    return io.replace_marked_block(readme, START, END, text, "run-time table")


def refresh_readme(root: Path) -> bool:
    """Regenerate ``root/README.md``'s run-time block from ``root/results`` and the notebooks; True if it changed."""
    from_results = load_all_results(root / "results")
    return update_readme(runtime_table(from_results, root), root / "README.md")
