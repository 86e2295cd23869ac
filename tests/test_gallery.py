"""main.py's HTML page: every table and figure of a run, with a banner when the run was FAST."""

import json

import matplotlib

matplotlib.use("Agg")
from pathlib import Path  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

from a2 import gallery, report_inputs  # noqa: E402


def _run_folder(root):
    (root / "results").mkdir(parents=True)
    (root / "results" / "part_2.json").write_text(json.dumps(
        {"best_model": "dense", "test": {"accuracy": 0.9}, "runtime_s": 12.0, "device": "cpu", "fast": True,
         "per_series": [1, 2, 3]}))
    (root / "report" / "figures").mkdir(parents=True)
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1])
    fig.savefig(root / "report" / "figures" / "part2_roc_pr.pdf")
    fig.savefig(root / "report" / "figures" / "misc.pdf")
    plt.close(fig)


def test_page_shows_tables_figures_and_the_fast_banner(tmp_path):
    _run_folder(tmp_path)
    page = gallery.write_page(tmp_path, tmp_path / "gallery", fast=True)
    text = page.read_text()
    assert page.name == "index.html" and text.count(gallery.FAST_BANNER.split(":")[0]) == 2  # top and bottom
    assert "<td>90.00%</td>" in text  # the headline table, from results/part_2.json
    assert "12 s" in text and "test.accuracy" in text and "[3 entries]" in text
    assert "Part II: autoencoders" in text and "Other figures" in text
    assert text.index("part2_roc_pr") < text.index("misc")
    assert (tmp_path / "gallery" / "figures").is_dir() and len(list((tmp_path / "gallery" / "figures").iterdir())) == 2


def test_full_run_page_has_no_banner(tmp_path):
    _run_folder(tmp_path)
    text = gallery.write_page(tmp_path, tmp_path / "g", fast=False).read_text()
    assert "smoke test" not in text


def test_markdown_table_html_escapes_and_formats():
    got = gallery.markdown_table_html("| a | b |\n| --- | --- |\n| `x<y` | **7** |")
    assert "<th>a</th>" in got and "<code>x&lt;y</code>" in got and "<b>7</b>" in got and "---" not in got


def test_captions_come_from_the_report_with_numbers_expanded():
    tex = r"""
\begin{figure}[t]\reportgraphic{nab_scores}{\linewidth}
\caption{NAB: score \nabStandard{} (\emph{in sample}) vs.~HTM \citep{x}, 5\% \texttt{a\_b}.}\label{fig:nab}
\end{figure}
\optionalfigure{nab_example}{\linewidth}{One file; \pending{nab.json: k}.}"""
    got = gallery.captions(tex, {"nabStandard": "70.0", "pending": r"\pending"})
    assert got["nab_scores"] == "NAB: score 70.0 (in sample) vs. HTM , 5% a_b."
    assert got["nab_example"] == "One file; [pending: nab.json: k]."


def test_committed_report_gives_every_placed_figure_a_caption():
    caps = gallery.report_captions(Path(report_inputs.REPO_ROOT))
    assert set(report_inputs.figure_names()) <= set(caps) and all(caps.values())
