"""Each way of finding a dataset: env var, ./data, download with pooch (ok, failing, bad checksum), not found;
and the verification of local copies (once, remembered; tampered copies refused with the file named)."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pytest

from a2 import datasets
from a2.datasets import ChecksumError, DatasetNotFoundError, DatasetSpec, locate
from a2.errors import A2Error, DataError

NAB_MIRROR = next((d for d in datasets.candidate_dirs("nab") if d.is_dir()), None)  # before any monkeypatching


@pytest.fixture()
def server(tmp_path):
    """A static HTTP server on 127.0.0.1 serving tmp_path/www."""
    www = tmp_path / "www"
    www.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a, **k: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def make_zip(path, files: dict[str, bytes]) -> str:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    path.write_bytes(buf.getvalue())
    return "sha256:" + hashlib.sha256(buf.getvalue()).hexdigest()


def toy_spec(url: str, checksum: str | None = None, **kw) -> DatasetSpec:
    return DatasetSpec(name="toy", url=url, checksum=checksum, archive_subdir="toy-main",
                       markers=("data/a.csv",), **kw)


@pytest.fixture()
def isolated(tmp_path, monkeypatch):
    """No A2_DATA_DIR, and the repo's ./data replaced by an empty temp folder."""
    monkeypatch.delenv("A2_DATA_DIR", raising=False)
    monkeypatch.delenv("A2_NO_DOWNLOAD", raising=False)
    monkeypatch.delenv("A2_VERIFY_DATA", raising=False)
    monkeypatch.setenv("A2_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "DOWNLOAD_RETRIES", 0)  # pooch would wait 1 s + 2 s before giving up
    monkeypatch.setattr(datasets, "_PASSED", set())  # what this process already verified
    fake_repo = tmp_path / "repo"
    (fake_repo / "data").mkdir(parents=True)
    monkeypatch.setattr(datasets, "REPO_ROOT", fake_repo)
    return fake_repo


def test_env_var_wins(tmp_path, isolated, monkeypatch):
    (tmp_path / "mirror" / "toy" / "data").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "data" / "a.csv").write_text("x")
    (isolated / "data" / "toy" / "data").mkdir(parents=True)
    (isolated / "data" / "toy" / "data" / "a.csv").write_text("x")
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "mirror"))
    assert locate(toy_spec("http://unused")) == (tmp_path / "mirror" / "toy").resolve()


def test_relative_env_var_resolves_against_repo(isolated, monkeypatch, tmp_path):
    (isolated / "mirror" / "toy" / "data").mkdir(parents=True)
    (isolated / "mirror" / "toy" / "data" / "a.csv").write_text("x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("A2_DATA_DIR", "mirror")
    assert locate(toy_spec("http://unused")) == (isolated / "mirror" / "toy").resolve()


def test_local_data_folder(isolated):
    (isolated / "data" / "toy" / "data").mkdir(parents=True)
    (isolated / "data" / "toy" / "data" / "a.csv").write_text("x")
    assert locate(toy_spec("http://unused"), download=False) == isolated / "data" / "toy"


def test_download_extracts_and_verifies(server, isolated):
    www, base = server
    checksum = make_zip(www / "toy.zip", {"toy-main/data/a.csv": b"t,v\n", "toy-main/README": b"hi"})
    spec = toy_spec(f"{base}/toy.zip", checksum, verify={"data/a.csv": "md5:" + hashlib.md5(b"t,v\n").hexdigest()})
    path = locate(spec)
    assert path == isolated / "data" / "toy"
    assert (path / "data" / "a.csv").read_bytes() == b"t,v\n"
    assert sorted(p.name for p in (isolated / "data").iterdir()) == ["toy"]  # no leftovers


def test_download_plain_file(server, isolated):
    www, base = server
    (www / "f.tar.gz").write_bytes(b"payload")
    spec = DatasetSpec(name="toy", url=f"{base}/f.tar.gz", filename="f.tar.gz", markers=("f.tar.gz",),
                       checksum="sha256:" + hashlib.sha256(b"payload").hexdigest())
    assert (locate(spec) / "f.tar.gz").read_bytes() == b"payload"


def test_checksum_mismatch_leaves_no_partial_file(server, isolated):
    www, base = server
    make_zip(www / "toy.zip", {"toy-main/data/a.csv": b"t,v\n"})
    with pytest.raises(DatasetNotFoundError, match="does not have the published hash"):
        locate(toy_spec(f"{base}/toy.zip", "sha256:" + "0" * 64))
    assert list((isolated / "data").iterdir()) == []


def test_failed_download_names_dataset_url_and_variable(server, isolated):
    _, base = server
    with pytest.raises(DatasetNotFoundError) as err:
        locate(toy_spec(f"{base}/missing.zip"))
    msg = str(err.value)
    assert "'toy'" in msg and f"{base}/missing.zip" in msg and "A2_DATA_DIR" in msg and "404" in msg
    assert list((isolated / "data").iterdir()) == []


def test_download_disabled_message(isolated, monkeypatch):
    monkeypatch.setenv("A2_NO_DOWNLOAD", "1")
    with pytest.raises(DatasetNotFoundError, match="downloads are disabled"):
        locate("nab")


def test_registry_urls_are_canonical():
    assert datasets.REGISTRY["nab"].url.startswith("https://github.com/numenta/NAB/archive/ea702d7")
    assert datasets.REGISTRY["imdb"].url == "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
    with pytest.raises(KeyError, match=r"unknown dataset .nope. \(choose from nab"):
        locate("nope")


def test_no_network_leaves_no_empty_data_folder(isolated):
    (isolated / "data").rmdir()
    with pytest.raises(DatasetNotFoundError) as err:
        locate(toy_spec("http://127.0.0.1:9/toy.zip"))  # port 9 (discard): connection refused
    assert "'toy'" in str(err.value) and "http://127.0.0.1:9/toy.zip" in str(err.value)
    assert not (isolated / "data").exists()


def test_garbage_archive_is_a_clear_error(server, isolated):
    www, base = server
    (www / "toy.zip").write_bytes(b"this is not a zip file")
    with pytest.raises(DatasetNotFoundError, match="download failed"):
        locate(toy_spec(f"{base}/toy.zip"))
    assert list((isolated / "data").iterdir()) == []


def test_env_var_pointing_at_a_file(isolated, monkeypatch, tmp_path):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "afile"))
    with pytest.raises(DataError, match="is a file, not a folder"):
        locate("nab", download=False)


def test_bad_yes_no_variable_is_an_error(isolated, monkeypatch):
    monkeypatch.setenv("A2_NO_DOWNLOAD", "perhaps")
    with pytest.raises(A2Error, match="A2_NO_DOWNLOAD='perhaps'"):
        locate(toy_spec("http://unused"))


# ---- verification of local copies ------------------------------------------------------------

def toy_verified(tmp_path, monkeypatch, content=b"t,v\n"):
    """A local copy of 'toy' under A2_DATA_DIR and a spec whose published hash is that of b"t,v\n"."""
    (tmp_path / "mirror" / "toy" / "data").mkdir(parents=True)
    (tmp_path / "mirror" / "toy" / "data" / "a.csv").write_bytes(content)
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "mirror"))
    return toy_spec("http://unused", verify={"data/a.csv": "sha256:" + hashlib.sha256(b"t,v\n").hexdigest()})


def test_local_copy_is_verified_once_and_remembered(isolated, tmp_path, monkeypatch):
    spec = toy_verified(tmp_path, monkeypatch)
    calls = []
    real = datasets.verify
    monkeypatch.setattr(datasets, "verify", lambda *a: calls.append(a) or real(*a))
    assert locate(spec) == locate(spec)
    assert len(calls) == 1
    assert (tmp_path / "cache" / "verified_datasets.json").is_file()


def test_tampered_local_copy_is_refused_with_the_file_named(isolated, tmp_path, monkeypatch):
    spec = toy_verified(tmp_path, monkeypatch, content=b"t,v\n1,2\n")
    with pytest.raises(ChecksumError, match=r"a\.csv is not the published file.*A2_VERIFY_DATA=0"):
        locate(spec)
    monkeypatch.setenv("A2_VERIFY_DATA", "0")  # changed on purpose: the user says so explicitly
    assert locate(spec).name == "toy"


def test_change_after_verification_is_noticed(isolated, tmp_path, monkeypatch):
    spec = toy_verified(tmp_path, monkeypatch)
    locate(spec)
    csv = tmp_path / "mirror" / "toy" / "data" / "a.csv"
    csv.write_bytes(b"t,w\n")  # same size; the stamp is keyed by size *and* mtime
    monkeypatch.setattr(datasets, "_PASSED", set())  # a new run
    with pytest.raises(ChecksumError):
        locate(spec)


def test_incomplete_copy_is_reported_not_skipped(isolated, tmp_path, monkeypatch):
    (tmp_path / "mirror" / "toy" / "other").mkdir(parents=True)
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "mirror"))
    with pytest.raises(DataError, match=r"incomplete: it lacks data/a\.csv"):
        locate(toy_spec("http://unused"))


def copy_nab(tmp_path, monkeypatch):
    """The NAB labels and config (not the 58 series) in a writable folder, hashes not compared."""
    import shutil

    src = NAB_MIRROR
    dst = tmp_path / "m" / "nab"
    (dst / "data").mkdir(parents=True)
    shutil.copytree(src / "labels", dst / "labels", ignore=shutil.ignore_patterns("raw"))
    shutil.copytree(src / "config", dst / "config")
    for p in dst.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    return dst


@pytest.mark.parametrize("damage, message", [
    (lambda d: __import__("shutil").rmtree(d / "labels"), "lacks labels/combined_windows.json"),
    (lambda d: (d / "labels" / "combined_windows.json").write_text('{"a.csv": [["2014-'), "not valid JSON"),
    (lambda d: (d / "config" / "profiles.json").write_text('{"standard": {"CostMatrix": {"tpWeight": 1}}}'),
     "profile 'standard' lacks a finite, non-negative CostMatrix fnWeight"),
])
def test_damaged_nab_copy_names_the_problem(isolated, tmp_path, monkeypatch, damage, message):
    if NAB_MIRROR is None:
        pytest.skip("NAB mirror not available; set A2_DATA_DIR")
    dst = copy_nab(tmp_path, monkeypatch)
    damage(dst)
    monkeypatch.setenv("A2_DATA_DIR", str(dst.parent))
    with pytest.raises(DataError, match=message):
        locate("nab", download=False)


def test_imdb_tarball_with_one_review_is_refused(isolated, tmp_path, monkeypatch):
    import io as _io
    import tarfile

    folder = tmp_path / "m" / "imdb"
    folder.mkdir(parents=True)
    with tarfile.open(folder / "aclImdb.tar.gz", "w:gz") as tf:
        data = b"A fine film."
        info = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
        info.size = len(data)
        tf.addfile(info, _io.BytesIO(data))
    monkeypatch.setenv("A2_DATA_DIR", str(folder.parent))
    with pytest.raises(ChecksumError, match=r"aclImdb\.tar\.gz is not the published file"):
        locate("imdb", download=False)


def test_tree_digest_changes_with_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "1.jpg").write_bytes(b"x")
    before = datasets.tree_digest(tmp_path, "*/*.jpg")
    (tmp_path / "a" / "1.jpg").write_bytes(b"y")
    assert before[0] == 1 and datasets.tree_digest(tmp_path, "*/*.jpg") != before


@pytest.mark.parametrize("name", ["nab", "imdb", "nltk_data", "cnn_dataset"])
def test_mirror_passes_verification(name, tmp_path, monkeypatch):
    """The published hashes in REGISTRY match the course mirror (fails if a constant is wrong)."""
    folder = next((d for d in datasets.candidate_dirs(name) if d.is_dir()), None)
    if folder is None:
        pytest.skip(f"{name} not available; set A2_DATA_DIR")
    monkeypatch.delenv("A2_VERIFY_DATA", raising=False)
    datasets.verify(folder, datasets.REGISTRY[name])


def test_download_is_retried_after_a_server_error(tmp_path, isolated, monkeypatch):
    """pooch retries: the first request gets a 503, the second the file."""
    www = tmp_path / "flaky"
    www.mkdir()
    checksum = make_zip(www / "toy.zip", {"toy-main/data/a.csv": b"t,v\n"})
    hits = []

    class Flaky(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            if len(hits) == 1:
                self.send_error(503, "busy")
            else:
                super().do_GET()

        def log_message(self, *a):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Flaky, directory=str(www)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(datasets, "DOWNLOAD_RETRIES", 1)
    try:
        path = locate(toy_spec(f"http://127.0.0.1:{httpd.server_address[1]}/toy.zip", checksum))
    finally:
        httpd.shutdown()
    assert len(hits) == 2 and (path / "data" / "a.csv").read_bytes() == b"t,v\n"


def test_unreadable_copy_is_a_clear_error(isolated, tmp_path, monkeypatch):
    spec = toy_verified(tmp_path, monkeypatch)

    def denied(*a, **k):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(datasets, "file_hash", denied)  # root reads everything, so simulate chmod 000
    with pytest.raises(DataError, match=r"cannot read the toy copy at .*: Permission denied \(make it readable"):
        locate(spec)


def test_structure_is_checked_even_with_a2_verify_data_0(isolated, tmp_path, monkeypatch):
    """A2_VERIFY_DATA=0 skips content hashes only: a reversed window or a lost corpus file is still refused,
    and the hint does not suggest the setting that would not help."""
    if NAB_MIRROR is None:
        pytest.skip("NAB mirror not available; set A2_DATA_DIR")
    import json
    import shutil

    dst = copy_nab(tmp_path, monkeypatch)
    dst.joinpath("data").rmdir()
    shutil.copytree(NAB_MIRROR / "data", dst / "data")
    monkeypatch.setenv("A2_DATA_DIR", str(dst.parent))
    monkeypatch.setenv("A2_VERIFY_DATA", "0")
    path = dst / "labels" / "combined_windows.json"
    windows = json.loads(path.read_text())
    name = next(k for k, v in windows.items() if v)
    path.write_text(json.dumps({**windows, name: [windows[name][0][::-1], *windows[name][1:]]}))
    with pytest.raises(DataError, match="ends before it starts") as err:
        locate("nab", download=False)
    assert "skips only the checksums, never this check" in str(err.value)
    path.write_text(json.dumps(windows))
    (dst / "data" / name).unlink()
    with pytest.raises(DataError, match=rf"labels {name}, but data/{name} is missing"):
        locate("nab", download=False)


def test_an_extracted_imdb_copy_changed_on_purpose_passes_with_a2_verify_data_0(isolated, tmp_path, monkeypatch):
    """Only the review count is structure; a changed review is content, accepted when the user says so."""
    reviews = [f"aclImdb/{split}/{label}/{i}_7.txt" for split in ("train", "test") for label in ("pos", "neg")
               for i in range(2)]
    for rel in reviews:
        (tmp_path / "m" / "imdb" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "m" / "imdb" / rel).write_text("a fine film")
    monkeypatch.setattr(datasets, "_IMDB_REVIEWS", len(reviews))
    monkeypatch.setattr(datasets, "_IMDB_REVIEWS_DIGEST", datasets.tree_digest(
        tmp_path / "m" / "imdb", "aclImdb/t*/[pn][oe]*/*_*.txt")[1])
    monkeypatch.setenv("A2_DATA_DIR", str(tmp_path / "m"))
    (tmp_path / "m" / "imdb" / reviews[0]).write_text("a changed review")
    with pytest.raises(ChecksumError, match="A2_VERIFY_DATA=0"):
        locate("imdb", download=False)
    monkeypatch.setenv("A2_VERIFY_DATA", "0")
    assert locate("imdb", download=False) == tmp_path / "m" / "imdb"
    (tmp_path / "m" / "imdb" / reviews[1]).unlink()
    monkeypatch.setattr(datasets, "_PASSED", set())
    with pytest.raises(DataError, match="holds 7 files matching .* expected 8"):
        locate("imdb", download=False)
