"""``results/*.json``: the files every notebook writes and the README table is generated from.

Writing stamps each file with the device, git commit, date and FAST flag, so a number can always
be traced to the run that produced it. Reading names the broken file instead of failing deep
inside a table.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from a2 import runtime
from a2.errors import DataError, ResultsError
from a2.io import read_json, write_json

__all__ = ["ResultsError", "load_all_results", "lookup", "read_results_file", "write_results"]


def write_results(name: str, payload: Mapping[str, Any], *, device: Any = None) -> Path:
    """Write ``results/<name>.json`` atomically, stamped with device, git commit, date and FAST."""
    stamped = {
        **payload,
        "device": str(device) if device is not None else payload.get("device", str(runtime.pick_device())),
        "git_commit": runtime.git_commit(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "fast": runtime.is_fast(),
    }
    return write_json(runtime.results_path(f"{name}.json"), stamped)


def load_all_results(folder: str | Path | None = None) -> dict[str, dict[str, Any]]:
    """Every ``results/*.json`` as ``{stem: payload}``, sorted by name (default: the repository's)."""
    folder = Path(folder) if folder is not None else runtime.REPO_ROOT / "results"
    return {p.stem: read_results_file(p) for p in sorted(folder.glob("*.json"))}


def read_results_file(path: str | Path) -> dict[str, Any]:
    """One results file as a dict; :class:`ResultsError` naming the file if it is not a JSON object."""
    path = Path(path)
    try:
        payload = read_json(path, allow_nan=True)  # NaN is named by the table, where it would show
    except DataError as err:
        raise ResultsError(err.what, err.fix) from None
    if not isinstance(payload, dict):
        raise ResultsError(f"{path} holds a {type(payload).__name__}, not a JSON object",
                           "restore it (git checkout) or rerun the notebook that writes it")
    return payload


_REQUIRED: Any = object()


def lookup(payload: Any, dotted: str, default: Any = _REQUIRED) -> Any:
    """``payload["a"][0]["b"]`` for ``"a.0.b"`` (list items by index): the one way every reader of results
    follows a key path. A missing step returns ``default``, or raises :class:`KeyError` naming ``dotted``
    when no default is given."""
    node: Any = payload
    for key in dotted.split("."):
        if isinstance(node, Mapping) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif default is _REQUIRED:
            raise KeyError(dotted)
        else:
            return default
    return node


def flatten(payload: Mapping[str, Any], prefix: str = "", *, into_lists: bool = False) -> dict[str, Any]:
    """Every leaf of a results file keyed by its dotted path (``test.accuracy``).

    Lists stay whole (one value) unless ``into_lists``, which names each element: ``history[0].loss``.
    """
    out: dict[str, Any] = {}
    for key, value in payload.items():
        out.update(_leaves(value, f"{prefix}{key}", into_lists))
    return out


def _leaves(value: Any, path: str, into_lists: bool) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return flatten(value, path + ".", into_lists=into_lists)
    if into_lists and isinstance(value, list):
        out: dict[str, Any] = {}
        for i, item in enumerate(value):
            out.update(_leaves(item, f"{path}[{i}]", into_lists))
        return out
    return {path: value}
