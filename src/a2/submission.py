"""The assignment's submission bundle: ``make submission UBIT=name1_name2`` (``python -m a2.submission``).

The assignment asks for one ``<UBIT>_assignment2.zip`` holding the report, the two part notebooks and a
bonus zip under names that start with the team's UBIT names, plus the weights and the dataset link, and no
dataset. Beside those named copies the zip holds the repository itself (minus datasets, build outputs,
caches and virtual environments), so a grader can rerun everything with ``make run``.
"""

from __future__ import annotations

import argparse
import fnmatch
import re
import subprocess
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from a2 import cli, io
from a2.errors import A2Error, DataError

ROOT = Path(__file__).resolve().parents[2]

# Deliverable -> where it comes from in the repository; "{u}" is the UBIT.
NAMED: dict[str, str] = {
    "{u}_assignment2_report.pdf": "assignment2_report.pdf",
    "{u}_part_2.ipynb": "part_2_autoencoder.ipynb",
    "{u}_part_4.ipynb": "part_4_transformer.ipynb",
}
OPTIONAL_NAMED: dict[str, str] = {"{u}_part_4_pretrain.ipynb": "part_4_pretrain.ipynb"}
BONUS_FILES = ("bonus/*.ipynb", "weights/bonus/*")
REQUIRED = ("part1_part3_theory.pdf", "dataset_assignment2_part4.txt", "weights/part_2_autoencoder.pt",
            "weights/part_4_transformer.pt", "README.md", "main.py", "Makefile", "requirements.txt")

# Never in the bundle: datasets, build outputs, caches, environments, version control.
EXCLUDED_DIRS = {".git", ".venv", "venv", "data", "build", "__pycache__", ".pytest_cache", ".ruff_cache",
                 ".ipynb_checkpoints", ".mypy_cache"}
EXCLUDED_PATHS = ("report/exports/*", "report/build/*", "*.egg-info/*", "*.pyc", "*.part")
# Names of the datasets and their archives: a path matching one of these is refused, whatever folder holds it.
DATASET_PATTERNS = ("aclImdb*", "*.tar.gz", "cnn_dataset*", "nltk_data*", "*/nab/data/*", "*.jpg", "*.jpeg")

_UBIT = re.compile(r"[a-z][a-z0-9]*(_[a-z][a-z0-9]*){0,3}")
_PLACEHOLDER = re.compile(r"(ubit|ubitname|name|user|username|your\w*|student|team|member|x+|todo|changeme)\d*")


def check_ubit(ubit: str | None) -> str:
    """The team's UBIT names joined by ``_``; a missing, malformed or placeholder value is a one-line error."""
    fix = "run make submission UBIT=<ubit1>_<ubit2> with your team's UBIT names, e.g. UBIT=jsmith_akumar"
    if not ubit:
        raise A2Error("no UBIT given", fix)
    if any(_PLACEHOLDER.fullmatch(part) for part in ubit.lower().split("_")):
        raise A2Error(f"UBIT={ubit!r} is a placeholder, not your UBIT names", fix)
    if not _UBIT.fullmatch(ubit):
        raise A2Error(f"UBIT={ubit!r} is not lower-case UBIT names joined by '_'", fix)
    return ubit


def _excluded(rel: str) -> bool:
    parts = rel.split("/")
    if any(p in EXCLUDED_DIRS for p in parts[:-1]):
        return True
    return any(fnmatch.fnmatch(rel, pat) for pat in EXCLUDED_PATHS)


def is_dataset(rel: str) -> bool:
    """Whether ``rel`` (a path inside the bundle) looks like a dataset or a dataset archive."""
    return rel.split("/")[0] == "data" or any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(Path(rel).name, pat)
                                              for pat in DATASET_PATTERNS)


def repository_files(root: Path = ROOT) -> list[str]:
    """Every file of the repository a rerun needs: git's tracked and untracked-but-not-ignored files (or, outside
    a git checkout, a walk of the tree), minus datasets, build outputs and caches."""
    try:
        out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root,
                             capture_output=True, check=True).stdout.decode()
        candidates: Iterable[str] = out.split("\0")
    except (OSError, subprocess.CalledProcessError):
        candidates = (p.relative_to(root).as_posix() for p in root.rglob("*"))
    return sorted(rel for rel in set(candidates)
                  if rel and (root / rel).is_file() and not _excluded(rel) and not is_dataset(rel))


def _check_inputs(root: Path) -> None:
    missing = [rel for rel in (*NAMED.values(), *REQUIRED) if not (root / rel).is_file()]
    if missing:
        raise DataError(f"cannot build the submission: {', '.join(missing)} missing",
                        "run make run (notebooks, weights), make report and make pdf first, or git checkout them")


def _bonus_zip(root: Path, target: Path) -> list[str]:
    names = sorted({p.relative_to(root).as_posix() for pat in BONUS_FILES for p in root.glob(pat) if p.is_file()})
    if not any(n.endswith(".ipynb") for n in names):
        raise DataError("cannot build the bonus zip: no notebook under bonus/", "git checkout -- bonus")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in names:
            zf.write(root / rel, rel)
    return names


def build(ubit: str, root: Path = ROOT, out_dir: Path | None = None) -> Path:
    """Write ``<out_dir>/<UBIT>_assignment2.zip`` (default ``build/``) atomically and return its path."""
    ubit = check_ubit(ubit)
    _check_inputs(root)
    out_dir = root / "build" if out_dir is None else out_dir
    io.ensure_dir(out_dir)
    target = out_dir / f"{ubit}_assignment2.zip"
    bonus_tmp = out_dir / f".{ubit}_bonus.zip.part"
    try:
        _bonus_zip(root, bonus_tmp)
        named = {k.format(u=ubit): v for k, v in (NAMED | OPTIONAL_NAMED).items() if (root / v).is_file()}

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
                for name, rel in named.items():
                    zf.write(root / rel, name)
                zf.write(bonus_tmp, f"{ubit}_bonus.zip")
                for rel in repository_files(root):
                    zf.write(root / rel, rel)

        io.atomic_write(target, write)
    finally:
        bonus_tmp.unlink(missing_ok=True)
    return target


def contents(path: Path) -> list[str]:
    """The names inside a zip (for the closing summary and the tests)."""
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python -m a2.submission", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ubit", nargs="?", default="", help="the team's UBIT names joined by '_' (name1_name2)")
    parser.add_argument("--out", type=Path, help="folder for the zip (default build/)")
    args = parser.parse_args(argv)
    target = build(args.ubit, out_dir=args.out)
    names = contents(target)
    size = target.stat().st_size / 1e6
    print(f"wrote {target} ({len(names)} files, {size:.1f} MB)")
    for name in names:
        if "/" not in name:
            print(f"  {name}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m a2.submission UBIT``; one-line error (exit 2) for a missing or placeholder UBIT."""
    return cli.run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
