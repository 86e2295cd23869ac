"""The dogs/food/vehicles images: load once, dedupe, split, batch and augment.

The JPEGs are decoded once with Pillow into a uint8 ``(N, 3, H, W)`` array cached as ``.npz`` (no
pickle) under ``build/cache/``, keyed by the sha256 of every file's bytes, so later runs start in a
second or two and a replaced image is never served stale; an unreadable cache is rebuilt. Byte-identical
files are dropped *before* the split so that no image sits in both train and test. Augmentation
works on whole batches of tensors, on whatever device the batch is on (CPU or GPU), and runs
inside the training step rather than in a worker process.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn

from a2.datasets import locate
from a2.errors import DataError
from a2.io import atomic_write
from a2.progress import progress
from a2.runtime import cache_dir as cache_root

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
DEFAULT_CLASSES = ("dogs", "food", "vehicles")


class ImageFolderError(DataError):
    """The image folder is missing a class, holds no images, or holds an unreadable file."""


@dataclass
class ImageData:
    """Decoded images with their labels and provenance (relative file names, sha256)."""

    images: torch.Tensor  # uint8 (N, 3, H, W)
    labels: torch.Tensor  # int64 (N,)
    classes: list[str]
    files: list[str]
    sha256: list[str]
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (kept, dropped)

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: Sequence[int] | np.ndarray | torch.Tensor) -> ImageData:
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        return ImageData(self.images[idx], self.labels[idx], self.classes,
                         [self.files[i] for i in idx.tolist()], [self.sha256[i] for i in idx.tolist()])

    def counts(self) -> dict[str, int]:
        return {c: int((self.labels == i).sum()) for i, c in enumerate(self.classes)}


def _natural_key(path: Path) -> tuple:
    """``2.jpg`` before ``10.jpg``: split digits out of the name."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name))


def list_images(root: str | Path, classes: Sequence[str] = DEFAULT_CLASSES,
                limit_per_class: int | None = None) -> list[tuple[Path, int]]:
    """``(path, label)`` of the images under ``root/<class>/``, in natural order.

    Only the first ``limit_per_class`` of each class when given (a whole number of at least 1).
    """
    if limit_per_class is not None and (isinstance(limit_per_class, bool) or not isinstance(limit_per_class, int)
                                        or limit_per_class < 1):
        raise ImageFolderError(f"limit_per_class={limit_per_class!r} is not a number of images to keep per class",
                               "pass a whole number of images per class of at least 1, or None for all of them")
    root = Path(root)
    if not root.is_dir():
        raise ImageFolderError(f"image folder {root} does not exist",
                               "set A2_DATA_DIR to the folder holding cnn_dataset/, or place cnn_dataset/ in data/")
    missing = [c for c in classes if not (root / c).is_dir()]
    if missing:
        found = sorted(p.name for p in root.iterdir() if p.is_dir())
        raise ImageFolderError(f"{root} lacks class folder(s) {missing} (found {found})",
                               f"restore them: one subfolder per class, {list(classes)}")
    items: list[tuple[Path, int]] = []
    for label, cls in enumerate(classes):
        files = sorted((p for p in (root / cls).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
        if not files:
            raise ImageFolderError(f"class folder {root / cls} holds no images",
                                   f"put the class's {', '.join(IMAGE_SUFFIXES)} files back into it")
        items += [(p, label) for p in files[:limit_per_class]]
    return items


def decode(path: str | Path, data: bytes | None = None, size: int | None = None) -> np.ndarray:
    """One image as uint8 ``(H, W, 3)`` RGB; resized to ``size`` if it differs. Clear error if unreadable."""
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as im:
            im = im.convert("RGB")
            if size is not None and im.size != (size, size):
                im = im.resize((size, size), Image.BILINEAR)
            return np.asarray(im, dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
        raise ImageFolderError(f"cannot decode image {path}: {err}", "delete or replace the file and rerun") from err


_CACHE_VERSION = "v3"  # v3: the cache holds a checksum of its decoded content


def content_checksum(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the decoded pixels and labels (with their shapes), stored beside them in the cache."""
    digest = hashlib.sha256(f"{images.shape}|{images.dtype}|{labels.shape}|{labels.dtype}".encode())
    digest.update(np.ascontiguousarray(images).tobytes())
    digest.update(np.ascontiguousarray(labels).tobytes())
    return digest.hexdigest()


def _read_cache(cache: Path, files: list[str], shas: list[str], size: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(images, labels)`` from an ``.npz`` cache if it is readable, is for exactly these files and its
    content matches its stored checksum (a valid archive with rewritten pixels does not); else None."""
    try:
        with np.load(cache, allow_pickle=False) as blob:
            images, labels, checksum = blob["images"], blob["labels"], str(blob["content_sha256"])
            same = blob["files"].tolist() == files and blob["sha256"].tolist() == shas
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        warnings.warn(f"image cache {cache} is unreadable ({err}); rebuilding it", stacklevel=3)
        return None
    if not same or images.shape != (len(files), 3, size, size) or labels.shape != (len(files),):
        warnings.warn(f"image cache {cache} does not match the images; rebuilding it", stacklevel=3)
        return None
    if content_checksum(images, labels) != checksum:
        warnings.warn(f"image cache {cache} holds other pixels than it was written with; rebuilding it", stacklevel=3)
        return None
    return images, labels


def load_folder(root: str | Path, classes: Sequence[str] = DEFAULT_CLASSES, *, size: int = 64,
                limit_per_class: int | None = None, cache_dir: str | Path | None = "auto",
                dedupe: bool = True) -> ImageData:
    """Decode every image under ``root`` (or the first ``limit_per_class`` per class), cached; drop duplicates.

    The cache (``cache_dir``; ``"auto"``: :func:`a2.runtime.cache_dir`; None: no cache) is keyed by the sha256 of every
    file's bytes, the labels and ``size``, and holds a checksum of its decoded content.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ImageFolderError(f"size={size!r} is not an image size in pixels",
                               "pass a whole number of at least 1 (the images are resized to size x size; 64 here)")
    root = Path(root)
    items = list_images(root, classes, limit_per_class)
    raws = [path.read_bytes() for path, _ in items]
    shas = [hashlib.sha256(raw).hexdigest() for raw in raws]
    files = [path.relative_to(root).as_posix() for path, _ in items]
    labels_list = [label for _, label in items]
    key = hashlib.sha256(f"{_CACHE_VERSION}|{size}|{labels_list}|{files}|{shas}".encode()).hexdigest()[:16]
    folder = cache_root() if cache_dir == "auto" else cache_dir
    cache = Path(folder) / f"images_{key}.npz" if folder is not None else None
    cached = _read_cache(cache, files, shas, size) if cache is not None and cache.is_file() else None
    if cached is not None:
        images, labels = torch.from_numpy(cached[0]), torch.from_numpy(cached[1])
    else:
        arrays = [decode(path, raw, size) for (path, _), raw in
                  zip(progress(items, desc=f"decode {root.name}", inner=True), raws, strict=True)]
        images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
        labels = torch.tensor(labels_list, dtype=torch.long)
        if cache is not None:
            blob = {"images": images.numpy(), "labels": labels.numpy(), "files": np.array(files),
                    "sha256": np.array(shas), "content_sha256": np.array(content_checksum(images.numpy(),
                                                                                         labels.numpy()))}
            atomic_write(cache, lambda tmp: _savez(tmp, blob))
    data = ImageData(images, labels, list(classes), files, shas)
    return drop_duplicates(data) if dedupe else data


def _savez(path: Path, arrays: dict[str, np.ndarray]) -> None:
    with open(path, "wb") as fh:  # a file object, so that numpy does not append ".npz" to the temporary name
        np.savez(fh, **arrays)


def load_dataset(*, size: int = 64, limit_per_class: int | None = None, **kwargs) -> ImageData:
    """The course's cnn_dataset, located through :mod:`a2.datasets`."""
    return load_folder(locate("cnn_dataset"), DEFAULT_CLASSES, size=size, limit_per_class=limit_per_class, **kwargs)


def drop_duplicates(data: ImageData) -> ImageData:
    """Keep the first of each set of byte-identical files (same sha256); record the pairs dropped."""
    first: dict[str, int] = {}
    keep, pairs = [], []
    for i, sha in enumerate(data.sha256):
        if sha in first:
            pairs.append((data.files[first[sha]], data.files[i]))
        else:
            first[sha] = i
            keep.append(i)
    out = data.subset(keep) if pairs else data
    out.duplicates = pairs
    return out


@dataclass(frozen=True)
class IndexSplit:
    """Index arrays into an :class:`ImageData`; the same split serves every model."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    seed: int

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}

    def checksum(self, data: ImageData) -> str:
        """sha256 over the files of each part: two runs agree iff they used the same split."""
        digest = hashlib.sha256()
        for part in (self.train, self.val, self.test):
            digest.update(("|".join(data.files[i] for i in part) + "\n").encode())
        return digest.hexdigest()[:16]


def stratified_split(labels: Sequence[int] | torch.Tensor, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
                     seed: int = 0) -> IndexSplit:
    """Seeded split with each class divided in the same proportions (rounding goes to train)."""
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-6 or min(fractions) < 0:
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[], [], []]
    for cls in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == cls))
        n_val, n_test = int(round(fractions[1] * len(idx))), int(round(fractions[2] * len(idx)))
        n_train = len(idx) - n_val - n_test
        for part, chunk in zip(parts, np.split(idx, [n_train, n_train + n_val]), strict=True):
            part.append(chunk)
    train, val, test = (np.sort(np.concatenate(p)) for p in parts)
    return IndexSplit(train, val, test, seed)


def channel_stats(images: torch.Tensor) -> tuple[list[float], list[float]]:
    """Per-channel mean and std in [0, 1] units (fit on the training split only)."""
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"channel_stats needs a batch (N, C, H, W) of at least 2 training images, got shape "
                         f"{tuple(images.shape)}; check that the split leaves images in training.")
    x = images.float().div_(255)
    return x.mean(dim=(0, 2, 3)).tolist(), x.std(dim=(0, 2, 3)).tolist()


class Batches:
    """Mini-batches ``(uint8 images, labels)`` from in-memory tensors; reshuffled each epoch when asked."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 128, *, shuffle: bool = False,
                 seed: int = 0, drop_last: bool = False):
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.batch_size = images, labels, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.labels)
        order = torch.randperm(n, generator=self.generator) if self.shuffle else torch.arange(n)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.images[idx], self.labels[idx]


# ---------------------------------------------------------------------------------------------
# Batched augmentation: every op takes and returns float (B, C, H, W) on any device.
# ---------------------------------------------------------------------------------------------


def random_crop(x: torch.Tensor, padding: int = 4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Reflect-pad by ``padding`` and cut a random ``H x W`` window per image (one gather, no loop)."""
    if padding <= 0:
        return x
    b, _, h, w = x.shape
    padded = nn.functional.pad(x, (padding,) * 4, mode="reflect")
    dy = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
    dx = torch.randint(0, 2 * padding + 1, (b,), device=x.device, generator=generator)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def random_flip(x: torch.Tensor, p: float = 0.5, generator: torch.Generator | None = None) -> torch.Tensor:
    """Horizontal flip of a random half of the batch."""
    mask = torch.rand(x.shape[0], device=x.device, generator=generator) < p
    return torch.where(mask[:, None, None, None], x.flip(-1), x)


def colour_jitter(x: torch.Tensor, strength: float = 0.4, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random brightness, contrast and saturation per image (inputs in [0, 1])."""
    b = x.shape[0]

    def factor() -> torch.Tensor:
        u = torch.rand(b, 1, 1, 1, device=x.device, generator=generator)
        return 1 + strength * (2 * u - 1)

    x = x * factor()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * factor() + mean
    grey = x.mean(dim=1, keepdim=True)
    x = (x - grey) * factor() + grey
    return x.clamp(0, 1)


def random_erase(x: torch.Tensor, p: float = 0.5, max_frac: float = 0.4,
                 generator: torch.Generator | None = None) -> torch.Tensor:
    """Cutout: zero a random rectangle (up to ``max_frac`` of each side) in a random ``p`` of the images."""
    b, _, h, w = x.shape
    dev = x.device

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, device=dev, generator=generator)

    eh, ew = (rand(b) * max_frac * h).long() + 1, (rand(b) * max_frac * w).long() + 1
    y0, x0 = (rand(b) * (h - eh + 1)).long(), (rand(b) * (w - ew + 1)).long()
    ys, xs = torch.arange(h, device=dev)[None, :], torch.arange(w, device=dev)[None, :]
    in_y = (ys >= y0[:, None]) & (ys < (y0 + eh)[:, None])
    in_x = (xs >= x0[:, None]) & (xs < (x0 + ew)[:, None])
    box = in_y[:, :, None] & in_x[:, None, :] & (rand(b) < p)[:, None, None]
    return x.masked_fill(box[:, None], 0.0)


@dataclass
class AugmentConfig:
    """``policy``: "none", "basic" (crop + flip) or "strong" (basic + colour jitter + cutout)."""

    policy: str = "strong"
    padding: int = 4
    jitter: float = 0.4
    erase_p: float = 0.5
    erase_frac: float = 0.4


class Preprocess(nn.Module):
    """uint8 batch -> normalised float; augments only in training mode. Runs on the batch's device."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], augment: AugmentConfig | None = None):
        super().__init__()
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1, 1))
        self.augment = augment or AugmentConfig(policy="none")
        if self.augment.policy not in {"none", "basic", "strong"}:
            raise ValueError(f"unknown augmentation policy {self.augment.policy!r}; use 'none', 'basic' or 'strong'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float().div(255) if x.dtype == torch.uint8 else x.float()
        a = self.augment
        if self.training and a.policy != "none":
            x = random_flip(random_crop(x, a.padding))
            if a.policy == "strong":
                x = random_erase(colour_jitter(x, a.jitter), a.erase_p, a.erase_frac)
        x = (x - self.mean.to(x.device)) / self.std.to(x.device)
        return x.contiguous(memory_format=torch.channels_last)  # ~2x faster convolutions on CPU (oneDNN)


def augment_step(preprocess: Preprocess):
    """A ``fit`` step that preprocesses (and, in training mode, augments) each batch on its device."""

    def step(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = batch
        preprocess.train(model.training)
        return model(preprocess(images)), labels

    return step
