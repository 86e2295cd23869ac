"""assignment2_report.pdf: its numbers equal results/*.json, missing keys are named, and the PDF is current."""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest

from a2 import report, report_inputs
from a2.report import (
    AGREED_FIGURES,
    FORMATS,
    SPEC,
    TABLES,
    MissingKey,
    Value,
    integer,
    parse_macros,
    pct,
    render,
    signed_points,
)
from a2.results import load_all_results
from a2.vision.models import DISPLAY_NAMES, stored_label


@pytest.fixture(scope="module")
def results():
    return load_all_results(report_inputs.RESULTS_DIR)


@pytest.fixture(scope="module")
def committed() -> dict[str, str]:
    assert report_inputs.MACROS.is_file(), "report/results.tex is missing; run `make report`"
    return parse_macros(report_inputs.MACROS.read_text())


# ----------------------------------------------------------------------------- formatting


def test_formats():
    assert integer(22683) == "22{,}683" and integer(48) == "48"
    assert pct(0.9567474) == r"95.67\%" and FORMATS["pct1"](0.5) == r"50.0\%"
    assert FORMATS["params"](689_011) == "0.69M" and FORMATS["params"](11_689_512) == "11.7M"
    assert signed_points(0.0123) == "+1.23" and signed_points(-0.004) == "$-$0.40" and signed_points(0.0) == "0.00"
    assert FORMATS["text"]("a_b 5%") == r"a\_b 5\%"
    assert FORMATS["f1"](float("nan")) == "--"
    assert FORMATS["count"]([1, 2, 3]) == "3" and FORMATS["count"](4) == "4"


def test_subword_sentence_is_empty_without_the_optional_row_and_signed_with_it():
    assert report._subword({}) == ""
    sub = {"vocab_size": 30000, "pieces_per_word": 1.0412, "row": {"val_accuracy": 0.8012},
           "word_level_row": {"val_accuracy": 0.8053}, "effect_points": -0.41, "word_unk_rate": 0.0345}
    text = report._subword(sub)
    assert "30{,}000 pieces" in text and "1.04 pieces per word" in text
    assert "80.12\\%" in text and "80.53\\%" in text and "$-$0.41 points" in text and "3.45\\%" in text


def test_vit_extras_follow_the_config():
    assert report._vit_extras({"stem": "conv", "lsa": True}).startswith("a convolutional stem and locality")
    assert report._vit_extras({"stem": "patch", "lsa": False}).startswith("the plain patch embedding")


def test_window_span():
    assert report._window_span(48, "30min", "0 days 00:05:00") == "24 hours"
    assert report._window_span(96, None, "0 days 00:05:00") == "8 hours"
    assert report._window_span(48, "2h", "") == "4 days"


def test_vision_names_come_from_the_one_builder_with_their_size():
    models = {"vgg13": {"test_accuracy": 0.9, "params": 689_011, "config": {"width": 0.25}},
              "vit": {"test_accuracy": 0.95, "params": 913_961, "config": {"dim": 128, "depth": 6, "patch_size": 8}}}
    assert report._best_vision(models) == "ViT (dim 128, depth 6, patch 8, 0.91M params)"


# ----------------------------------------------------------------------------- macros equal their JSON source


def test_committed_macro_file_is_generated_from_current_results(results):
    expected = render(results, draft=True).text
    assert report_inputs.MACROS.read_text() == expected, \
        "results/*.json changed since report/results.tex; run `make report`"


def _check(value: Value, macro: str, source) -> None:
    """An independent reading of ``macro`` compared with the JSON value (not a call of the formatter)."""
    if value.fmt in ("pct", "pct1"):
        digits = 2 if value.fmt == "pct" else 1
        assert macro.endswith(r"\%")
        assert float(macro[:-2]) == pytest.approx(100 * source, abs=0.51 * 10**-digits)
    elif value.fmt in ("int", "count"):
        expected = len(source) if isinstance(source, (list, dict)) else source
        assert int(macro.replace("{,}", "")) == round(expected)
    elif value.fmt in ("f1", "f2", "f3", "f4"):
        digits = int(value.fmt[1])
        assert float(macro) == pytest.approx(source, abs=0.51 * 10**-digits)
    elif value.fmt == "params":  # two significant digits
        assert float(macro.rstrip("M")) * 1e6 == pytest.approx(source, rel=0.05)
    elif value.fmt == "text":
        assert macro.replace("\\", "") == str(source)
    else:
        pytest.fail(f"no independent check for format {value.fmt!r}")


SIMPLE = [v for v in SPEC if isinstance(v.path, str) and isinstance(v.fmt, str)]


@pytest.mark.parametrize("value", SIMPLE, ids=[v.name for v in SIMPLE])
def test_every_macro_equals_its_json_source(value: Value, results, committed):
    assert value.name in committed, f"\\{value.name} is not defined in report/results.tex; run `make report`"
    macro = committed[value.name]
    _check(value, macro, report.value(results, value.source, value.path))


DERIVED = [v for v in SPEC if v not in SIMPLE]


@pytest.mark.parametrize("value", DERIVED, ids=[v.name for v in DERIVED])
def test_derived_macros_equal_their_definition(value: Value, results, committed):
    assert committed[value.name] == value.render(results)


def test_verdicts_follow_the_numbers(results, committed):
    p4 = results["part_4"]
    assert committed["pIVversusNBSVM"] == ("above" if p4["test"]["accuracy"] > 0.9122 else "below")
    p2 = results["part_2"]
    assert committed["pIIbestModel"] == report.tex_escape(p2["best_model"])
    bonus = results["bonus"]["models"]
    best = max(bonus, key=lambda k: bonus[k]["test_accuracy"])
    assert committed["bonusBest"].startswith(DISPLAY_NAMES[best] + " (")


def test_tables_hold_the_json_values(results):
    text = render(results, draft=True).text
    for key, entry in results["bonus"]["models"].items():
        assert report.tex_escape(stored_label(key, entry)) in text
        assert pct(entry["metrics"]["test"]["accuracy"]) in text
    variants = results["part_4"]["study"]["variants"]
    ref = variants["full recipe"]["val_accuracy"]
    for name, v in variants.items():
        assert report.tex_escape(name) + " & " + pct(v["val_accuracy"]) in text
        if name != "full recipe":
            assert signed_points(v["val_accuracy"] - ref) in text
    for m in results["part_2"]["models"].values():
        assert integer(m["params"]) in text and f"{m['val_f1']:.3f}" in text
    for v in results["nab"]["mechanisms_seed0"]:
        assert f"{v['standard']:.1f}" in text


def test_nab_mechanisms_become_a_matrix_of_gate_variants():
    rows = [{"variant": "frozen", "standard": 1.0}, {"variant": "frozen + magnitude gate", "standard": 2.0},
            {"variant": "frozen + both gates", "standard": 4.0}, {"variant": "refit", "standard": 5.0}]
    matrix = report.nab_mechanism_matrix(rows)
    assert list(matrix) == ["frozen", "refit"] and matrix["frozen"][:2] == [1.0, 2.0] and matrix["frozen"][3] == 4.0
    assert matrix["frozen"][2] != matrix["frozen"][2]  # no seasonal variant: NaN


# ----------------------------------------------------------------------------- missing keys


def test_missing_key_names_file_key_and_macro(results):
    broken = copy.deepcopy(results)
    del broken["part_4"]["test"]["accuracy"]
    with pytest.raises(MissingKey) as err:
        render(broken)
    needed = ["pIVtestAccuracy", "pIVversusNBSVM"]
    assert ("part_4", "test.accuracy", needed) in err.value.missing
    assert ("results/part_4.json has no key 'test.accuracy' "
            r"(needed by \pIVtestAccuracy, \pIVversusNBSVM)") in str(err.value)


def test_every_missing_key_is_listed(results):
    broken = copy.deepcopy(results)
    del broken["part_2"]["window"], broken["nab"]["files"]
    with pytest.raises(MissingKey) as err:
        render(broken)
    assert "part_2.json has no key 'window'" in str(err.value) and "nab.json has no key 'files'" in str(err.value)


def test_missing_results_file_is_named(results):
    broken = {k: v for k, v in results.items() if k != "bonus"}
    with pytest.raises(MissingKey) as err:
        render(broken)
    assert ("bonus", None, [d.name for d in (*SPEC, *TABLES) if d.source == "bonus"]) in err.value.missing
    assert r"results/bonus.json is missing (needed by \bonusTrainN, " in str(err.value)


def test_a_missing_key_is_a_placeholder_only_in_a_draft(results):
    broken = copy.deepcopy(results)
    broken["part_4"].pop("throughput_tokens_per_s", None)
    with pytest.raises(MissingKey, match=r"part_4\.json has no key 'throughput_tokens_per_s'"):
        render(broken)
    draft = render(broken, draft=True)
    assert "part_4.json: throughput_tokens_per_s" in draft.pending
    assert r"\newcommand{\pIVthroughput}{\pending{part\_4.json: throughput\_tokens\_per\_s}}" in draft.text


# ----------------------------------------------------------------------------- report.tex and the spec agree


def test_report_tex_uses_only_defined_macros_and_every_macro_is_used(results):
    tex = report_inputs.TEX.read_text()
    defined = set(render(results, draft=True).values)
    used = set(re.findall(r"\\((?:pII|pIV|nab|bonus)[A-Za-z]*)", tex))
    assert used <= defined, f"undefined in SPEC/TABLES: {sorted(used - defined)}"
    unused = {d.name for d in (*SPEC, *TABLES)} - used
    assert not unused, f"declared but not used in report.tex: {sorted(unused)}"


def test_report_places_every_agreed_figure():
    names = report_inputs.figure_names()
    assert set(AGREED_FIGURES) <= set(names), f"not placed in report.tex: {set(AGREED_FIGURES) - set(names)}"
    assert report_inputs.figure_names(r"% \reportgraphic{old}{1pt}" + "\n" + r"\reportgraphic{a}{1pt}") == ["a"]
    assert report_inputs.optional_figure_names(r"\optionalfigure{nab_example}{1pt}{c}") == ["nab_example"]


# ----------------------------------------------------------------------------- LaTeX (only where TeX is installed)


@pytest.mark.skipif(shutil.which("latexmk") is None, reason="latexmk not installed (TeX is only needed for the PDF)")
def test_report_compiles(tmp_path):
    """report.tex compiles with the committed macros (placeholders allowed: this checks the TeX only)."""
    proc = subprocess.run(
        ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error", f"-outdir={tmp_path}", "report.tex"],
        cwd=report_inputs.REPORT_DIR, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    log = (tmp_path / "report.log").read_text(errors="replace")
    assert "Citation" not in log or "undefined" not in log.split("Citation", 1)[1][:200]
