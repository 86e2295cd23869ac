"""``python -m a2.anomaly.nab ...``: the former name of :mod:`a2.anomaly.cli`, kept so old commands work.

Nothing is defined here; the exception classes live in :mod:`a2.anomaly.corpus` and
:mod:`a2.anomaly.nab_scoring`, so they are the same classes whichever module runs as ``__main__``.
"""

from a2.anomaly.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
