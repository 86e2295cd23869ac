"""Command line: ``python -m a2.anomaly.cli score RESULTS_DIR`` | ``detect --out DIR``.

The only module that imports both the detector and the scorer. Every bad input ends in one line
``error: <what> (<how to fix>)`` and exit status 2 (usage) or 1 (data), never a traceback; the
arguments and the output folder are checked before any long computation starts. The exception
classes live in :mod:`a2.anomaly.errors`, never in a module that runs as ``__main__``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from a2.anomaly import detector_config, detector_run, nab_scoring
from a2.anomaly.errors import NABFormatError, NABScoreError, UsageError
from a2.datasets import ChecksumError, DatasetNotFoundError


def parse_thresholds(items: Sequence[str] | None) -> dict[str, float]:
    """``["standard=0.5", ...]`` → ``{"standard": 0.5}``; finite values in [0, 1.1], known profiles only."""
    out = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            t = float(value) if sep else math.nan
        except ValueError:
            t = math.nan
        if not sep or not name:
            raise UsageError(f"--threshold {item!r} is not PROFILE=VALUE (write e.g. standard=0.5)")
        if name not in nab_scoring.PROFILES:
            raise UsageError(f"--threshold {item!r}: unknown profile {name!r} "
                             f"(choose from {', '.join(nab_scoring.PROFILES)})")
        if not (math.isfinite(t) and 0.0 <= t <= nab_scoring.NOTHING_FLAGGED):
            raise UsageError(f"--threshold {item!r}: the value must be a number between 0 and "
                             f"{nab_scoring.NOTHING_FLAGGED} (scores are in [0, 1]; 1.1 flags nothing)")
        out[name] = t
    return out


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` if needed and prove it is writable, before hours of work are spent."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file (give a folder; its name becomes the detector name)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-"):
            pass
    except OSError as err:
        raise UsageError(f"--out {out} is not writable ({err.strerror}; choose a folder you can write to)") from None
    return out


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 1")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number between 0 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m a2.anomaly.cli",
                                     description="NAB v1.1 scoring and the streaming autoencoder detector.")
    sub = parser.add_subparsers(dest="command", required=True)
    score = sub.add_parser("score", help="NAB v1.1 score of a results folder (<category>/<detector>_<name>.csv)")
    score.add_argument("results_dir", metavar="RESULTS_DIR")
    score.add_argument("--threshold", action="append", metavar="PROFILE=VALUE",
                       help="fixed threshold for a profile (repeatable); swept when absent")
    detect = sub.add_parser("detect", help="run the streaming detector on all 58 files and write NAB-format results")
    detect.add_argument("--out", required=True, help="folder for results; its name is the detector name")
    detect.add_argument("--model", default="dense", choices=sorted(detector_config.MODEL_SIZES))
    detect.add_argument("--error-source", default="autoencoder", choices=detector_config.ERROR_SOURCES,
                        help="'first_difference' runs the no-autoencoder reference pipeline")
    gate = detector_config.REPORTED["magnitude_gate"]
    detect.add_argument("--magnitude-gate", type=_fraction, default=gate, metavar="FRACTION",
                        help="alert only if the value is this fraction of the range seen so far away from the median "
                             f"of the previous 288 rows (default {gate}, as reported; 0: off)")
    detect.add_argument("--workers", type=_positive, default=2, help="processes (default 2)")
    detect.add_argument("--seed", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> int:
    if args.command == "score":
        thresholds = parse_thresholds(args.threshold)  # before reading 58 files
        scores, labels = nab_scoring.read_results(args.results_dir)
        print(json.dumps(nab_scoring.nab_score(scores, labels, thresholds=thresholds), indent=2, allow_nan=False))
        return 0
    out = check_output_dir(args.out)
    config = detector_config.DetectorConfig(**{**detector_config.REPORTED, "model": args.model, "seed": args.seed,
                                               "error_source": args.error_source,
                                               "magnitude_gate": args.magnitude_gate or None})
    outputs = detector_run.detect_corpus(config, workers=args.workers)
    written = detector_run.write_nab_csvs(outputs, out)
    print(f"wrote {len(written)} files under {out}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, run, and turn every expected failure into ``error: ...`` on stderr."""
    args = build_parser().parse_args(argv)  # argparse prints its own usage error and exits 2
    try:
        return run(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (NABScoreError, NABFormatError, ChecksumError, DatasetNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"error: {err.filename or ''} {err.strerror or err} (check the path and its permissions)".strip(),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
