"""Bad input a user can make, table-driven: case -> exit code and the one-line message.

Every case must end in ``error: <what went wrong> (<how to fix it>)`` on stderr, a non-zero exit
code and no traceback, and must fail before any long computation starts.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from a2 import datasets
from a2.io import save_torch
from a2.text import predict

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("a2_main_bad", ROOT / "main.py")
main = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(main)


def _repo(tmp, mp, results: dict[str, str] | None = None) -> Path:
    """main.py pointed at a fake repository holding ``results/<name>`` files with the given text."""
    mp.setattr(main, "ROOT", tmp)
    mp.setattr(main, "SCRATCH", tmp / "build" / "run")
    mp.setattr(main, "execute", lambda *a: pytest.fail("a notebook started despite bad input"))
    (tmp / "results").mkdir(exist_ok=True)
    for name, text in (results or {}).items():
        (tmp / "results" / name).write_text(text)
    (tmp / "part_2_autoencoder.ipynb").write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                                              "nbformat_minor": 5}))
    return tmp


def _no_data(tmp, mp):
    mp.setattr(datasets, "REPO_ROOT", tmp)
    mp.setenv("A2_DATA_DIR", str(tmp / "empty"))
    mp.setenv("A2_NO_DOWNLOAD", "1")
    mp.setenv("A2_CACHE_DIR", str(tmp / "cache"))


def _a_file(tmp, name="afile"):
    (tmp / name).write_text("x")
    return str(tmp / name)


MAIN_CASES = {
    "unknown notebook": (lambda t, m: _repo(t, m) and ["--only", "part9"], "unknown notebook.*part9.*choose from"),
    "unknown option": (lambda t, m: ["--fats"], "unrecognized arguments: --fats.*--help"),
    "truncated results JSON": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": {"accuracy": 0.9'}) and ["--table"],
        r"part_4\.json is not valid JSON .*truncated.*\(restore it"),
    "string where a number belongs": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": {"accuracy": "high"}}'}) and ["--table"],
        r"results/part_4\.json: test\.accuracy is 'high', not a finite number \(restore it"),
    "NaN in a table value": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": {"accuracy": NaN}}'}) and ["--table"],
        r"test\.accuracy is nan, not a finite number"),
    "accuracy out of range": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": {"accuracy": -0.5}}'}) and ["--table", "--partial"],
        r"results/part_4\.json: test\.accuracy is -0\.5, which cannot be a fraction in \[0, 1\]"),
    "a part that is not an object": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": "oops"}'}) and ["--update-readme", "--partial"],
        r"results/part_4\.json: test is 'oops', not an object holding 'accuracy'"),
    "a missing results part": (
        lambda t, m: _repo(t, m, {"part_4.json": '{"test": {"accuracy": 0.9}}'}) and ["--update-readme"],
        r"results/part_2\.json is missing \(.*or pass --partial"),
    "a run that would leave the README table short": (
        lambda t, m: _repo(t, m) and m.delenv("A2_OUTPUT_DIR", raising=False) or ["--only", "part2"],
        r"results/bonus\.json, results/nab\.json, results/part_4\.json are missing and this run does not write "
        r"them.*add efficientnet nab part4 vit to --only, or pass --partial"),
    "results file holding a list": (
        lambda t, m: _repo(t, m, {"bonus.json": "[1, 2]"}) and ["--table"], "holds a list, not a JSON object"),
    "export into a read-only folder": (
        lambda t, m: _repo(t, m) and ["--export-html", "/sys/a2_exports"], "cannot write /sys/a2_exports"),
    "export into a file": (
        lambda t, m: _repo(t, m) and ["--export-html", _a_file(t)], "a file of that name exists"),
    "export of a corrupt notebook": (
        lambda t, m: _repo(t, m) and (t / "part_2_autoencoder.ipynb").write_text('{"cells": [') and
        ["--export-html", str(t / "out")], r"cannot read notebook part_2_autoencoder\.ipynb"),
    "corrupt notebook before a run": (
        lambda t, m: _repo(t, m) and (t / "part_2_autoencoder.ipynb").write_text("{") and
        ["--fast", "--only", "part2"], r"cannot read notebook part_2_autoencoder\.ipynb.*git checkout"),
    "A2_OUTPUT_DIR is a file": (
        lambda t, m: _repo(t, m) and m.setenv("A2_OUTPUT_DIR", _a_file(t)) or ["--fast"],
        "A2_OUTPUT_DIR=.* is a file, not a folder"),
    "read-only results/weights folder": (
        lambda t, m: _repo(t, m) and m.setenv("A2_OUTPUT_DIR", "/sys/a2_out") or ["--fast"],
        "cannot write /sys/a2_out/results.*chmod"),
    "no dataset and no network": (
        lambda t, m: _repo(t, m) and _no_data(t, m) or ["--fast", "--only", "part2"],
        r"dataset 'nab' was not found and downloads are disabled.*https://github.com/numenta/NAB.*A2_DATA_DIR"),
    "A2_DATA_DIR is a file": (
        lambda t, m: _repo(t, m) and m.setenv("A2_DATA_DIR", _a_file(t)) or ["--fast", "--only", "part2"],
        "A2_DATA_DIR=.* is a file, not a folder"),
    "A2_NO_DOWNLOAD garbage": (
        lambda t, m: _repo(t, m) and _no_data(t, m) or m.setenv("A2_NO_DOWNLOAD", "sure") or ["--fast"],
        "A2_NO_DOWNLOAD='sure' is neither yes nor no"),
}


@pytest.mark.parametrize("case", MAIN_CASES)
def test_main_py(case, tmp_path, monkeypatch, capsys):
    make, message = MAIN_CASES[case]
    if "/sys/" in message and not Path("/sys").is_dir():
        pytest.skip("needs /sys (read-only even for root)")
    code = _exit_code(main.main, make(tmp_path, monkeypatch))
    _assert_one_line_error(code, capsys.readouterr().err, message)
    if case == "no dataset and no network":
        assert not (tmp_path / "data").exists()  # no empty ./data left behind


def _exit_code(entry, argv) -> int:
    try:
        return entry(argv)
    except SystemExit as exit_info:  # argparse usage errors exit from inside parse_args
        return exit_info.code


def _assert_one_line_error(code, err, message):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert lines[0].rstrip().endswith(")"), f"no '(how to fix it)' in {lines[0]!r}"
    assert re.search(message, lines[0]), lines[0]


# ---- python -m a2.text.predict ------------------------------------------------------------------


def _weights(tmp, kind):
    from a2.text.models import TransformerClassifier, TransformerConfig
    from a2.text.preprocess import TextConfig, Vocab

    vocab = Vocab.build([["good", "film"]], min_freq=1)
    model = TransformerClassifier(TransformerConfig(vocab_size=len(vocab), d_model=8, n_heads=2, d_ff=16, max_len=8))
    data = predict.bundle(model, vocab, TextConfig(), 0.25, threshold=0.5)
    if kind == "truncated vocabulary":
        data["vocab"] = data["vocab"][:-1]
    if kind == "string threshold":
        data["threshold"] = "0.5"
    path = save_torch(data, tmp / "w.pt")
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:200])
    if kind == "random":
        path.write_bytes(os.urandom(1000))
    if kind == "empty":
        path.write_bytes(b"")
    if kind == "other model":
        save_torch({"state_dict": {}, "config": {}, "model": "vit"}, path)
    return str(path)


PREDICT_CASES = {
    "no review": (lambda t: [], "give a review, --file PATH, or - to read reviews from stdin"),
    "empty review": (lambda t: ["   ", "--weights", _weights(t, "ok")], "the review is empty"),
    "missing weights": (lambda t: ["good", "--weights", str(t / "nope.pt")], r"no weights at .*nope\.pt"),
    "empty weights": (lambda t: ["good", "--weights", _weights(t, "empty")], "is empty"),
    "truncated weights": (lambda t: ["good", "--weights", _weights(t, "truncated")], "not a readable weights file"),
    "random weights": (lambda t: ["good", "--weights", _weights(t, "random")], "not a readable weights file"),
    "weights of another model": (lambda t: ["good", "--weights", _weights(t, "other model")],
                                 "not a Part IV Transformer weights file"),
    "truncated vocabulary": (lambda t: ["good", "--weights", _weights(t, "truncated vocabulary")],
                             "vocabulary has 3 tokens but the model expects 4"),
    "string threshold": (lambda t: ["good", "--weights", _weights(t, "string threshold")], "'threshold' is '0.5'"),
    "missing review file": (lambda t: ["--file", str(t / "nope.txt")], r"nope\.txt does not exist"),
    "review file is a folder": (lambda t: ["--file", str(t)], "is a folder"),
    "binary review file": (lambda t: (t / "r.bin").write_bytes(b"ok\n\x89PNG\xff") and
                           ["--file", str(t / "r.bin"), "--weights", _weights(t, "ok")], "line 2: not UTF-8"),
    "text and --file": (lambda t: ["good", "--file", "x.txt"], "either a review or --file"),
}


@pytest.mark.parametrize("case", PREDICT_CASES)
def test_predict(case, tmp_path, capsys):
    make, message = PREDICT_CASES[case]
    code = _exit_code(predict.main, make(tmp_path))
    _assert_one_line_error(code, capsys.readouterr().err, message)


# ---- as real processes: the classes caught are the ones raised, whatever runs as __main__ ---------


@pytest.mark.parametrize("argv, message", [
    ([str(ROOT / "main.py"), "--only", "part9"], "unknown notebook"),
    (["-m", "a2.text.predict", "--weights", "/nonexistent.pt", "good"], "no weights at /nonexistent.pt"),
])
def test_entry_points_as_processes(argv, message):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env, timeout=120)
    _assert_one_line_error(proc.returncode, proc.stderr, message)
