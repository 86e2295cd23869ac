"""Safe file writes and strict reads: a crash, Ctrl-C or power cut never leaves half-written
weights, results, README or downloads, and a bad file is reported with its name.

Writes go to a temporary file beside the target, are flushed to disk (fsync), and are renamed over
the target only when complete; the folder is fsynced too so that the rename itself survives.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from a2.errors import DataError, OutputError, ResultsError


def _unwritable(path: Path, err: OSError) -> OutputError:
    reason = err.strerror or str(err)
    return OutputError(f"cannot write {path}: {reason}",
                       "make the folder writable (chmod u+w) or choose another output folder")


def ensure_dir(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` (and parents) if needed; :class:`OutputError` naming it if that is impossible."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError as err:  # a file sits where a folder belongs
        raise OutputError(f"cannot use {folder} as a folder: a file of that name exists",
                          "delete or rename that file, or choose another output folder") from err
    except OSError as err:
        raise _unwritable(folder, err) from err
    return folder


def check_writable(folder: str | os.PathLike[str]) -> Path:
    """Fail fast, before any long computation, if files cannot be created in ``folder``."""
    folder = ensure_dir(folder)
    try:
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
    except OSError as err:
        raise _unwritable(folder, err) from err
    os.close(fd)
    os.unlink(probe)
    return folder


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders; the rename is still atomic there
        return
    try:
        os.fsync(fd)
    except OSError as err:
        if err.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process umask (read without changing it where /proc allows; else set and restored at once)."""
    with suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def keep_mode(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the mode of the ``target`` it will replace, or the umask default of a new file:
    ``mkstemp`` creates 0600, which would turn a README or results file private after an atomic write."""
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except OSError:
        mode = 0o666 & ~current_umask()
    os.chmod(tmp, mode)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; fsync it and rename it over ``path`` if the block succeeds."""
    path = Path(path)
    ensure_dir(path.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise _unwritable(path, err) from err
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        keep_mode(tmp_path, path)
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        try:
            os.replace(tmp_path, path)
        except OSError as err:
            raise _unwritable(path, err) from err
        _fsync_dir(path.parent)
    finally:
        tmp_path.unlink(missing_ok=True)


def atomic_write(path: str | os.PathLike[str], writer: Callable[[Path], Any]) -> Path:
    """Call ``writer(tmp_path)`` and move the result to ``path`` atomically."""
    with atomic_path(path) as tmp:
        writer(tmp)
    return Path(path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 text atomically (README, HTML exports, stamps)."""
    return atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_json(path: str | os.PathLike[str], payload: Any) -> Path:
    """Write ``payload`` as pretty, key-sorted JSON, atomically; NaN or inf anywhere is refused.

    JSON has no NaN: Python would write the non-standard token ``NaN`` that other readers reject, and
    a NaN metric is a bug upstream. :class:`ResultsError` names the key, e.g. ``test.roc_auc``.
    """
    try:
        plain = _plain(payload, "")
    except ResultsError as err:
        raise ResultsError(f"{path}: {err.what}", err.fix) from None
    return write_text(path, json.dumps(plain, indent=2, sort_keys=True, allow_nan=False) + "\n")


def replace_marked_block(path: str | os.PathLike[str], start: str, end: str, text: str, what: str) -> bool:
    """Replace what lies between the ``start`` and ``end`` markers of a text file (atomically); True if it changed.

    The README's generated tables live between such markers, so regenerating one never touches the prose.
    """
    path = Path(path)
    try:
        old = path.read_text(encoding="utf-8")
    except OSError as err:
        raise DataError(f"cannot read {path}: {err.strerror}", f"restore it with git checkout -- {path.name}") from None
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(old):
        raise DataError(f"{path} lacks the {start} ... {end} markers",
                        f"put them back around the {what} (see git diff {path.name})")
    new = pattern.sub(lambda _: f"{start}\n{text}\n{end}", old)
    if new != old:
        write_text(path, new)
    return new != old


def not_a_file(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as a regular file ("does not exist", "is a folder", "is a character device
    (like /dev/zero), not a regular file", ...), or None when it can. One wording for every input option."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as err:
        return f"cannot be read ({err.strerror or err})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    kinds = ((stat.S_ISCHR, "a character device (like /dev/zero)"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a pipe"), (stat.S_ISSOCK, "a socket"))
    kind = next((name for test, name in kinds if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file"


def read_json(path: str | os.PathLike[str], *, allow_nan: bool = False) -> Any:
    """Parse a JSON file (strictly: no NaN/Infinity tokens unless ``allow_nan``); :class:`DataError` names
    the file and line."""
    path = Path(path)
    problem = not_a_file(path)
    if problem is not None:  # before reading: /dev/zero would never end, a folder gives a puzzling error
        raise DataError(f"{path} {problem}", "check the path")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise DataError(f"{path} does not exist", "check the path") from err
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"cannot read {path}: {err}", "restore it (git checkout) or rerun what writes it") from err

    def refuse(token: str) -> Any:
        raise ValueError(f"{token} is not a number JSON allows")

    try:
        return json.loads(text, parse_constant=None if allow_nan else refuse)
    except json.JSONDecodeError as err:
        raise DataError(f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
                        f"it may be truncated", "restore it (git checkout) or rerun what writes it") from err
    except ValueError as err:
        raise DataError(f"{path}: {err}", "restore it (git checkout) or rerun what writes it") from err


def save_torch(obj: Any, path: str | os.PathLike[str]) -> Path:
    """``torch.save`` atomically (import is local so that light modules stay light)."""
    import torch

    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def file_hash(path: str | os.PathLike[str], algo: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algo)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def private_copy(folder: str | os.PathLike[str], into: str | os.PathLike[str]) -> Path:
    """A copy of ``folder`` that only the current user can write, made once and reused.

    For tools that refuse group/world-writable files (nltk >= 3.10). The copy sits at
    ``into/<name>-<hash of the file list, sizes and mtimes>``, so reruns reuse it instead of leaving a
    new temporary copy behind each time; it is built in a temporary folder and renamed when complete.
    """
    folder, into = Path(folder), ensure_dir(into)
    digest = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        st = p.stat()
        digest.update(f"{p.relative_to(folder)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    target = into / f"{folder.name}-{digest.hexdigest()[:12]}"
    if target.is_dir():
        return target
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=into))
    try:
        shutil.copytree(folder, staging, dirs_exist_ok=True)
        for p in [staging, *staging.rglob("*")]:
            p.chmod((p.stat().st_mode | stat.S_IWUSR) & ~(stat.S_IWGRP | stat.S_IWOTH))
        try:
            os.replace(staging, target)
        except OSError:  # another process finished the same copy first
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _plain(obj: Any, key: str) -> Any:
    """Plain JSON values from numpy/torch scalars and arrays and paths; NaN/inf raise, naming ``key``."""
    if isinstance(obj, dict):
        return {k: _plain(v, f"{key}.{k}" if key else str(k)) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, f"{key}[{i}]") for i, v in enumerate(obj)]
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, (str, bool, int)) or obj is None:
        return obj
    if isinstance(obj, float):
        if not math.isfinite(obj):
            raise ResultsError(f"{key or 'the value'} is {obj}; results must be finite numbers",
                               "find where it became NaN/inf, or store null for a value that does not exist")
        return obj
    if hasattr(obj, "tolist"):  # numpy / torch arrays and scalars
        return _plain(obj.tolist(), key)
    if hasattr(obj, "item"):
        return _plain(obj.item(), key)
    raise TypeError(f"{key or 'value'}: object of type {type(obj).__name__} is not JSON serialisable")
