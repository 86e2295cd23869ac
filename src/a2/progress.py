"""Progress that reads well both live and saved.

In a live Jupyter session (or a terminal) students get ``tqdm.auto`` bars. When a notebook is
executed non-interactively (papermill, nbclient, ``main.py``, the tests) a saved bar would be
frozen mid-update and a widget would bloat the notebook with state, so progress becomes plain
text instead: outer loops print one short line per step ("epoch 3/10 ...", or about every 10 % of a
long loop), inner loops are silent.

``A2_PROGRESS=bars|plain|off`` forces a mode. Otherwise a kernel whose current request does not
allow stdin (how papermill and nbclient execute cells) counts as non-interactive.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")
SHORT_LOOP = 50  # loops up to this long print a line per item when saved; longer ones about every 10 %
Mode = Literal["bars", "plain", "off"]


def mode() -> Mode:
    """``bars`` for live sessions, ``plain`` for executed notebooks, or what ``$A2_PROGRESS`` says."""
    forced = os.environ.get("A2_PROGRESS", "").strip().lower()
    if forced in ("bars", "plain", "off"):
        return forced  # type: ignore[return-value]
    try:
        from IPython import get_ipython  # optional: only present inside IPython/Jupyter
    except ImportError:
        return "bars"
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is not None and not getattr(kernel, "_allow_stdin", True):
        return "plain"
    return "bars"


class _PlainProgress:
    """A tqdm stand-in that prints at most one line per item (outer loops) or nothing (inner)."""

    def __init__(self, iterable: Iterable[Any] | None, desc: str, total: int | None, lines: bool) -> None:
        self.iterable = iterable
        self.desc = desc
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.lines = lines
        self.n = 0
        self.postfix = ""
        self.start = self.last_print = time.perf_counter()

    def __iter__(self) -> Iterator[Any]:
        for item in self.iterable or ():
            yield item
            self.update()

    def __len__(self) -> int:
        return self.total or 0

    def update(self, n: int = 1) -> None:
        before, self.n = self.n, self.n + n
        if self.lines and self._due(before):
            total = f"/{self.total}" if self.total else ""
            extra = f" {self.postfix}" if self.postfix else ""
            print(f"{self.desc} {self.n}{total} ({time.perf_counter() - self.start:.0f} s){extra}", flush=True)
            self.last_print = time.perf_counter()

    def _due(self, before: int) -> bool:
        """Every step of a short loop (epochs, files); about every 10 % of a long one (reviews, rows)."""
        if self.total and self.total <= SHORT_LOOP:
            return True
        if self.total:
            return self.n >= self.total or 10 * self.n // self.total > 10 * before // self.total
        return time.perf_counter() - self.last_print >= 30.0

    def set_postfix(self, ordered_dict: dict[str, Any] | None = None, refresh: bool = True, **kwargs: Any) -> None:
        items = {**(ordered_dict or {}), **kwargs}
        self.postfix = " ".join(f"{k}={v}" for k, v in items.items())

    def set_description(self, desc: str | None = None, refresh: bool = True) -> None:
        self.desc = desc or ""

    def write(self, text: str) -> None:
        print(text, file=sys.stdout, flush=True)

    def close(self) -> None:
        pass

    def __enter__(self) -> _PlainProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(
    iterable: Iterable[T] | None = None,
    desc: str = "",
    total: int | None = None,
    *,
    inner: bool = False,
    disable: bool = False,
    **tqdm_kwargs: Any,
) -> Any:
    """A progress bar over ``iterable`` that suits where the code runs.

    ``inner=True`` marks a loop nested inside another one (batches inside epochs): it shows a
    transient bar live and nothing when saved. Outer loops print one plain line per item when saved.
    Accepts tqdm's ``update``/``set_postfix``/``close`` protocol either way.
    """
    how = "off" if disable else mode()
    if how == "bars":
        return tqdm(iterable, desc=desc, total=total, leave=not inner, **tqdm_kwargs)
    return _PlainProgress(iterable, desc, total, lines=how == "plain" and not inner)
