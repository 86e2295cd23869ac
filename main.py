"""Regenerate every result and plot: ``python main.py [--fast] [--only part2 ...]``.

A run is atomic. The notebooks execute top to bottom with papermill into a staging folder of their
own (``build/run/<run>/``, also their ``A2_OUTPUT_DIR``), seeded with the current results and weights
so that a notebook may reuse what is stored. Only when every notebook succeeded are the executed
notebooks, results, weights, report figures and the README table moved into place, together and with
Ctrl-C deferred for those seconds; a failure or Ctrl-C replaces nothing and says where the staging
folder is. A second run into the same folder at the same time is refused.

A full run replaces the committed notebooks and refreshes the README's results table; ``--fast``
(or ``A2_OUTPUT_DIR``) puts notebooks, results, weights and figures under ``build/fast/`` (or that
folder) instead. At the end it prints the headline results table, where every file was written, and
the wall time of each notebook.

Other entry points:
  python main.py --table              print the results table (markdown) from results/*.json
  python main.py --update-readme      rewrite the README table from results/*.json
  python main.py --export-html DIR    export every executed notebook to HTML
  python main.py --only part4 -p SEEDS_FULL=True   a notebook parameter (papermill's -p), repeatable
  python main.py --only pretrain      the optional encoder pretraining for Part IV (up to 45 min; its
                                      committed weights are used otherwise)
The table needs every results file the README shows; ``--partial`` leaves out the rows of a missing one.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import errno
import hashlib
import logging
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; each run still has its own staging folder
    fcntl = None  # type: ignore[assignment]



def _interrupted_while_starting(signum: int, frame: Any) -> None:
    print("error: interrupted (Ctrl-C) while starting; nothing was written", file=sys.stderr, flush=True)
    raise SystemExit(130)


if __name__ == "__main__":  # a Ctrl-C while torch and jupyter load is one line too, not an import traceback
    signal.signal(signal.SIGINT, _interrupted_while_starting)

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))  # works before `pip install -e .` too

from a2 import cli, datasets, gallery, io, reproducibility, runtimes  # noqa: E402
from a2.errors import A2Error, DataError, OutputError, ResultsError  # noqa: E402
from a2.results import load_all_results  # noqa: E402
from a2.results_table import TABLE_ROWS, results_table, table_lines  # noqa: E402

# Canonical order: later notebooks may reuse what earlier ones wrote (e.g. shared baselines).
NOTEBOOKS: dict[str, str] = {
    "part2": "part_2_autoencoder.ipynb",
    "nab": "nab_benchmark.ipynb",
    "pretrain": "part_4_pretrain.ipynb",
    "part4": "part_4_transformer.ipynb",
    "vit": "bonus/vit.ipynb",
    "efficientnet": "bonus/efficientnet.ipynb",
}
# Run only when named with --only (each has its own budget; a default run uses their committed weights):
# the notebooks a2.runtimes lists as on request, which is also what keeps them out of make run's total.
ON_REQUEST: frozenset[str] = frozenset(k for k, rel in NOTEBOOKS.items() if rel in runtimes.ON_REQUEST)
# Checked (and downloaded if missing) before the first notebook starts, so that a missing dataset
# fails in a second rather than after an hour of training.
DATASETS: dict[str, tuple[str, ...]] = {
    "part2": ("nab",), "nab": ("nab",), "pretrain": ("imdb", "nltk_data"), "part4": ("imdb", "nltk_data"),
    "vit": ("cnn_dataset",), "efficientnet": ("cnn_dataset",),
}
# The results file each notebook writes (the README table reads them all).
RESULTS: dict[str, str] = {"part2": "part_2", "nab": "nab", "pretrain": "part_4_pretrain", "part4": "part_4",
                           "vit": "bonus", "efficientnet": "bonus"}
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"
SCRATCH = ROOT / "build" / "run"  # one staging folder per run, and the lock files
# What a run writes under its output folder (besides the executed notebooks).
OUTPUTS = ("results", "weights", "report/figures")
SEEDED = ("results", "weights")  # copied into the staging folder first: notebooks may read them
# Kernel log lines (e.g. "Kernel is running over TCP without encryption", about the local socket
# papermill opens, or a 20-line ZMQ traceback when Ctrl-C closes its sockets mid-reply) mean nothing to a
# user. A cell's error still reaches main.py through papermill; notebook warnings land in the notebook.
KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]


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
    """The notebooks named by ``--only``; without it, every notebook except the ON_REQUEST ones."""
    if not only:
        return {k: p for k, p in notebooks.items() if k not in ON_REQUEST}
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


def preflight(notebooks: Mapping[str, Path], root: Path, partial: bool = False) -> None:
    """Everything that can be checked in seconds, before hours of work: notebooks, kernel, folders, datasets,
    and (for a run that refreshes the README) the results files this run does not rewrite."""
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
    if root == ROOT:
        check_kept_results(root / "results", {RESULTS[k] for k in notebooks if k in RESULTS}, partial)
    for key in notebooks:
        for name in DATASETS.get(key, ()):
            datasets.locate(name)


def check_kept_results(folder: Path, rewritten: set[str], partial: bool) -> None:
    """The README table will also read the results files this run does not rewrite: each must exist (unless
    ``partial``) and be well formed, or the run is refused now rather than after hours of work."""
    kept = {stem: payload for stem, payload in load_all_results(folder).items() if stem not in rewritten}
    table_lines(kept, partial=True)  # a malformed or out-of-range value: ResultsError naming file and key
    missing = sorted({row.stem for row in TABLE_ROWS} - rewritten - set(kept))
    if missing and not partial:
        writers = sorted({k for k, stem in RESULTS.items() if stem in missing})
        names = ", ".join(_rel(folder / f"{stem}.json") for stem in missing)
        raise ResultsError(f"{names} {'is' if len(missing) == 1 else 'are'} missing and this run does not write "
                           f"{'it' if len(missing) == 1 else 'them'}, so the README table would lose rows",
                           f"add {' '.join(writers)} to --only, or pass --partial")


def kernel_env(root: Path) -> dict[str, str]:
    """What the kernels need: the output folder, plain progress lines, and *this* checkout's ``src``
    first on the path (else a kernel imports whichever ``a2`` is installed, maybe another checkout's)."""
    path = os.environ.get("PYTHONPATH", "")
    return {"A2_OUTPUT_DIR": str(root), "A2_PROGRESS": "plain",
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "src"), path) if p)}


class NotebookFailed(A2Error):
    """A notebook raised; the message carries the error of the cell and where its traceback is."""


def _run_one(pm: Any, path: Path, scratch: Path, fast: bool, params: Mapping[str, Any] | None = None) -> None:
    """papermill into ``scratch``; a failing cell or dead kernel becomes :class:`NotebookFailed`, a Ctrl-C stays one."""
    from nbclient.exceptions import DeadKernelError  # heavy (jupyter), like papermill

    rel = path.relative_to(ROOT)
    try:
        pm.execute_notebook(str(path), str(scratch), parameters={"FAST": fast, **(params or {})}, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=sys.stderr.isatty(), extra_arguments=KERNEL_ARGS)
    except DeadKernelError as err:
        raise NotebookFailed(f"the kernel running {rel} died ({' '.join(str(err).split())[:200]})",
                             f"nothing was replaced; out of memory is the usual cause: close other programs, or "
                             f"use --fast; the partial run is {_rel(scratch)}") from None
    except pm.PapermillExecutionError as err:
        if err.ename == "KeyboardInterrupt":  # Ctrl-C reached the kernel (same process group) first
            raise KeyboardInterrupt from None
        evalue = " ".join(str(err.evalue).split())[:400]
        raise NotebookFailed(f"{rel} failed in cell {err.exec_count}: {err.ename}: {evalue}",
                             f"nothing was replaced; the executed copy with the full traceback is "
                             f"{_rel(scratch)}") from None


def parse_params(pairs: Sequence[str]) -> dict[str, Any]:
    """``["SEEDS_FULL=True", "EPOCHS=4"]`` -> ``{"SEEDS_FULL": True, "EPOCHS": 4}`` (Python literals)."""
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name.isidentifier():
            raise A2Error(f"-p {pair!r} is not NAME=VALUE", "write it as -p SEEDS_FULL=True")
        try:
            params[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            raise A2Error(f"-p {pair!r}: {text!r} is not a Python literal",
                          "use True/False, a number or a quoted string, e.g. -p PRECISION='fp32'") from None
    if "FAST" in params:
        raise A2Error("-p FAST=... is not a parameter here", "use --fast")
    return params


def _key(root: Path) -> str:
    """Names this output folder's lock and staging folders under ``build/run/``."""
    return hashlib.sha256(str(root).encode()).hexdigest()[:12]


@contextlib.contextmanager
def exclusive(root: Path) -> Iterator[None]:
    """Refuse a second run into the same output folder while this one runs (the lock dies with the process)."""
    io.ensure_dir(SCRATCH)
    lock_path = SCRATCH / f"{_key(root)}.lock"
    with open(lock_path, "a+", encoding="utf-8") as lock:
        if fcntl is not None:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                lock.seek(0)
                holder = lock.read().strip() or "?"
                raise A2Error(f"another python main.py run (pid {holder}) is writing to {_rel(root)}",
                              "wait for it to finish, or give this run its own A2_OUTPUT_DIR") from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        yield


def _snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}


def new_staging(root: Path) -> tuple[Path, dict[Path, tuple[int, int]]]:
    """A fresh staging folder under ``build/run/`` holding copies of ``root``'s results and weights, and its
    snapshot (so that what the run wrote can be told from what was seeded).

    Called under :func:`exclusive`. The staging folders of earlier failed or interrupted runs are kept: one
    may hold a whole run that only its final check refused, which the user can still inspect or move into
    place by hand (``make clean`` removes them).
    """
    staging = Path(tempfile.mkdtemp(prefix=f"{_key(root)}-{time.strftime('%Y%m%d-%H%M%S')}-",
                                    dir=io.ensure_dir(SCRATCH)))
    for sub in SEEDED:
        if (root / sub).is_dir():
            shutil.copytree(root / sub, staging / sub, ignore=shutil.ignore_patterns(".*"))
    return staging, _snapshot(staging)


def execute(notebooks: Mapping[str, Path], fast: bool, staging: Path,
            params: Mapping[str, Any] | None = None) -> dict[str, float]:
    """Run each notebook into ``staging`` (also the kernels' output folder); wall times. Nothing outside
    ``staging`` changes: :func:`commit` moves the outputs into place once every notebook succeeded."""
    import papermill as pm  # heavy (jupyter); only needed when notebooks actually run

    os.environ.update(kernel_env(staging))  # inherited by every kernel
    timings = {}
    for i, (key, path) in enumerate(notebooks.items(), 1):
        rel = path.relative_to(ROOT)
        scratch = staging / rel
        scratch.parent.mkdir(parents=True, exist_ok=True)
        shown = "".join(f", {k}={v!r}" for k, v in (params or {}).items())
        print(f"[{i}/{len(notebooks)}] {rel} (FAST={fast}{shown})", flush=True)
        start = time.perf_counter()
        _run_one(pm, path, scratch, fast, params)
        timings[key] = time.perf_counter() - start
        print(f"    done in {timings[key]:.0f} s", flush=True)
    return timings


def outputs(notebooks: Mapping[str, Path], staging: Path, seeded: Mapping[Path, tuple[int, int]],
            root: Path) -> dict[Path, Path]:
    """``{staged file: its destination}``: the executed notebooks, and every result, weight and figure the run
    created or changed."""
    moves = {staging / p.relative_to(ROOT): destination(p, root) for p in notebooks.values()}
    for sub in OUTPUTS:
        for path, stat in _snapshot(staging / sub).items() if (staging / sub).is_dir() else ():
            if seeded.get(path) != stat and not path.name.startswith("."):
                moves[path] = root / path.relative_to(staging)
    return moves


def published_paths(notebook: Path, staging: Path, root: Path) -> None:
    """Printed paths in the executed notebook name where the outputs end up (``root``), not the staging
    folder that is deleted after the commit (e.g. "wrote results/part_2.json", ``outputs=`` of the runtime)."""
    text = notebook.read_text(encoding="utf-8")
    if str(staging) in text:
        notebook.write_text(text.replace(str(staging), str(root)), encoding="utf-8")


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold a Ctrl-C until the block is done (then raise it), so that a commit is never half done."""
    caught: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    except ValueError:  # not the main thread: signals cannot reach this block anyway
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _stage_beside(source: Path, target: Path) -> Path:
    """``source`` moved (or copied) to a temporary file beside ``target``, with ``target``'s mode if it exists."""
    io.ensure_dir(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        os.replace(source, tmp)
    except OSError:  # another file system: copy instead
        shutil.copyfile(source, tmp)
    io.keep_mode(Path(tmp), target)
    return Path(tmp)


def commit(moves: Mapping[Path, Path], readme_table: str | None = None) -> None:
    """Move every staged output into place (and refresh the README), with Ctrl-C held until it is done.

    Everything is first put beside its destination (the slow part, for copies across file systems), then
    renamed over it: the outputs of two runs are never mixed, and a failure before the renames changes
    nothing.
    """
    with _ctrl_c_deferred():
        ready: list[tuple[Path, Path]] = []
        try:
            for source, target in moves.items():
                ready.append((_stage_beside(source, target), target))
        except OSError as err:
            for tmp, _ in ready:
                tmp.unlink(missing_ok=True)
            raise OutputError(f"cannot move the run's outputs into place: {err}",
                              "free space or fix permissions; nothing was replaced") from None
        for tmp, target in ready:
            os.replace(tmp, target)
        if readme_table is not None:
            update_readme(readme_table)


# ---------------------------------------------------------------------------------------------
# results/*.json -> table
# ---------------------------------------------------------------------------------------------


def table(folder: Path, partial: bool = False) -> str:
    """The README table from ``folder``'s results; a broken file or value, or (unless ``partial``) a missing
    one, is a one-line ResultsError naming it."""
    return results_table(load_all_results(folder), partial)


def update_readme(text_table: str, readme: Path | None = None) -> bool:
    """Replace the block between the README's result markers with ``text_table`` (atomically); True if changed."""
    return io.replace_marked_block(ROOT / "README.md" if readme is None else readme, README_START, README_END,
                                   text_table, "results table")


def export_html(notebooks: Mapping[str, Path], folder: Path) -> None:
    from nbconvert import HTMLExporter  # heavy; only needed for the export

    io.check_writable(folder)
    exporter = HTMLExporter()
    for path in notebooks.values():
        body, _ = exporter.from_notebook_node(read_notebook(path))
        target = folder / (path.relative_to(ROOT).as_posix().replace("/", "__").removesuffix(".ipynb") + ".html")
        io.write_text(target, body)
        print(f"exported {_rel(target)}")


def summary(root: Path, notebooks: Mapping[str, Path], timings: Mapping[str, float], moved: Sequence[Path],
            text_table: str) -> str:
    lines = [f"Results ({_rel(root / 'results')}):", "", text_table, "", "Written by this run:"]
    for key, path in notebooks.items():
        lines.append(f"  notebook  {_rel(destination(path, root))}  ({timings[key]:.0f} s)")
    for kind in OUTPUTS:
        lines += [f"  {kind.split('/')[-1]:<8}  {_rel(p)}" for p in sorted(moved) if p.is_relative_to(root / kind)]
    total = sum(timings.values())
    lines.append(f"Wall time: {total:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()) + ")")
    return "\n".join(lines)


def _quiet_interrupt(signum: int, frame: Any) -> None:
    """Ctrl-C during a notebook: papermill, nbclient and asyncio would log the kernel they tear down
    ("Kernel died ...", "Task exception was never retrieved" and a traceback); one line says enough."""
    logging.disable(logging.CRITICAL)
    raise KeyboardInterrupt


def run(notebooks: Mapping[str, Path], fast: bool, root: Path, partial: bool,
        params: Mapping[str, Any] | None = None) -> int:
    """Execute into a fresh staging folder, then commit; a failure or Ctrl-C replaces nothing."""
    preflight(notebooks, root, partial)
    with exclusive(root):
        staging, seeded = new_staging(root)
        previous = signal.signal(signal.SIGINT, _quiet_interrupt)
        try:
            timings = execute(notebooks, fast, staging, params)
            moves = outputs(notebooks, staging, seeded, root)
            for path in notebooks.values():
                published_paths(staging / path.relative_to(ROOT), staging, root)
            # The table the README gets, from the staged results: a broken one stops the run before anything moves.
            text_table = table(staging / "results", partial=partial or root != ROOT)
        except KeyboardInterrupt:
            return cli.fail(f"interrupted (Ctrl-C): nothing was replaced; the partial run is in {_rel(staging)}",
                            cli.EXIT_INTERRUPTED)
        except ResultsError as err:
            raise ResultsError(f"the run finished but its {err.what}",
                               f"nothing was replaced; the run is in {_rel(staging)}; {err.fix}") from None
        finally:
            signal.signal(signal.SIGINT, previous)
        try:
            commit(moves, text_table if root == ROOT else None)
        except KeyboardInterrupt:  # held until the commit was complete
            return cli.fail("interrupted (Ctrl-C) after the outputs were moved into place", cli.EXIT_INTERRUPTED)
        shutil.rmtree(staging, ignore_errors=True)
    banner = f"\n*** {gallery.FAST_BANNER} ***\n" if fast else ""
    print(banner + "\n" + summary(root, notebooks, timings, list(moves.values()), text_table) + banner)
    page = gallery.write_page(root, root / "build" / "gallery" if root == ROOT else root / "gallery", fast=fast)
    print(f"Every table and figure on one page: {_rel(page)}")
    if root == ROOT:
        runtimes.refresh_readme(ROOT)
        reproducibility.refresh_readme_block(ROOT)
        print("README tables refreshed from the new results")
    return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python main.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="small slice, outputs under build/fast/")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"subset of {list(NOTEBOOKS)}")
    parser.add_argument("--table", action="store_true", help="print the results table and exit")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README table and exit")
    parser.add_argument("--partial", action="store_true",
                        help="let the table leave out the rows of a missing results file (else an error)")
    parser.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                        help="a notebook parameter, as papermill's -p (e.g. -p SEEDS_FULL=True); repeatable")
    parser.add_argument("--export-html", type=Path, metavar="DIR", help="export notebooks to HTML and exit")
    args = parser.parse_args(argv)

    notebooks = select(discover(), args.only)
    if args.table:
        print(table(ROOT / "results", args.partial))
        return 0
    if args.update_readme:
        changed = (update_readme(table(ROOT / "results", args.partial)) | runtimes.refresh_readme(ROOT)
                   | reproducibility.refresh_readme_block(ROOT))
        print("README updated" if changed else "README already up to date")
        return 0
    if args.export_html:  # every notebook, the on-request ones included, unless --only names some
        export_html(notebooks if args.only else discover(), args.export_html)
        return 0
    return run(notebooks, args.fast, output_root(args.fast), args.partial, parse_params(args.param))


def main(argv: Sequence[str] | None = None) -> int:
    """``python main.py ...``; returns the exit code (2 with a one-line ``error:`` for bad input)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return cli.run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
