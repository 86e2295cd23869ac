"""The inputs of ``assignment2_report.pdf`` and whether the committed PDF was built from them.

The inputs are the TeX sources, the generated macros (``report/results.tex``), ``results/*.json`` and
the figures ``report.tex`` places. :func:`input_hashes` hashes each; the build stores their combined
hash in the PDF keywords and in ``report/report.lock.json`` (:func:`a2.report.write_lock`), so
:func:`stale_inputs` can name every input that changed after the PDF was built.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path

from a2.runtime import REPO_ROOT

REPORT_DIR = REPO_ROOT / "report"
RESULTS_DIR = REPO_ROOT / "results"
MACROS = REPORT_DIR / "results.tex"
LOCK = REPORT_DIR / "report.lock.json"
PDF = REPO_ROOT / "assignment2_report.pdf"
TEX = REPORT_DIR / "report.tex"
# TeX inputs of the report besides the generated macros and the figures (all hashed by the lock).
SOURCES = ("report.tex", "a2report.sty", "theory_defs.tex", "theory_part1.tex", "theory_part3.tex", "references.bib")


def figure_names(tex: str | None = None) -> list[str]:
    """Every figure ``report.tex`` places with ``\\reportgraphic{<name>}{...}``, in order."""
    tex = TEX.read_text() if tex is None else tex
    tex = re.sub(r"(?<!\\)%.*", "", tex)  # ignore commented-out lines
    return list(dict.fromkeys(re.findall(r"\\reportgraphic\{([^}]+)\}", tex)))


def optional_figure_names(tex: str | None = None) -> list[str]:
    """Figures ``report.tex`` shows only when a notebook saved them (``\\optionalfigure{<name>}...``)."""
    tex = re.sub(r"(?<!\\)%.*", "", TEX.read_text() if tex is None else tex)
    return list(dict.fromkeys(re.findall(r"\\optionalfigure\{([^}]+)\}", tex)))


def figure_path(name: str) -> Path:
    return REPORT_DIR / "figures" / f"{name}.pdf"


def missing_figures() -> list[str]:
    return [n for n in figure_names() if not figure_path(n).is_file()]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"


def input_hashes() -> dict[str, str]:
    """sha256 of every input of the report PDF, keyed by path relative to the repository."""
    paths = [REPORT_DIR / s for s in SOURCES] + [MACROS] + sorted(RESULTS_DIR.glob("*.json"))
    paths += [figure_path(n) for n in dict.fromkeys([*figure_names(), *optional_figure_names()])]
    return {p.relative_to(REPO_ROOT).as_posix(): _sha(p) for p in paths}


def combined_hash(hashes: Mapping[str, str]) -> str:
    text = "".join(f"{path}\t{digest}\n" for path, digest in sorted(hashes.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def pdf_hash(pdf: Path = PDF) -> str | None:
    """The ``sha256:<hex>`` the build stored in the PDF keywords (None if absent)."""
    from pypdf import PdfReader  # only the staleness check needs it

    meta = PdfReader(str(pdf)).metadata or {}
    match = re.search(r"sha256:([0-9a-f]{64})", str(meta.get("/Keywords", "")))
    return match.group(1) if match else None


def stale_inputs() -> list[str]:
    """Why the committed PDF does not match its inputs (empty when it is current)."""
    if not PDF.is_file():
        return [f"{PDF.name} is missing"]
    if not LOCK.is_file():
        return [f"{LOCK.relative_to(REPO_ROOT)} is missing"]
    lock = json.loads(LOCK.read_text())
    current = input_hashes()
    problems = []
    if pdf_hash() != lock.get("sha256"):
        problems.append(f"{PDF.name} was not built together with {LOCK.name}")
    old = lock.get("inputs", {})
    for path in sorted(set(current) | set(old)):
        if current.get(path) != old.get(path):
            problems.append(f"{path} changed since the build" if path in old and path in current
                            else f"{path} {'added' if path in current else 'removed'} since the build")
    if not problems and combined_hash(current) != lock.get("sha256"):
        problems.append("the combined input hash differs from the lock")
    return problems
