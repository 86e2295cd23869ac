"""Locate, download and verify every dataset the repository uses.

Search order for dataset ``name``:

1. ``$A2_DATA_DIR/<name>`` (relative paths are tried against the working directory, then the repo);
2. ``<repo>/data/<name>``;
3. a download from the canonical URL into ``<repo>/data`` with :mod:`pooch` (progress bar, hash
   check, retries, unzip), renamed into place only when every check passed.

A copy found on disk is verified once against the published content (file hashes, counts, keys);
the verification is remembered in ``<cache>/verified_datasets.json``, keyed by the folder and the
size and modification time of its files, so later runs only ``stat`` the files. A copy that fails
is refused with an error that names the file; ``A2_VERIFY_DATA=0`` skips the hash comparison for a
copy changed on purpose (the structural checks still run).

If nothing works, :class:`DatasetNotFoundError` names the dataset, the URL and ``A2_DATA_DIR``.
Downloads can be switched off with ``A2_NO_DOWNLOAD=1`` (useful offline and in tests).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import math
import os
import shutil
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pooch
import requests

from a2.errors import A2Error, DataError
from a2.io import file_hash, read_json, write_json
from a2.runtime import REPO_ROOT, cache_dir, env_flag

ENV_VAR = "A2_DATA_DIR"
DOWNLOAD_RETRIES = 2  # pooch waits 1 s, then 2 s, between attempts
_STAMPS = "verified_datasets.json"
_STAMP_VERSION = 1  # bump when a check changes, so that every copy is verified again


class DatasetNotFoundError(DataError, FileNotFoundError):
    """A dataset is neither on disk nor downloadable; the message says how to fix it."""


class UnknownDatasetError(DataError, KeyError):
    """A dataset name that is not in :data:`REGISTRY` (a KeyError too, for callers that catch that)."""

    __str__ = A2Error.__str__  # KeyError would show the message in quotes


class ChecksumError(DataError):
    """A downloaded or local file does not have the expected content; the message names it."""


@dataclass(frozen=True)
class DatasetSpec:
    """Where a dataset comes from and how to recognise a complete, genuine copy of it.

    ``url`` is fetched; ``checksum`` (``"<algo>:<hex>"``) is checked on the downloaded file.
    An archive (zip / tar.gz) is unpacked and ``archive_subdir`` inside it becomes ``<root>/<name>``;
    a plain file is stored as ``<root>/<name>/<filename>``. ``markers`` must exist in a complete
    copy (``a|b``: either). ``verify`` maps relative paths to accepted ``"<algo>:<hex>"`` hashes;
    ``trees`` maps a glob (relative to the copy) to ``(file count, tree digest)`` (see
    :func:`tree_digest`); ``check`` is a structural check raising :class:`DataError`.
    """

    name: str
    url: str
    markers: tuple[str, ...]
    checksum: str | None = None
    archive_subdir: str | None = None
    filename: str | None = None
    verify: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    trees: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    check: Callable[[Path], None] | None = None
    fetch: Callable[[Path], None] | None = None  # custom downloader writing into a folder


def tree_digest(folder: Path, pattern: str) -> tuple[int, str]:
    """``(count, sha256)`` over the files matching ``pattern``: their sorted relative paths and contents."""
    digest = hashlib.sha256()
    files = sorted((p for p in folder.glob(pattern) if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    for path in files:
        digest.update(f"{path.relative_to(folder).as_posix()}\0{file_hash(path)}\n".encode())
    return len(files), digest.hexdigest()


_NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"
_NAB_WINDOWS_SHA256 = "sha256:1e1fbc4601321aad8d0f8b3784c8134299379f68f6c1f7777565f8ffd57ab6b1"
_NAB_PROFILES_SHA256 = "sha256:fc018b9a29ae900ab22de167baf06c36f2be528a5a3a1406d6775e238aeb9565"
_NAB_PROFILES = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
_NAB_WEIGHTS = ("tpWeight", "fnWeight", "fpWeight", "tnWeight")
_CNN_COMMIT = "75bf2ffabd00f0742ecae3109a80e2a1c065fa10"
_CNN_REPO = "cat_dog_food_images_classification_and_googleSVHN"
_IMDB_REVIEWS = 50_000
_IMDB_REVIEWS_DIGEST = "4a887802878b183a84b2409fb3403b9648ce849ba6c6f28b5ec092e590fbd8d5"  # of the 50,000 reviews
_IMDB_TARBALLS = (
    "md5:7c2ac02c03563afcf9b574c7e56c153a",  # the official aclImdb_v1.tar.gz
    "sha256:f36ec176e3e39d904adf557e938cc5f7709dc0d2ad2053ff062966d30d98459e",  # the course mirror's repack
)


def _more(items: list[str]) -> str:
    return f" (and {len(items) - 1} more)" if len(items) > 1 else ""


def _timestamp(text: object) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None


def check_nab_windows(raw: object, path: Path, files: Iterable[str] | None = None) -> None:
    """NAB's ``combined_windows.json`` is ``{file: [[start, end], ...]}`` with ``start <= end``, windows
    in time order and disjoint, and (given ``files``) exactly one entry per corpus file.

    Structural, so it runs whatever ``A2_VERIFY_DATA`` says: a reversed, duplicated or dropped window
    would otherwise move the score silently.
    """
    fix = _fix("nab", content=False)
    if not isinstance(raw, dict):
        raise DataError(f"{path} is not {{file: [[start, end], ...]}} (it holds a {type(raw).__name__})", fix)
    n_windows = 0
    for name, windows in raw.items():
        if not isinstance(windows, list) or not all(isinstance(w, list) and len(w) == 2 for w in windows):
            raise DataError(f"{path}: the entry of {name} is not a list of [start, end] pairs", fix)
        previous_end = None
        for start_text, end_text in windows:
            start, end = _timestamp(start_text), _timestamp(end_text)
            if start is None or end is None:
                raise DataError(f"{path}: malformed window [{start_text!r}, {end_text!r}] of {name}: not two "
                                f"'YYYY-MM-DD HH:MM:SS' timestamps", fix)
            if start > end:
                raise DataError(f"{path}: window [{start_text}, {end_text}] of {name} ends before it starts", fix)
            if previous_end is not None and start <= previous_end:
                raise DataError(f"{path}: window [{start_text}, {end_text}] of {name} overlaps or precedes the "
                                f"window before it (windows must be disjoint and in time order)", fix)
            previous_end = end
        n_windows += len(windows)
    if not n_windows:
        raise DataError(f"{path} labels no anomaly window at all, so no NAB score can be normalised", fix)
    if files is not None:
        files = set(files)
        no_file, no_entry = sorted(set(raw) - files), sorted(files - set(raw))
        if no_file:
            raise DataError(f"{path} labels {no_file[0]}{_more(no_file)}, but data/{no_file[0]} is missing", fix)
        if no_entry:
            raise DataError(f"{path} has no entry for data/{no_entry[0]}{_more(no_entry)}; every corpus file needs "
                            f"one, [] when it has no anomaly", fix)


def check_nab_profiles(raw: object, path: Path) -> None:
    """``config/profiles.json`` holds the three NAB profiles, each with finite, non-negative weights and
    ``tpWeight + fnWeight > 0`` (the normalisation divides by it)."""
    fix = _fix("nab", content=False)
    if not isinstance(raw, dict):
        raise DataError(f"{path} is missing or not a JSON object", fix)
    for name in _NAB_PROFILES:
        costs = raw.get(name, {}).get("CostMatrix", {}) if isinstance(raw.get(name), dict) else {}
        costs = costs if isinstance(costs, dict) else {}
        bad = [k for k in _NAB_WEIGHTS if not (isinstance(costs.get(k), (int, float)) and not isinstance(
            costs.get(k), bool) and math.isfinite(costs[k]) and costs[k] >= 0)]
        if bad:
            raise DataError(f"{path}: profile {name!r} lacks a finite, non-negative CostMatrix {', '.join(bad)}",
                            fix)
        if costs["tpWeight"] + costs["fnWeight"] <= 0:
            raise DataError(f"{path}: profile {name!r} has tpWeight = fnWeight = 0, so its score cannot be "
                            f"normalised", fix)


def nab_files(folder: Path) -> list[str]:
    """The corpus files of a NAB copy as sorted ``category/name.csv`` strings."""
    data = folder / "data"
    return sorted(p.relative_to(data).as_posix() for p in data.glob("*/*.csv"))


def read_dataset_json(path: Path, name: str) -> object:
    """A JSON file of dataset ``name``; unreadable or malformed: :class:`DataError` saying how to get a good copy."""
    try:
        return read_json(path)
    except DataError as err:
        raise DataError(err.what, _fix(name, content=False)) from None


def _check_nab(folder: Path) -> None:
    """Windows and profiles well formed, and one window entry per data file (see the two checks)."""
    windows, profiles = folder / "labels" / "combined_windows.json", folder / "config" / "profiles.json"
    check_nab_profiles(read_dataset_json(profiles, "nab") if profiles.is_file() else None, profiles)
    check_nab_windows(read_dataset_json(windows, "nab"), windows, nab_files(folder))


def _check_imdb(folder: Path) -> None:
    """The tarball has a known hash; an extracted ``aclImdb/`` holds the 50,000 official reviews."""
    tarball = folder / "aclImdb.tar.gz"
    if tarball.is_file():
        with open(tarball, "rb") as fh:
            if fh.read(2) != b"\x1f\x8b":
                raise DataError(f"{tarball} is not a gzip archive (empty, truncated at the start, or another "
                                f"file)", _fix("imdb", content=False))
        if env_flag("A2_VERIFY_DATA", True):
            _check_hash(tarball, _IMDB_TARBALLS, "imdb")
        return
    _check_tree(folder, "aclImdb/t*/[pn][oe]*/*_*.txt", (_IMDB_REVIEWS, _IMDB_REVIEWS_DIGEST), "imdb",
                content=env_flag("A2_VERIFY_DATA", True))


def _fetch_nltk(target: Path) -> None:
    """nltk's own downloader: stopwords and the English punkt_tab tokenizer."""
    import nltk  # heavy, and needed only for this download

    for package in ("stopwords", "punkt_tab"):
        chatter = io.StringIO()  # nltk prints "[nltk_data] Error loading ..." even when quiet; the error says it
        ok = nltk.download(package, download_dir=str(target), quiet=True, raise_on_error=True,
                           print_error_to=chatter)
        if not ok:
            raise OSError(f"nltk.download({package!r}) failed")


REGISTRY: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="nab",
            url=f"https://github.com/numenta/NAB/archive/{_NAB_COMMIT}.zip",
            archive_subdir=f"NAB-{_NAB_COMMIT}",
            markers=("data", "labels/combined_windows.json", "config/profiles.json"),
            verify={"labels/combined_windows.json": _NAB_WINDOWS_SHA256, "config/profiles.json": _NAB_PROFILES_SHA256},
            trees={"data/*/*.csv": (58, "5f7dc841a2e9befca4a1a0542ea6a557334b4d33006b5f90d0ead064e2d13124")},
            check=_check_nab,
        ),
        DatasetSpec(
            name="imdb",
            url="https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
            checksum=_IMDB_TARBALLS[0],
            filename="aclImdb.tar.gz",
            markers=("aclImdb.tar.gz|aclImdb",),
            check=_check_imdb,
        ),
        DatasetSpec(
            name="cnn_dataset",
            url=f"https://github.com/madhusikha/{_CNN_REPO}/archive/{_CNN_COMMIT}.zip",
            archive_subdir=f"{_CNN_REPO}-{_CNN_COMMIT}/cnn_dataset",
            markers=("dogs", "food", "vehicles"),
            trees={"*/*.jpg": (30_000, "99357b490e6087abfa160b68dfe0f5e27effca55a7d14f6656c0cfe89a02e88f")},
        ),
        DatasetSpec(
            name="nltk_data",
            url="https://www.nltk.org/nltk_data/ (via nltk.download)",
            markers=("corpora/stopwords/english", "tokenizers/punkt_tab/english"),
            verify={"corpora/stopwords/english": (
                "sha256:019f104ba2ed07436d05f9cdd3383034ad66014edc27fc651f837e1a038b6451",  # classic list, 179 words
                "sha256:f6d005956f407dbc6ea32e5ff0c7e8e6f71488d3239b9023efdc7fc139d6375b",  # nltk.download since 2025
            )},
            fetch=_fetch_nltk,
        ),
    )
}


def _fix(name: str, content: bool = True) -> str:
    """How to repair a bad copy; ``content=False`` for a broken structure, which A2_VERIFY_DATA=0 does not skip."""
    spec = REGISTRY.get(name)
    where = f"from {spec.url}" if spec else "again"
    fix = f"delete that copy so that it is downloaded again {where}, or set {ENV_VAR} to a folder holding a good copy"
    if content:
        return f"{fix}; if you changed the data on purpose, set A2_VERIFY_DATA=0"
    return f"{fix}; A2_VERIFY_DATA=0 skips only the checksums, never this check"


def _missing_markers(folder: Path, spec: DatasetSpec) -> list[str]:
    return [m for m in spec.markers if not any((folder / alt).exists() for alt in m.split("|"))]


def _is_complete(folder: Path, spec: DatasetSpec) -> bool:
    """Every marker exists (``a|b`` means either)."""
    return folder.is_dir() and not _missing_markers(folder, spec)


def _check_hash(path: Path, expected: str | Iterable[str], name: str) -> None:
    accepted = (expected,) if isinstance(expected, str) else tuple(expected)
    algos = {e.partition(":")[0] for e in accepted}
    actual = {algo: file_hash(path, algo) for algo in algos}
    if not any(actual[a] == h.lower() for a, _, h in (e.partition(":") for e in accepted)):
        got = ", ".join(f"{a} {h}" for a, h in actual.items())
        raise ChecksumError(f"{path} is not the published file ({got}; expected {' or '.join(accepted)}); "
                            f"it may be truncated or replaced", _fix(name))


def _check_tree(folder: Path, pattern: str, expected: tuple[int, str], name: str, content: bool = True) -> None:
    """The file count always (structure); the digest of their contents when ``content``, or, for a small tree,
    to say once that it differs (:func:`_note_changed`)."""
    count = sum(1 for p in folder.glob(pattern) if p.is_file())
    if count != expected[0]:
        raise DataError(f"{folder} holds {count} files matching {pattern}, expected {expected[0]}",
                        _fix(name, content=False))
    if (content or count <= _SMALL_TREE) and tree_digest(folder, pattern)[1] != expected[1]:
        if not content:
            _note_changed(f"the files matching {pattern} under {folder} differ from the published ones")
            return
        raise ChecksumError(f"{folder}: the files matching {pattern} differ from the published ones (same count, "
                            f"other content: a file was changed or replaced)", _fix(name))


def verify(folder: Path, spec: DatasetSpec) -> None:
    """Structural checks, then hashes (unless ``A2_VERIFY_DATA=0``); :class:`DataError` names the culprit."""
    missing = _missing_markers(folder, spec)
    if missing:
        raise DataError(f"the {spec.name} copy at {folder} is incomplete: it lacks {', '.join(missing)}",
                        _fix(spec.name, content=False))
    if spec.check is not None:
        spec.check(folder)
    content = env_flag("A2_VERIFY_DATA", True)
    for pattern, expected in spec.trees.items():  # the count is structure: checked whatever A2_VERIFY_DATA says
        _check_tree(folder, pattern, expected, spec.name, content)
    for rel, expected in spec.verify.items():
        try:
            _check_hash(folder / rel, expected, spec.name)
        except ChecksumError:
            if content:
                raise
            _note_changed(f"{folder / rel} differs from the published file")


_NOTED: set[str] = set()
_SMALL_TREE = 1_000  # files: hashed even with A2_VERIFY_DATA=0, to say that they were changed


def _note_changed(what: str) -> None:
    """With A2_VERIFY_DATA=0 a changed file is accepted, but said once, so that no number is silently off."""
    if what not in _NOTED:
        _NOTED.add(what)
        print(f"note: {what}; A2_VERIFY_DATA=0 accepts that, so results are not comparable with published ones",
              file=sys.stderr, flush=True)


def _signature(folder: Path) -> str:
    """Hash of every file's path, size and mtime: changes whenever a file is edited, added or removed."""
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            st = os.stat(os.path.join(dirpath, name))
            digest.update(f"{os.path.relpath(os.path.join(dirpath, name), folder)}|{st.st_size}|{st.st_mtime_ns}\n"
                          .encode())
    return digest.hexdigest()


_PASSED: set[str] = set()  # folders verified (or found stamped) in this process: not even stat'ed again


def verify_once(folder: Path, spec: DatasetSpec) -> None:
    """:func:`verify`, skipped when the stamp file says this folder, unchanged, already passed."""
    stamps_path = cache_dir() / _STAMPS
    key = f"{spec.name}|{folder.resolve()}"
    content = env_flag("A2_VERIFY_DATA", True)  # read first: a bad value is an error even for a stamped copy
    if key in _PASSED:
        return
    signature = f"v{_STAMP_VERSION}|{_signature(folder)}"
    try:
        stamps = read_json(stamps_path) if stamps_path.is_file() else {}
    except DataError:
        stamps = {}  # a damaged stamp file only costs one more verification
    if not isinstance(stamps, dict):
        stamps = {}
    if stamps.get(key) == signature:
        _PASSED.add(key)
        return
    if f"{key}|structure" in _PASSED and not content:
        return
    verify(folder, spec)
    if not content:
        _PASSED.add(f"{key}|structure")  # checked once per process; only a full verification is stamped
        return
    _PASSED.add(key)
    stamps[key] = signature
    with contextlib.suppress(OSError):  # a read-only cache folder only costs a verification per run
        write_json(stamps_path, stamps)


def _env_roots() -> list[Path]:
    env = os.environ.get(ENV_VAR)
    if not env:
        return []
    root = Path(env).expanduser()
    roots = [root] if root.is_absolute() else [Path.cwd() / root, REPO_ROOT / root]
    for r in roots:
        if r.exists() and not r.is_dir():
            raise DataError(f"{ENV_VAR}={env} is a file, not a folder",
                            f"set {ENV_VAR} to the folder that holds {', '.join(f'{n}/' for n in REGISTRY)}")
    return [r.resolve() for r in roots]


def candidate_dirs(name: str) -> list[Path]:
    """The folders searched for ``name``, in order (without downloading)."""
    dirs = [r / name for r in _env_roots()]
    dirs.append(REPO_ROOT / "data" / name)
    return list(dict.fromkeys(dirs))


def locate(
    name: str | DatasetSpec, *, download: bool | None = None, data_root: str | os.PathLike[str] | None = None
) -> Path:
    """Return the folder holding dataset ``name``, verified, downloading it if needed (see module doc)."""
    spec = REGISTRY[name] if isinstance(name, str) and name in REGISTRY else name
    if not isinstance(spec, DatasetSpec):
        raise UnknownDatasetError(f"unknown dataset {name!r}", f"choose from {', '.join(REGISTRY)}")
    searched = candidate_dirs(spec.name)
    for folder in searched:
        try:
            if folder.is_dir() and any(folder.iterdir()):
                verify_once(folder, spec)  # a copy that exists but is bad is reported, never skipped silently
                return folder
        except OSError as err:  # e.g. a folder or file the user may not read
            raise DataError(f"cannot read the {spec.name} copy at {folder}: {err.strerror or err}",
                            f"make it readable (chmod -R u+rX {folder}) or set {ENV_VAR} to another copy") from None
        if folder.exists() and not folder.is_dir():
            raise DataError(f"{folder} is a file, but dataset {spec.name!r} must be a folder", _fix(spec.name))
    if download is None:
        download = not env_flag("A2_NO_DOWNLOAD")
    root = Path(data_root) if data_root is not None else REPO_ROOT / "data"
    reason = "downloads are disabled (A2_NO_DOWNLOAD=1)"
    if download:
        try:
            return install(spec, root)
        except ChecksumError as err:
            reason = f"the download is not the published file: {err.what}"
        except (OSError, requests.RequestException, ValueError, zipfile.BadZipFile, tarfile.TarError,
                EOFError) as err:
            reason = f"the download failed: {err}"
    looked = "; ".join(str(p) for p in searched)
    raise DatasetNotFoundError(
        f"dataset {spec.name!r} was not found and {reason}; looked in {looked}",
        f"download it from {spec.url} into {root / spec.name}, or set {ENV_VAR} to a folder that contains "
        f"'{spec.name}/'",
    )


class _SafeUntar(pooch.Untar):
    """pooch's Untar with tarfile's "data" filter on every Python that has it (pooch uses it from 3.12 only)."""

    def _extract_file(self, fname, extract_dir):
        with tarfile.open(fname, "r") as tf:
            tf.extractall(path=extract_dir, filter="data")


def _fetch_file(url: str, folder: Path, fname: str, checksum: str | None, unpack: bool = False) -> Path:
    """Download ``url`` to ``folder/fname`` with pooch (hash, retries, progress bar); unpack to ``folder/unpacked``."""
    processor = None
    if unpack:
        is_zip = url.lower().endswith(".zip")
        processor = (pooch.Unzip if is_zip else _SafeUntar)(extract_dir="unpacked")
    fetcher = pooch.create(path=folder, base_url="", registry={fname: checksum}, urls={fname: url},
                           retry_if_failed=DOWNLOAD_RETRIES)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)  # the progress bar says enough; no "SHA256 hash of downloaded file" lines
    try:
        fetcher.fetch(fname, processor=processor, downloader=pooch.HTTPDownloader(progressbar=True, timeout=60))
    except ValueError as err:
        if "hash" not in str(err):
            raise
        raise ChecksumError(f"the file downloaded from {url} does not have the published hash {checksum} "
                            f"(pooch deleted it)", "retry later; if it keeps failing, download it by hand") from None
    finally:
        logger.setLevel(level)
    return folder / "unpacked" if unpack else folder / fname


def install(spec: DatasetSpec, root: str | os.PathLike[str]) -> Path:
    """Download ``spec`` into ``root/<name>``; nothing appears there unless every check passed."""
    root = Path(root)
    created = not root.exists()
    root.mkdir(parents=True, exist_ok=True)
    target = root / spec.name
    try:
        with tempfile.TemporaryDirectory(prefix=f".{spec.name}.", dir=root) as tmp_dir:
            staging = Path(tmp_dir) / "staging"
            staging.mkdir()
            if spec.fetch is not None:
                spec.fetch(staging)
                folder = staging
            elif spec.filename:
                _fetch_file(spec.url, staging, spec.filename, spec.checksum)
                folder = staging
            else:
                unpacked = _fetch_file(spec.url, Path(tmp_dir), "archive", spec.checksum, unpack=True)
                folder = unpacked / spec.archive_subdir if spec.archive_subdir else unpacked
            if not folder.is_dir():
                raise ChecksumError(f"{spec.url} does not hold {spec.archive_subdir}/", _fix(spec.name))
            verify(folder, spec)
            if target.exists():
                shutil.rmtree(target)
            os.replace(folder, target)
    finally:
        if created and root.is_dir() and not any(root.iterdir()):
            root.rmdir()  # leave no empty ./data behind after a failed download
    return target
