"""Locate, download and verify every dataset the repository uses.

Search order for dataset ``name``:

1. ``$A2_DATA_DIR/<name>`` (relative paths are tried against the working directory, then the repo);
2. ``<repo>/data/<name>``;
3. a download from the canonical URL into ``<repo>/data`` (progress bar, checksum, atomic rename).

If all three fail, :class:`DatasetNotFoundError` names the dataset, the URL and ``A2_DATA_DIR``.
Downloads can be switched off with ``A2_NO_DOWNLOAD=1`` (useful offline and in tests).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tqdm.auto import tqdm

from a2.io import atomic_path
from a2.runtime import REPO_ROOT

ENV_VAR = "A2_DATA_DIR"


class DatasetNotFoundError(FileNotFoundError):
    """A dataset is neither on disk nor downloadable; the message says how to fix it."""


class ChecksumError(ValueError):
    """A downloaded or extracted file does not have the expected hash."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how to recognise a complete copy of it.

    ``url`` is fetched; ``checksum`` (``"<algo>:<hex>"``) is checked on the downloaded file.
    An archive (zip / tar.gz) is unpacked and ``archive_subdir`` inside it becomes ``<root>/<name>``;
    a plain file is stored as ``<root>/<name>/<filename>``. ``markers`` must exist in a complete
    copy, and ``verify`` maps relative paths to ``"<algo>:<hex>"`` checked after unpacking.
    """

    name: str
    url: str
    markers: tuple[str, ...]
    checksum: str | None = None
    archive_subdir: str | None = None
    filename: str | None = None
    verify: Mapping[str, str] = field(default_factory=dict)
    fetch: Callable[[Path], None] | None = None  # custom downloader writing into a folder


_NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"
_NAB_WINDOWS_SHA256 = "sha256:1e1fbc4601321aad8d0f8b3784c8134299379f68f6c1f7777565f8ffd57ab6b1"
_CNN_COMMIT = "75bf2ffabd00f0742ecae3109a80e2a1c065fa10"
_CNN_REPO = "cat_dog_food_images_classification_and_googleSVHN"


def _fetch_nltk(target: Path) -> None:
    """nltk's own downloader: stopwords and the English punkt_tab tokenizer."""
    import nltk

    for package in ("stopwords", "punkt_tab"):
        if not nltk.download(package, download_dir=str(target), quiet=True, raise_on_error=True):
            raise OSError(f"nltk.download({package!r}) failed")


REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="nab",
            url=f"https://github.com/numenta/NAB/archive/{_NAB_COMMIT}.zip",
            archive_subdir=f"NAB-{_NAB_COMMIT}",
            markers=("data", "labels/combined_windows.json"),
            verify={"labels/combined_windows.json": _NAB_WINDOWS_SHA256},
        ),
        DatasetSpec(
            name="imdb",
            url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            checksum="md5:7c2ac02c03563afcf9b574c7e56c153a",
            filename="aclImdb.tar.gz",
            markers=("aclImdb.tar.gz|aclImdb",),
        ),
        DatasetSpec(
            name="cnn_dataset",
            url=f"https://github.com/madhusikha/{_CNN_REPO}/archive/{_CNN_COMMIT}.zip",
            archive_subdir=f"{_CNN_REPO}-{_CNN_COMMIT}/cnn_dataset",
            markers=("dogs", "food", "vehicles"),
            verify={"dogs/1.jpg": "sha256:775fe7eb1370492350aa8844484182377c0d381a71e0f11261b587aaaf51121a"},
        ),
        DatasetSpec(
            name="nltk_data",
            url="https://www.nltk.org/nltk_data/ (via nltk.download)",
            markers=("corpora/stopwords", "tokenizers/punkt_tab"),
            fetch=_fetch_nltk,
        ),
    )
}


def _is_complete(folder: Path, spec: DatasetSpec) -> bool:
    """Every marker exists (``a|b`` means either)."""
    return folder.is_dir() and all(
        any((folder / alt).exists() for alt in marker.split("|")) for marker in spec.markers
    )


def candidate_dirs(name: str) -> list[Path]:
    """The folders searched for ``name``, in order (without downloading)."""
    dirs: list[Path] = []
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        roots = [root] if root.is_absolute() else [Path.cwd() / root, REPO_ROOT / root]
        dirs += [r.resolve() / name for r in roots]
    dirs.append(REPO_ROOT / "data" / name)
    return list(dict.fromkeys(dirs))


def locate(
    name: str | DatasetSpec, *, download: bool | None = None, data_root: str | os.PathLike[str] | None = None
) -> Path:
    """Return the folder holding dataset ``name``, downloading it if needed (see module doc)."""
    spec = REGISTRY[name] if isinstance(name, str) and name in REGISTRY else name
    if not isinstance(spec, DatasetSpec):
        raise KeyError(f"Unknown dataset {name!r}; known: {', '.join(REGISTRY)}")
    searched = candidate_dirs(spec.name)
    for folder in searched:
        if _is_complete(folder, spec):
            return folder
    if download is None:
        download = os.environ.get("A2_NO_DOWNLOAD", "0").lower() not in {"1", "true", "yes"}
    root = Path(data_root) if data_root is not None else REPO_ROOT / "data"
    reason = "downloads are disabled (A2_NO_DOWNLOAD=1)"
    if download:
        try:
            return install(spec, root)
        except (OSError, urllib.error.URLError, ChecksumError, zipfile.BadZipFile, tarfile.TarError) as err:
            reason = f"the download failed: {err}"
    looked = "\n".join(f"  - {p}" for p in searched)
    raise DatasetNotFoundError(
        f"Dataset {spec.name!r} was not found and {reason}.\nLooked in:\n{looked}\n"
        f"Fix: download it from {spec.url} into {root / spec.name}, "
        f"or set {ENV_VAR} to a folder that contains '{spec.name}/'."
    )


def file_hash(path: str | os.PathLike[str], algo: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check(path: Path, expected: str) -> None:
    algo, _, hexdigest = expected.partition(":")
    actual = file_hash(path, algo)
    if actual != hexdigest.lower():
        raise ChecksumError(f"{path.name}: {algo} is {actual}, expected {hexdigest}")


def download_file(url: str, dest: str | os.PathLike[str], checksum: str | None = None) -> Path:
    """Stream ``url`` to ``dest`` with a progress bar; verify ``checksum``; rename only when complete."""
    dest = Path(dest)
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=f"download {dest.name}") as bar:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    out.write(chunk)
                    bar.update(len(chunk))
        if checksum:
            _check(tmp, checksum)
    return dest


def _extract(archive: Path, into: Path) -> None:
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(into)
    else:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")


def install(spec: DatasetSpec, root: str | os.PathLike[str]) -> Path:
    """Download ``spec`` into ``root/<name>``; nothing appears there unless every check passed."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    target = root / spec.name
    with tempfile.TemporaryDirectory(prefix=f".{spec.name}.", dir=root) as tmp_dir:
        staging = Path(tmp_dir) / "staging"
        staging.mkdir()
        if spec.fetch is not None:
            spec.fetch(staging)
            folder = staging
        elif spec.filename:
            download_file(spec.url, staging / spec.filename, spec.checksum)
            folder = staging
        else:
            archive = download_file(spec.url, Path(tmp_dir) / "archive", spec.checksum)
            _extract(archive, staging)
            folder = staging / spec.archive_subdir if spec.archive_subdir else staging
        for rel, expected in spec.verify.items():
            if not (folder / rel).is_file():
                raise ChecksumError(f"{spec.name}: expected file {rel} is missing from the download")
            _check(folder / rel, expected)
        if not _is_complete(folder, spec):
            raise ChecksumError(f"{spec.name}: the download lacks {', '.join(spec.markers)}")
        if target.exists():
            shutil.rmtree(target)
        os.replace(folder, target)
    return target
