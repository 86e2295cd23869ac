"""The exceptions of :mod:`a2.anomaly`, in a module that never runs as ``__main__``.

So ``except NABScoreError`` in the command line catches the scorer's own class whether the
command runs as ``python -m a2.anomaly.cli`` or ``python -m a2.anomaly.nab``.
"""


class NABFormatError(ValueError):
    """A corpus or label file is malformed; the message names the file and the problem."""


class NABScoreError(ValueError):
    """Detector output that NAB would reject; the message names the file and the fix."""


class UsageError(ValueError):
    """A command-line argument is invalid; the message says which and how to fix it."""
