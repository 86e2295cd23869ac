"""Regenerate every result and plot: ``python main.py [--fast] [--only part2 ...]``.

Executes the notebooks top to bottom with papermill, each into a scratch copy under ``build/run/``;
a notebook is replaced only when its run succeeds, so a failure or Ctrl-C leaves it byte-identical.
A full run replaces the committed notebooks and refreshes the README's results table; ``--fast``
(or ``A2_OUTPUT_DIR``) writes notebooks, results, weights and figures under ``build/fast/`` (or that
folder) instead. At the end it prints the headline results table, where every file was written, and
the wall time of each notebook.

Other entry points:
  python main.py --table              print the results table (markdown) from results/*.json
  python main.py --update-readme      rewrite the README table from results/*.json
  python main.py --export-html DIR    export every executed notebook to HTML
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))  # works before `pip install -e .` too

from a2 import cli, datasets, gallery, io, runtimes  # noqa: E402
from a2.errors import A2Error, DataError  # noqa: E402
from a2.results import load_all_results  # noqa: E402
from a2.results_table import results_table  # noqa: E402

# Canonical order: later notebooks may reuse what earlier ones wrote (e.g. shared baselines).
NOTEBOOKS: dict[str, str] = {
    "part2": "part_2_autoencoder.ipynb",
    "nab": "nab_benchmark.ipynb",
    "part4": "part_4_transformer.ipynb",
    "vit": "bonus/vit.ipynb",
    "efficientnet": "bonus/efficientnet.ipynb",
}
# Checked (and downloaded if missing) before the first notebook starts, so that a missing dataset
# fails in a second rather than after an hour of training.
DATASETS: dict[str, tuple[str, ...]] = {
    "part2": ("nab",), "nab": ("nab",), "part4": ("imdb", "nltk_data"),
    "vit": ("cnn_dataset",), "efficientnet": ("cnn_dataset",),
}
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
SCRATCH = ROOT / "build" / "run"
# Kernel log lines (e.g. "Kernel is running over TCP without encryption", about the local socket
# papermill opens) mean nothing to a user; errors still show. Notebook warnings land in the notebook.
KERNEL_ARGS = ["--IPKernelApp.log_level=ERROR"]


class _DropParameterParseWarnings(logging.Filter):
    """papermill warns "Unable to parse line ... 'VGG = dict(...)'" for every parameter that is not a
    literal; those parameters work as written, so the warning is noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Unable to parse line")


logging.getLogger("papermill.translators").addFilter(_DropParameterParseWarnings())


def discover() -> dict[str, Path]:
    """Known notebooks that exist, in canonical order, then any other notebook in the repo."""
    found = {key: ROOT / rel for key, rel in NOTEBOOKS.items() if (ROOT / rel).is_file()}
    known = set(found.values())
    for path in sorted([*ROOT.glob("*.ipynb"), *ROOT.glob("bonus/*.ipynb")]):
        if path not in known:
            found[path.stem] = path
    return found


def select(notebooks: dict[str, Path], only: list[str] | None) -> dict[str, Path]:
    if not only:
        return notebooks
    aliases = {**{k: k for k in notebooks}, **{p.stem: k for k, p in notebooks.items()}}
    unknown = [name for name in only if name not in aliases]
    if unknown:
        raise A2Error(f"unknown notebook(s) {', '.join(unknown)}", f"choose from {', '.join(notebooks)}")
    return {aliases[n]: notebooks[aliases[n]] for n in only}


def output_root(fast: bool) -> Path:
    """Where notebooks write results/, weights/ and report/figures/: ``$A2_OUTPUT_DIR``, else build/fast or the repo."""
    env = os.environ.get("A2_OUTPUT_DIR")
    if env:
        root = Path(env).expanduser().resolve()  # absolute: the kernels run in each notebook's own folder
        if root.exists() and not root.is_dir():
            raise A2Error(f"A2_OUTPUT_DIR={env} is a file, not a folder", "point it at a folder, or unset it")
        return root
    return ROOT / "build" / "fast" if fast else ROOT


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def destination(path: Path, root: Path) -> Path:
    """The executed notebook's place: the notebook itself for a run into the repo, else ``<root>/<rel>``."""
    return path if root == ROOT else root / path.relative_to(ROOT)


def read_notebook(path: Path) -> Any:
    """The notebook as an nbformat node; :class:`DataError` naming it if it is not a valid notebook."""
    import nbformat  # heavy (jupyter); only needed for running or exporting

    try:
        return nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.ValidationError) as err:  # NotJSONError is a ValueError
        raise DataError(f"cannot read notebook {_rel(path)}: {str(err).splitlines()[0][:200]}",
                        f"restore it with git checkout -- {_rel(path)}") from None


def preflight(notebooks: Mapping[str, Path], root: Path) -> None:
    """Everything that can be checked in seconds, before hours of work: notebooks, kernel, folders, datasets."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    for path in notebooks.values():
        read_notebook(path)
    try:
        KernelSpecManager().get_kernel_spec("python3")
    except NoSuchKernel:
        raise A2Error("the Jupyter kernel 'python3' is not installed",
                      "pip install -r requirements.txt (make install does it), which brings ipykernel") from None
    for folder in (root / "results", root / "weights", root / "report" / "figures", SCRATCH,
                   *{destination(p, root).parent for p in notebooks.values()}):
        io.check_writable(folder)
    for key in notebooks:
        for name in DATASETS.get(key, ()):
            datasets.locate(name)


def kernel_env(root: Path) -> dict[str, str]:
    """What the kernels need: the output folder, plain progress lines, and *this* checkout's ``src``
    first on the path (else a kernel imports whichever ``a2`` is installed, maybe another checkout's)."""
    path = os.environ.get("PYTHONPATH", "")
    return {"A2_OUTPUT_DIR": str(root), "A2_PROGRESS": "plain",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), path) if p)}


class NotebookFailed(A2Error):
    """A notebook raised; the message carries the error of the cell and where its traceback is."""


def _run_one(pm: Any, path: Path, scratch: Path, fast: bool) -> None:
    """papermill into ``scratch``; a failing cell becomes :class:`NotebookFailed`, a Ctrl-C stays one."""
    rel = path.relative_to(ROOT)
    try:
        pm.execute_notebook(str(path), str(scratch), parameters={"FAST": fast}, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=sys.stderr.isatty(), extra_arguments=KERNEL_ARGS)
    except pm.PapermillExecutionError as err:
        if err.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel (same process group) first
            raise KeyboardInterrupt from None
        evalue = " ".join(str(err.evalue).split())[:400]
        raise NotebookFailed(f"{rel} failed in cell {err.exec_count}: {err.ename}: {evalue}",
                             f"{rel} is unchanged; the executed copy with the full traceback is "
                             f"{_rel(scratch)}") from None


def execute(notebooks: Mapping[str, Path], fast: bool, root: Path) -> dict[str, float]:
    """Run each notebook into ``build/run/`` and replace its destination only on success; wall times."""
    import papermill as pm  # heavy (jupyter); only needed when notebooks actually run

    os.environ.update(kernel_env(root))  # inherited by every kernel
    timings = {}
    for i, (key, path) in enumerate(notebooks.items(), 1):
        rel = path.relative_to(ROOT)
        target, scratch = destination(path, root), SCRATCH / rel
        scratch.parent.mkdir(parents=True, exist_ok=True)
        print(f"[{i}/{len(notebooks)}] {rel} (FAST={fast}) -> {_rel(target)}", flush=True)
        start = time.perf_counter()
        try:
            _run_one(pm, path, scratch, fast)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {rel} is unchanged; the partial run is in {_rel(scratch)}", file=sys.stderr)
            raise
        io.atomic_write(target, lambda tmp, src=scratch: shutil.copyfile(src, tmp))
        scratch.unlink()
        timings[key] = time.perf_counter() - start
        print(f"    done in {timings[key]:.0f} s", flush=True)
    return timings


# ---------------------------------------------------------------------------------------------
# results/*.json -> table
# ---------------------------------------------------------------------------------------------


def table(folder: Path) -> str:
    """The README table from ``folder``'s results; a broken file or value is a one-line ResultsError."""
    return results_table(load_all_results(folder))


def update_readme(text_table: str, readme: Path = ROOT / "README.md") -> bool:
    """Replace the block between the README's result markers with ``text_table`` (atomically); True if changed."""
    try:
        text = readme.read_text(encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot read {readme}: {err.strerror}", "restore it with git checkout -- README.md") from None
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise DataError(f"{readme} lacks the {README_START} ... {README_END} markers",
                        "put them back around the results table (see git diff README.md)")
    new = pattern.sub(lambda _: f"{README_START}\n{text_table}\n{README_END}", text)
    if new != text:
        io.write_text(readme, new)
    return new != text


def export_html(notebooks: Mapping[str, Path], folder: Path) -> None:
    from nbconvert import HTMLExporter  # heavy; only needed for the export

    io.check_writable(folder)
    exporter = HTMLExporter()
    for path in notebooks.values():
        body, _ = exporter.from_notebook_node(read_notebook(path))
        target = folder / (path.relative_to(ROOT).as_posix().replace("/", "__").removesuffix(".ipynb") + ".html")
        io.write_text(target, body)
        print(f"exported {_rel(target)}")


def written_since(root: Path, start: float) -> dict[str, list[Path]]:
    """Results, weights and figures under ``root`` modified since ``start`` (what this run wrote)."""
    kinds = {"results": root / "results", "weights": root / "weights", "figures": root / "report" / "figures"}
    return {kind: sorted(p for p in folder.rglob("*") if p.is_file() and p.stat().st_mtime >= start)
            for kind, folder in kinds.items() if folder.is_dir()}


def summary(root: Path, notebooks: Mapping[str, Path], timings: Mapping[str, float], start: float) -> str:
    lines = [f"Results ({_rel(root / 'results')}):", "", table(root / "results"), "", "Written by this run:"]
    for key, path in notebooks.items():
        lines.append(f"  notebook  {_rel(destination(path, root))}  ({timings[key]:.0f} s)")
    for kind, paths in written_since(root, start).items():
        lines += [f"  {kind:<8}  {_rel(p)}" for p in paths]
    total = sum(timings.values())
    lines.append(f"Wall time: {total:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ")")
    return "\n".join(lines)


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python main.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="small slice, outputs under build/fast/")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"subset of {list(NOTEBOOKS)}")
    parser.add_argument("--table", action="store_true", help="print the results table and exit")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README table and exit")
    parser.add_argument("--export-html", type=Path, metavar="DIR", help="export notebooks to HTML and exit")
    args = parser.parse_args(argv)

    notebooks = select(discover(), args.only)
    if args.table:
        print(table(ROOT / "results"))
        return 0
    if args.update_readme:
        print("README updated" if update_readme(table(ROOT / "results")) | runtimes.refresh_readme(ROOT)
              else "README already up to date")
        return 0
    if args.export_html:
        export_html(notebooks, args.export_html)
        return 0

    root = output_root(args.fast)
    preflight(notebooks, root)
    start = time.time() - 1  # file systems with 1 s mtime resolution
    timings = execute(notebooks, args.fast, root)
    banner = f"\n*** {gallery.FAST_BANNER} ***\n" if args.fast else ""
    print(banner + "\n" + summary(root, notebooks, timings, start) + banner)
    page = gallery.write_page(root, root / "build" / "gallery" if root == ROOT else root / "gallery", fast=args.fast)
    print(f"Every table and figure on one page: {_rel(page)}")
    if root == ROOT:
        changed = update_readme(table(ROOT / "results")) | runtimes.refresh_readme(ROOT)
        print("README tables " + ("updated" if changed else "already up to date"))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python main.py ...``; returns the exit code (2 with a one-line ``error:`` for bad input)."""
    return cli.run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
