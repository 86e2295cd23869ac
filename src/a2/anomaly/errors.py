"""The exceptions of :mod:`a2.anomaly`, in a module that never runs as ``__main__``.

So ``except NABScoreError`` in ``python -m a2.anomaly.cli`` catches the scorer's own class, not a
copy made by running a module as ``__main__``. They derive from :mod:`a2.errors`, so any entry
point that prints ``error: ...`` for an ``A2Error`` handles them too.
"""

from a2.errors import A2Error, DataError


class NABFormatError(DataError):
    """A corpus or label file is malformed; the message names the file and the problem."""


class NABScoreError(DataError):
    """Detector output that NAB would reject; the message names the file and the fix."""


class UsageError(A2Error, ValueError):
    """A command-line argument is invalid; the message says which and how to fix it."""
