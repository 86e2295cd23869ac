"""The submission bundle: the assignment's names, no dataset, and a one-line refusal of a bad UBIT."""

import zipfile
from pathlib import Path

import pytest

from a2 import submission
from a2.errors import A2Error


@pytest.mark.parametrize("ubit", ["", None, "name1_name2", "UBIT1_UBIT2", "ubit1_ubit2", "your_ubit", "xxx_yyy"])
def test_missing_or_placeholder_ubit_is_refused(ubit):
    with pytest.raises(A2Error, match="UBIT"):
        submission.check_ubit(ubit)


@pytest.mark.parametrize("ubit", ["Jsmith_akumar", "jsmith-akumar", "jsmith akumar", "../evil"])
def test_malformed_ubit_is_refused(ubit):
    with pytest.raises(A2Error, match="not lower-case UBIT names"):
        submission.check_ubit(ubit)


def test_cli_refuses_in_one_line(capsys):
    assert submission.main(["name1_name2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: UBIT='name1_name2' is a placeholder") and "\n" not in err


def _toy_repo(root: Path) -> None:
    files = {**{rel: "x" for rel in (*submission.NAMED.values(), *submission.REQUIRED)},
             "bonus/vit.ipynb": "{}", "weights/bonus/vit.pt": "w", "src/a2/__init__.py": "",
             "part_4_pretrain.ipynb": "{}",
             # never in the bundle:
             "data/imdb/aclImdb.tar.gz": "d", "data/nab/data/a.csv": "d", "build/fast/results/x.json": "{}",
             ".venv/bin/python": "", "src/a2/__pycache__/x.pyc": "", "report/exports/part_2.html": "",
             "aclImdb_v1.tar.gz": "d"}
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_bundle_has_the_assignment_names_and_no_dataset(tmp_path):
    root = tmp_path / "repo"
    _toy_repo(root)
    path = submission.build("jsmith_akumar", root=root, out_dir=tmp_path / "out")
    assert path.name == "jsmith_akumar_assignment2.zip"
    names = set(submission.contents(path))
    for name in ("jsmith_akumar_assignment2_report.pdf", "jsmith_akumar_part_2.ipynb", "jsmith_akumar_part_4.ipynb",
                 "jsmith_akumar_bonus.zip", "jsmith_akumar_part_4_pretrain.ipynb", "part1_part3_theory.pdf",
                 "dataset_assignment2_part4.txt", "weights/part_4_transformer.pt", "main.py", "src/a2/__init__.py"):
        assert name in names
    assert not [n for n in names if submission.is_dataset(n)]
    bad = ("data/", "build/", ".venv/", "report/exports/")
    assert not [n for n in names if n.startswith(bad) or "__pycache__" in n]
    with zipfile.ZipFile(path) as zf, zf.open("jsmith_akumar_bonus.zip") as inner:
        assert set(zipfile.ZipFile(inner).namelist()) == {"bonus/vit.ipynb", "weights/bonus/vit.pt"}


def test_missing_deliverable_is_named(tmp_path):
    root = tmp_path / "repo"
    _toy_repo(root)
    (root / "assignment2_report.pdf").unlink()
    with pytest.raises(A2Error, match="assignment2_report.pdf missing"):
        submission.build("jsmith_akumar", root=root, out_dir=tmp_path / "out")
    assert not (tmp_path / "out" / "jsmith_akumar_assignment2.zip").exists()


def test_the_repository_itself_holds_no_dataset():
    files = submission.repository_files()
    assert "main.py" in files and "README.md" in files
    assert not [f for f in files if submission.is_dataset(f)]
