"""What every command-line entry point shares: one-line errors and no tracebacks for user mistakes.

``raise SystemExit(cli.run(main))`` prints ``error: <what went wrong> (<how to fix it>)`` on stderr
for an :class:`~a2.errors.A2Error`, and exits 2; Ctrl-C exits 130 with one line. Anything else is
a bug in this package and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from a2.errors import A2Error

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str, code: int = EXIT_BAD_INPUT) -> int:
    print(f"error: {message}", file=sys.stderr, flush=True)
    return code


class ArgumentParser(argparse.ArgumentParser):
    """argparse with errors in the same one-line form: ``error: ... (run <prog> --help ...)``."""

    def error(self, message: str):  # type: ignore[override]
        raise SystemExit(fail(f"{message} (run {self.prog} --help for the options)"))


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Call ``main(argv)``; user errors and Ctrl-C become one line on stderr and an exit code."""
    try:
        return main(argv)
    except A2Error as err:
        return fail(str(err))
    except KeyboardInterrupt:
        return fail("interrupted (Ctrl-C); nothing half-written was kept", EXIT_INTERRUPTED)
    except BrokenPipeError:  # e.g. `... | head`: the reader left, which is not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
