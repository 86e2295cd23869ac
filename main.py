"""Regenerate every result and plot: ``python main.py [--fast] [--only part2 ...]``.

Executes the notebooks top to bottom with papermill (in place for a full run; into ``build/fast/``
for ``--fast``, so committed outputs stay untouched), then prints a summary of ``results/*.json``
and refreshes the README's results table from those files.

Other entry points:
  python main.py --table              print the results table (markdown) from results/*.json
  python main.py --update-readme      rewrite the README table from results/*.json
  python main.py --export-html DIR    export every executed notebook to HTML
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "src"))  # works before `pip install -e .` too

# Canonical order: later notebooks may reuse what earlier ones wrote (e.g. shared baselines).
NOTEBOOKS: dict[str, str] = {
    "part2": "part_2_autoencoder.ipynb",
    "nab": "nab_benchmark.ipynb",
    "part4": "part_4_transformer.ipynb",
    "vit": "bonus/vit.ipynb",
    "efficientnet": "bonus/efficientnet.ipynb",
}
README_START, README_END = "<!-- results:start -->", "<!-- results:end -->"


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
        raise SystemExit(f"unknown notebook(s) {unknown}; choose from {sorted(notebooks)}")
    return {aliases[n]: notebooks[aliases[n]] for n in only}


def execute(notebooks: dict[str, Path], fast: bool) -> dict[str, float]:
    """Run each notebook with papermill; returns wall time per notebook."""
    import papermill as pm

    if fast:
        os.environ.setdefault("A2_OUTPUT_DIR", str(ROOT / "build" / "fast"))
    timings = {}
    for i, (key, path) in enumerate(notebooks.items(), 1):
        out = ROOT / "build" / "fast" / path.relative_to(ROOT) if fast else path
        out.parent.mkdir(parents=True, exist_ok=True)
        print(f"[{i}/{len(notebooks)}] {path.relative_to(ROOT)} -> {out.relative_to(ROOT)} (FAST={fast})", flush=True)
        start = time.perf_counter()
        pm.execute_notebook(str(path), str(out), parameters={"FAST": fast}, cwd=str(path.parent),
                            kernel_name="python3", progress_bar=True)
        timings[key] = time.perf_counter() - start
        print(f"    done in {timings[key]:.0f} s", flush=True)
    return timings


def update_readme(table: str, readme: Path = ROOT / "README.md") -> bool:
    """Replace the block between the README's result markers with ``table``; True if it changed."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_START) + ".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme} lacks the {README_START} ... {README_END} markers")
    new = pattern.sub(lambda _: f"{README_START}\n{table}\n{README_END}", text)
    if new != text:
        readme.write_text(new)
    return new != text


def export_html(notebooks: dict[str, Path], folder: Path) -> None:
    from nbconvert import HTMLExporter

    folder.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    for path in notebooks.values():
        body, _ = exporter.from_filename(str(path))
        target = folder / (path.relative_to(ROOT).as_posix().replace("/", "__").removesuffix(".ipynb") + ".html")
        target.write_text(body, encoding="utf-8")
        print(f"exported {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fast", action="store_true", help="small slice, outputs under build/fast/")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"subset of {list(NOTEBOOKS)}")
    parser.add_argument("--table", action="store_true", help="print the results table and exit")
    parser.add_argument("--update-readme", action="store_true", help="rewrite the README table and exit")
    parser.add_argument("--export-html", type=Path, metavar="DIR", help="export notebooks to HTML and exit")
    args = parser.parse_args(argv)

    from a2.evaluation import load_results, results_table, summarise

    notebooks = select(discover(), args.only)
    if args.table:
        print(results_table())
        return 0
    if args.update_readme:
        print("README updated" if update_readme(results_table()) else "README already up to date")
        return 0
    if args.export_html:
        export_html(notebooks, args.export_html)
        return 0

    timings = execute(notebooks, args.fast)
    results_dir = (ROOT / "build" / "fast" if args.fast else ROOT) / "results"
    print("\nResults (" + str(results_dir.relative_to(ROOT)) + "):")
    for line in summarise(load_results(results_dir)):
        print("  " + line)
    print("Notebook wall times: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
    if not args.fast:
        update_readme(results_table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
