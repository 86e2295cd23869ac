"""One HTML page with every table and figure of a run, so ``python main.py`` shows its plots, not only paths.

The page is built from ``<root>/results/*.json`` (the headline table, the run-time table and, folded, every
number of each results file) and ``<root>/report/figures/*.pdf`` (the figures the notebooks saved for the
report). Figures are rasterised with poppler's ``pdftoppm`` when it is installed, else embedded as PDF, so
the page opens in any browser. A FAST run's page carries a banner: its numbers are a smoke test.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from a2 import cli, io, report, report_inputs, runtime
from a2.results import flatten, load_all_results
from a2.results_table import results_table
from a2.runtimes import runtime_table

FAST_BANNER = ("FAST smoke test: these numbers come from a tiny slice of each dataset and a few training steps; "
               "they check that the code runs and are not results (run `make run` for the real ones).")
# figure-name prefix -> section heading, in the page's order
SECTIONS = {"part2": "Part II: autoencoders", "nab": "Part II beyond: the NAB corpus",
            "part4": "Part IV: Transformer on IMDB", "bonus": "Bonus: vision models"}
_STYLE = """body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 7px;
text-align:left}th{background:#f3f3f3}figure{margin:1.2em 0}img,object{max-width:100%;border:1px solid #eee}
figcaption{font-size:13px;color:#555}.banner{background:#fff3cd;border:2px solid #e0a800;padding:.8em;
font-weight:600}details{margin:.4em 0}code{background:#f5f5f5;padding:0 3px}"""


def markdown_table_html(markdown: str) -> str:
    """A pipe table (header, separator, rows) as an HTML table; backticks and ** become code and bold."""
    def cell(text: str, tag: str) -> str:
        text = html.escape(text.strip())
        parts = text.split("`")
        text = "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))
        parts = text.split("**")
        text = "".join(f"<b>{p}</b>" if i % 2 else p for i, p in enumerate(parts))
        return f"<{tag}>{text}</{tag}>"

    rows = [line.strip().strip("|").split("|") for line in markdown.strip().splitlines() if line.strip()]
    if not rows:
        return ""
    head, body = rows[0], [r for r in rows[1:] if not all(set(c.strip()) <= set("-: ") for c in r)]
    out = ["<table>", "<tr>" + "".join(cell(c, "th") for c in head) + "</tr>"]
    out += ["<tr>" + "".join(cell(c, "td") for c in r) + "</tr>" for r in body]
    return "\n".join(out + ["</table>"])


def _value(value: Any) -> str:
    if isinstance(value, list):  # per-epoch histories and the like: their length says enough here
        return f"[{len(value)} entries]"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else str(value)
    return str(value)


def results_details(results: Mapping[str, Mapping[str, Any]]) -> str:
    """One folded table per results file with every value it holds."""
    parts = []
    for stem, payload in results.items():
        rows = "\n".join(f"<tr><td><code>{html.escape(k)}</code></td><td>{html.escape(_value(v))}</td></tr>"
                         for k, v in flatten(payload).items())
        parts.append(f"<details><summary><code>results/{html.escape(stem)}.json</code></summary>\n"
                     f"<table><tr><th>key</th><th>value</th></tr>\n{rows}\n</table></details>")
    return "\n".join(parts)


def _braced(text: str, start: int) -> tuple[str, int]:
    """The balanced ``{...}`` group opening at ``text[start]``, and the index after it."""
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i], i + 1
    return text[start + 1:], len(text)


def plain(latex: str, values: Mapping[str, str]) -> str:
    """A caption in plain text: result macros expanded, citations and references dropped, markup removed."""
    text = re.sub(r"\\(?:citep|citet|citealp|ref|label)\{[^}]*\}", "", latex)
    for _ in range(3):  # macro values may hold other macros or markup
        text = re.sub(r"\\([A-Za-z]+)(?:\{\})?", lambda m: values.get(m[1], m[0]), text)
    text = re.sub(r"\\(?:emph|textbf|code|texttt|nb|mathrm)\{([^}]*)\}", r"\1", text)
    text = re.sub(r"\\pending\{([^}]*)\}", r"[pending: \1]", text)
    text = text.replace("~", " ").replace("--", "–").replace("\\%", "%").replace("\\_", "_").replace("``", '"')
    text = text.replace("''", '"').replace("$\\pm$", "±").replace("\\times", "×").replace("\\ ", " ")
    text = re.sub(r"\\[A-Za-z]+\*?", "", text).replace("$", "").replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", text).strip()


def captions(tex: str, values: Mapping[str, str]) -> dict[str, str]:
    """``{figure name: caption}`` for every figure ``report.tex`` places (``\\reportgraphic`` or
    ``\\optionalfigure``)."""
    out: dict[str, str] = {}
    for env in re.findall(r"\\begin\{figure\}.*?\\end\{figure\}", tex, re.S):
        at = env.find("\\caption{")
        if at >= 0:
            caption = plain(_braced(env, at + len("\\caption"))[0], values)
            for name in re.findall(r"\\reportgraphic\{([^}]+)\}", env):
                out[name] = caption
    for m in re.finditer(r"\\optionalfigure\{([^}]+)\}\{[^}]*\}", tex):
        out[m[1]] = plain(_braced(tex, m.end())[0], values)
    return out


def report_captions(root: Path) -> dict[str, str]:
    """The report's caption of each figure, with the numbers of ``root``'s results; empty if unavailable."""
    try:
        tex = report_inputs.TEX.read_text(encoding="utf-8")
        values = report.render(load_all_results(root / "results"), draft=True).values
    except (OSError, ValueError, KeyError):  # no report source, or results the report cannot use yet
        return {}
    return captions(re.sub(r"(?<!\\)%.*", "", tex), values)


def _figure(pdf: Path, out_dir: Path, caption: str = "") -> str:
    """Copy or rasterise one figure into ``out_dir/figures`` and return its HTML."""
    figures = io.ensure_dir(out_dir / "figures")
    name = html.escape(pdf.stem)
    label = f"<b>{name}</b>" + (f": {html.escape(caption)}" if caption else "")
    png = figures / f"{pdf.stem}.png"
    if shutil.which("pdftoppm"):
        done = subprocess.run(["pdftoppm", "-png", "-r", "110", "-singlefile", str(pdf), str(png.with_suffix(""))],
                              capture_output=True)
        if done.returncode == 0 and png.is_file():
            return f'<figure><img src="figures/{name}.png" alt="{name}"><figcaption>{label}</figcaption></figure>'
    shutil.copyfile(pdf, figures / pdf.name)
    return (f'<figure><object data="figures/{name}.pdf" type="application/pdf" width="100%" height="520">'
            f'<a href="figures/{name}.pdf">{name}.pdf</a></object><figcaption>{label}</figcaption></figure>')


def figures_html(figure_dir: Path, out_dir: Path, captions_by_name: Mapping[str, str] | None = None) -> str:
    """Every ``*.pdf`` of ``figure_dir``, grouped by part (the name's prefix), others last, with their captions."""
    captions_by_name = captions_by_name or {}
    pdfs = sorted(figure_dir.glob("*.pdf")) if figure_dir.is_dir() else []
    if not pdfs:
        return "<p>No figures yet: run the notebooks (<code>make run</code>).</p>"
    groups: dict[str, list[Path]] = {}
    for pdf in pdfs:
        prefix = next((p for p in SECTIONS if pdf.stem.startswith(p)), "")
        groups.setdefault(prefix, []).append(pdf)
    parts = []
    for prefix in [*SECTIONS, ""]:
        if prefix in groups:
            parts.append(f"<h3>{html.escape(SECTIONS.get(prefix, 'Other figures'))}</h3>")
            parts += [_figure(pdf, out_dir, captions_by_name.get(pdf.stem, "")) for pdf in groups[prefix]]
    return "\n".join(parts)


def write_page(root: Path, out_dir: Path, *, fast: bool, notebook_root: Path | None = None) -> Path:
    """Write ``out_dir/index.html`` for the run whose outputs are under ``root``; returns its path."""
    results = load_all_results(root / "results")
    banner = f'<p class="banner">{html.escape(FAST_BANNER)}</p>' if fast else ""
    body = f"""<!doctype html><html><head><meta charset="utf-8"><title>Assignment 2: every table and figure</title>
<style>{_STYLE}</style></head><body>
<h1>Assignment 2: every table and figure</h1>
{banner}
<p>Generated from <code>{html.escape(str(root / "results"))}</code> and
<code>{html.escape(str(root / "report" / "figures"))}</code>. The report PDF and the notebooks explain each of them.</p>
<h2>Headline results</h2>
{markdown_table_html(results_table(results))}
<h2>Run time</h2>
{markdown_table_html(runtime_table(results, notebook_root or root))}
<h2>Every recorded number</h2>
{results_details(results)}
<h2>Figures</h2>
{figures_html(root / "report" / "figures", out_dir, report_captions(root))}
{banner}
</body></html>
"""
    return io.write_text(io.ensure_dir(out_dir) / "index.html", body)


def _main(argv: Sequence[str] | None) -> int:
    parser = cli.ArgumentParser(prog="python -m a2.gallery", description="One HTML page of every table and figure "
                                "of the results already on disk (no notebook is rerun).")
    parser.add_argument("--root", type=Path, default=runtime.REPO_ROOT, help="folder holding results/ and report/")
    parser.add_argument("--out", type=Path, help="folder for index.html (default <root>/build/gallery)")
    args = parser.parse_args(argv)
    fast = any(p.get("fast") for p in load_all_results(args.root / "results").values())
    page = write_page(args.root, args.out or args.root / "build" / "gallery", fast=fast)
    print(f"Every table and figure on one page: {page}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m a2.gallery [--root DIR] [--out DIR]``; one-line errors for a broken results file."""
    return cli.run(_main, argv)


if __name__ == "__main__":
    raise SystemExit(main())
