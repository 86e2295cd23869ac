"""Exceptions for problems a user can fix: each says what went wrong and how to fix it.

Entry points (``main.py``, ``python -m a2.text.predict``, ...) print ``error: <str(err)>`` for
any :class:`A2Error` and exit non-zero, with no traceback. The classes live here, in a module that
never runs as ``__main__``, so that ``except A2Error`` matches whatever the library raised.
"""

from __future__ import annotations


class A2Error(Exception):
    """Base class. ``str(err)`` reads ``<what went wrong> (<how to fix it>)``."""

    def __init__(self, what: str, fix: str = "") -> None:
        self.what, self.fix = what, fix
        super().__init__(f"{what} ({fix})" if fix else what)


class DataError(A2Error, ValueError):
    """A dataset, cache or input file is missing, incomplete or malformed; the message names it."""


class WeightsError(A2Error, ValueError):
    """A weights file cannot be used: unreadable, of another model, or inconsistent."""


class OutputError(A2Error, OSError):
    """An output path cannot be written (read-only folder, a file where a folder belongs, ...)."""


class ResultsError(A2Error, ValueError):
    """A results JSON is malformed, or holds NaN/inf or a value of the wrong type; names file and key."""
