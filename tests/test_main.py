"""main.py: discovery, selection, the README table, safe notebook execution and what a run prints."""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from a2.errors import A2Error
from a2.results_table import results_table

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("a2_main", ROOT / "main.py")
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)


def test_readme_table_is_generated_from_results():
    text = (ROOT / "README.md").read_text()
    block = text.split(main.README_START)[1].split(main.README_END)[0].strip()
    assert block == results_table(), "README table is stale: run `python main.py --update-readme`"


def test_select_accepts_keys_and_stems_and_rejects_unknown():
    notebooks = {"part2": ROOT / "part_2_autoencoder.ipynb"}
    assert main.select(notebooks, ["part_2_autoencoder"]) == notebooks
    assert main.select(notebooks, None) == notebooks
    with pytest.raises(A2Error, match="unknown notebook"):
        main.select(notebooks, ["part9"])


def test_params_are_python_literals_and_bad_ones_are_one_line_errors():
    assert main.parse_params(["SEEDS_FULL=True", "EPOCHS=4", "PRECISION='fp32'"]) == {
        "SEEDS_FULL": True, "EPOCHS": 4, "PRECISION": "fp32"}
    for bad in (["SEEDS_FULL"], ["1X=2"], ["EPOCHS=four"], ["FAST=True"]):
        with pytest.raises(A2Error):
            main.parse_params(bad)


def test_on_request_notebooks_run_only_when_named():
    notebooks = {"part2": ROOT / "part_2_autoencoder.ipynb", "pretrain": ROOT / "part_4_pretrain.ipynb"}
    assert main.select(notebooks, None) == {"part2": notebooks["part2"]}
    assert main.select(notebooks, ["pretrain"]) == {"pretrain": notebooks["pretrain"]}
    assert "pretrain" in main.discover()


def test_table_flag_prints(capsys):
    assert main.main(["--table"]) == 0
    assert "| part | measure |" in capsys.readouterr().out


def test_export_html_writes_one_page_per_notebook(tmp_path):
    notebook = ROOT / "bonus" / "efficientnet.ipynb"
    main.export_html({"efficientnet": notebook}, tmp_path)
    page = tmp_path / "bonus__efficientnet.html"
    assert page.is_file() and "<html" in page.read_text(encoding="utf-8")[:2000].lower()
    assert [p.name for p in tmp_path.iterdir()] == ["bonus__efficientnet.html"]  # no temporary files left


def test_update_readme_is_atomic_and_needs_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{main.README_START}\nold\n{main.README_END}\nend\n")
    assert main.update_readme("| new |", readme) and "| new |" in readme.read_text()
    assert not main.update_readme("| new |", readme)
    readme.write_text("no markers")
    with pytest.raises(A2Error, match="lacks the .* markers"):
        main.update_readme("| new |", readme)
    assert [p.name for p in tmp_path.iterdir()] == ["README.md"]


# ---- execution: to a scratch copy, replacing the notebook only on success ---------------------

def make_notebook(path: Path, code: str) -> Path:
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell("FAST = False")
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture()
def fake_repo(tmp_path, monkeypatch):
    monkeypatch.setattr(main, "ROOT", tmp_path)
    monkeypatch.setattr(main, "SCRATCH", tmp_path / "build" / "run")
    return tmp_path


def test_failed_notebook_is_left_byte_identical_and_nothing_is_replaced(fake_repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    nb = make_notebook(fake_repo / "bad.ipynb", "from a2 import io, runtime\n"
                       "io.write_json(runtime.results_path('bad.json'), {'x': 1})\n"
                       "raise ValueError('dataset broken (fix it)')")
    before = nb.read_bytes()
    with pytest.raises(main.NotebookFailed, match=r"bad\.ipynb failed in cell .*ValueError: dataset broken") as err:
        main.run({"bad": nb}, True, out, partial=False)
    assert nb.read_bytes() == before
    assert not (out / "results" / "bad.json").exists()  # the results written before the failure stay staged
    staged = list((fake_repo / "build" / "run").glob("*/bad.ipynb"))
    assert len(staged) == 1 and str(staged[0].relative_to(fake_repo)) in str(err.value)
    assert (staged[0].parent / "results" / "bad.json").is_file()


def test_outputs_become_visible_together_with_the_modes_they_replace(fake_repo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    (out / "results").mkdir()
    (out / "results" / "kept.json").write_text('{"old": 1}')
    (out / "results" / "good.json").write_text('{"old": 1}')
    (out / "results" / "good.json").chmod(0o640)
    code = ("from a2 import io, runtime\nimport json\n"
            "kept = json.loads(runtime.results_path('kept.json').read_text())\n"  # seeded: earlier results readable
            "io.write_json(runtime.results_path('good.json'), {'new': kept['old'] + 1})\n"
            "io.write_text(runtime.weights_path('good.pt'), 'w')\n"
            "io.write_text(runtime.output_dir() / 'report' / 'figures' / 'good.pdf', 'f')\n"
            "print('outputs=' + str(runtime.output_dir()))")
    nb = make_notebook(fake_repo / "good.ipynb", code)
    assert main.run({"good": nb}, True, out, partial=False) == 0
    assert json.loads((out / "results" / "good.json").read_text()) == {"new": 2}
    assert (out / "results" / "good.json").stat().st_mode & 0o777 == 0o640
    assert (out / "weights" / "good.pt").is_file() and (out / "report" / "figures" / "good.pdf").is_file()
    assert f"outputs={out}\\n" in (out / "good.ipynb").read_text()  # the place it ends up, not the staging folder
    assert (out / "results" / "kept.json").read_text() == '{"old": 1}'
    assert not list((fake_repo / "build" / "run").glob("*/")), "the staging folder was not removed"
    assert sorted(p.name for p in (out / "results").iterdir()) == ["good.json", "kept.json"]  # no temporary files


def test_a_second_run_into_the_same_folder_is_refused(fake_repo, tmp_path):
    with main.exclusive(tmp_path / "out"):
        refused = pytest.raises(A2Error, match=rf"another python main\.py run \(pid {os.getpid()}\) is writing to")
        with refused, main.exclusive(tmp_path / "out"):
            pass
        with main.exclusive(tmp_path / "elsewhere"):  # another output folder is fine
            pass
    with main.exclusive(tmp_path / "out"):  # released at the end
        pass


def test_interrupt_inside_the_kernel_counts_as_ctrl_c(fake_repo, tmp_path_factory, capsys):
    nb = make_notebook(fake_repo / "stop.ipynb", "raise KeyboardInterrupt")
    before = nb.read_bytes()
    assert main.run({"stop": nb}, True, tmp_path_factory.mktemp("out"), partial=False) == 130
    assert nb.read_bytes() == before
    assert "nothing was replaced; the partial run is in build/run/" in capsys.readouterr().err


def test_ctrl_c_leaves_the_notebook_byte_identical_and_prints_one_line(fake_repo):
    """A real SIGINT to a real run: exit 130, one line, the committed notebook untouched."""
    nb = make_notebook(fake_repo / "slow.ipynb", "import time\nprint('started', flush=True)\ntime.sleep(60)")
    before = nb.read_bytes()
    driver = (f"import importlib.util, sys\nfrom pathlib import Path\n"
              f"s = importlib.util.spec_from_file_location('m', {str(ROOT / 'main.py')!r})\n"
              f"m = importlib.util.module_from_spec(s); s.loader.exec_module(m)\n"
              f"m.ROOT = Path({str(fake_repo)!r}); m.SCRATCH = m.ROOT / 'build' / 'run'\n"
              f"m.discover = lambda: {{'slow': m.ROOT / 'slow.ipynb'}}\n"
              f"raise SystemExit(m.cli.run(lambda a: m.run(m.discover(), True, m.ROOT, True)))\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen([sys.executable, "-c", driver], env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any("started" in p.read_text()
                                             for p in (fake_repo / "build" / "run").glob("*/slow.ipynb")):
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: to the whole foreground process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), err
    assert nb.read_bytes() == before


def test_fast_run_summary_reads_the_folder_actually_written(fake_repo, monkeypatch, capsys, tmp_path_factory):
    """A2_OUTPUT_DIR with --fast: the notebooks and the summary use the same folder."""
    out = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.setenv("A2_OUTPUT_DIR", str(out))
    nb = make_notebook(fake_repo / "part_4_transformer.ipynb", "x = 1")
    monkeypatch.setattr(main, "preflight", lambda notebooks, root, partial: None)

    def fake_execute(notebooks, fast, staging, params=None):
        assert fast and staging.parent == fake_repo / "build" / "run"
        (staging / "results").mkdir(parents=True)
        (staging / "results" / "part_4.json").write_text(json.dumps({"test": {"accuracy": 0.8765}}))
        (staging / "weights").mkdir()
        (staging / "weights" / "part_4_transformer.pt").write_bytes(b"w")
        (staging / nb.name).write_text("{}")
        return {"part4": 12.0}

    monkeypatch.setattr(main, "execute", fake_execute)
    assert main.main(["--fast", "--only", "part4"]) == 0
    printed = capsys.readouterr().out
    assert f"Results ({out / 'results'})" in printed and "87.65%" in printed
    assert str(out / "weights" / "part_4_transformer.pt") in printed and str(out / nb.name) in printed
    assert "part4 12 s" in printed and (out / "weights" / "part_4_transformer.pt").read_bytes() == b"w"


def test_output_root(monkeypatch, tmp_path):
    monkeypatch.delenv("A2_OUTPUT_DIR", raising=False)
    assert main.output_root(True) == ROOT / "build" / "fast" and main.output_root(False) == ROOT
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("A2_OUTPUT_DIR", "rel")
    assert main.output_root(True) == tmp_path / "rel"  # absolute, since kernels run in other folders


def test_papermill_noise_is_filtered_but_real_warnings_stay():
    import logging

    logger = logging.getLogger("papermill.translators")
    drop = logger.filters[0]
    make = lambda msg: logging.LogRecord("papermill.translators", logging.WARNING, "", 0, msg, None, None)  # noqa: E731
    assert not drop.filter(make("Unable to parse line 11 'VGG = dict(width=0.25)'."))
    assert drop.filter(make("Something real happened"))
    assert "--IPKernelApp.log_level=CRITICAL" in main.KERNEL_ARGS


def test_kernels_import_this_checkout_and_print_plain_progress(monkeypatch, tmp_path):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = main.kernel_env(tmp_path)
    assert env["PYTHONPATH"].split(os.pathsep) == [str(ROOT / "src"), "/elsewhere"]
    assert env["A2_PROGRESS"] == "plain" and env["A2_OUTPUT_DIR"] == str(tmp_path)
