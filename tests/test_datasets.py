"""Each way of finding a dataset: env var, ./data, download (ok, failing, bad checksum), not found."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from functools import partial

import pytest

from a2 import datasets
from a2.datasets import DatasetNotFoundError, DatasetSpec, locate


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
    with pytest.raises(DatasetNotFoundError, match="sha256 is"):
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
    with pytest.raises(KeyError, match="Unknown dataset"):
        locate("nope")
