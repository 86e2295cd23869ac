"""Image loading, dedupe, split, batching and batched augmentation (synthetic folders in tmp_path)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from a2.vision import images as im
from tests.conftest import needs_dataset


def _write(folder, name, seed, size=16):
    folder.mkdir(parents=True, exist_ok=True)
    arr = np.random.default_rng(seed).integers(0, 255, (size, size, 3), dtype=np.uint8)
    Image.fromarray(arr).save(folder / name, format="PNG")


@pytest.fixture
def tiny(tmp_path):
    root = tmp_path / "imgs"
    for c, cls in enumerate(im.DEFAULT_CLASSES):
        for i in range(10):
            _write(root / cls, f"{i + 1}.png", seed=100 * c + i)
    (root / "dogs" / "11.png").write_bytes((root / "dogs" / "3.png").read_bytes())  # one exact duplicate
    return root


def test_load_dedupe_and_cache(tiny, tmp_path):
    data = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    assert data.images.shape == (30, 3, 16, 16) and data.images.dtype == torch.uint8
    assert data.duplicates == [("dogs/3.png", "dogs/11.png")]
    assert data.counts() == {"dogs": 10, "food": 10, "vehicles": 10}
    assert data.files[:3] == ["dogs/1.png", "dogs/2.png", "dogs/3.png"]  # natural order
    assert len(list((tmp_path / "cache").glob("images_*.npz"))) == 1
    again = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    assert torch.equal(again.images, data.images) and again.duplicates == data.duplicates


def test_cache_is_plain_npz_without_pickle(tiny, tmp_path):
    im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("images_*.npz")
    with np.load(cache, allow_pickle=False) as blob:  # would raise if any array needed pickle
        assert set(blob.files) == {"images", "labels", "files", "sha256", "content_sha256"}


def test_replaced_image_with_same_size_and_mtime_is_not_served_stale(tiny, tmp_path):
    import os

    first = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache", dedupe=False)
    path = tiny / "food" / "2.png"
    st = path.stat()
    _write(tiny / "food", "tmp.png", seed=999)
    new = (tiny / "food" / "tmp.png").read_bytes()
    (tiny / "food" / "tmp.png").unlink()
    assert len(new) == st.st_size  # PNG of random pixels: same size
    path.write_bytes(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    second = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache", dedupe=False)
    i = second.files.index("food/2.png")
    assert not torch.equal(second.images[i], first.images[i])
    assert torch.equal(second.images[i], torch.from_numpy(im.decode(path, size=16)).permute(2, 0, 1))


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 truncated zip", b"\x80\x04crafted pickle"])
def test_corrupt_cache_is_rebuilt_with_a_warning(tiny, tmp_path, damage):
    data = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("images_*.npz")
    cache.write_bytes(damage)
    with pytest.warns(UserWarning, match="image cache .* rebuilding"):
        again = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    assert torch.equal(again.images, data.images)
    with np.load(cache, allow_pickle=False) as blob:
        assert blob["images"].shape == (31, 3, 16, 16)


def test_cache_with_rewritten_pixels_is_rebuilt_not_served(tiny, tmp_path):
    """A valid archive (correct CRCs, same files and shapes) whose pixels were all set to zero."""
    data = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    (cache,) = (tmp_path / "cache").glob("images_*.npz")
    with np.load(cache, allow_pickle=False) as blob:
        arrays = {k: blob[k] for k in blob.files}
    with open(cache, "wb") as fh:
        np.savez(fh, **{**arrays, "images": np.zeros_like(arrays["images"])})
    with pytest.warns(UserWarning, match="other pixels than it was written with; rebuilding"):
        again = im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    assert torch.equal(again.images, data.images) and again.images.any()


def test_class_folder_removed_after_caching(tiny, tmp_path):
    import shutil

    im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")
    shutil.rmtree(tiny / "vehicles")
    with pytest.raises(im.ImageFolderError, match=r"lacks class folder\(s\) \['vehicles'\]"):
        im.load_folder(tiny, size=16, cache_dir=tmp_path / "cache")


def test_resize_and_limit(tiny):
    data = im.load_folder(tiny, size=8, limit_per_class=4, cache_dir=None)
    assert data.images.shape == (12, 3, 8, 8)


@pytest.mark.parametrize("limit", [0, -1, 2.5, True])
def test_a_limit_per_class_that_keeps_no_image_or_drops_the_last_is_refused(tiny, limit):
    with pytest.raises(im.ImageFolderError, match=f"limit_per_class={limit!r}.*at least 1"):
        im.load_folder(tiny, size=16, limit_per_class=limit, cache_dir=None)


@pytest.mark.parametrize("size", [0, -8, 16.0])
def test_a_bad_size_is_blamed_on_the_size_not_an_image(tiny, size):
    with pytest.raises(im.ImageFolderError, match=f"size={size!r} is not an image size") as err:
        im.load_folder(tiny, size=size, cache_dir=None)
    assert ".png" not in str(err.value)


def test_missing_class_folder(tiny):
    import shutil

    shutil.rmtree(tiny / "food")
    with pytest.raises(im.ImageFolderError, match="lacks class folder.*food"):
        im.list_images(tiny)


def test_empty_class_folder(tiny):
    for p in (tiny / "vehicles").iterdir():
        p.unlink()
    with pytest.raises(im.ImageFolderError, match="holds no images"):
        im.list_images(tiny)


def test_missing_root(tmp_path):
    with pytest.raises(im.ImageFolderError, match="does not exist"):
        im.list_images(tmp_path / "nope")


def test_corrupt_image(tiny):
    (tiny / "food" / "5.png").write_bytes(b"not an image at all")
    with pytest.raises(im.ImageFolderError, match=r"cannot decode image .*food.*5\.png"):
        im.load_folder(tiny, size=16, cache_dir=None)


def test_stratified_split_is_seeded_disjoint_and_stratified():
    labels = np.repeat([0, 1, 2], 100)
    a, b = im.stratified_split(labels, seed=3), im.stratified_split(labels, seed=3)
    assert all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("train", "val", "test"))
    assert a.sizes() == {"train": 240, "val": 30, "test": 30}
    assert len(set(a.train) | set(a.val) | set(a.test)) == 300
    assert np.bincount(labels[a.test]).tolist() == [10, 10, 10]
    assert not np.array_equal(im.stratified_split(labels, seed=4).test, a.test)
    with pytest.raises(ValueError, match="sum"):
        im.stratified_split(labels, (0.5, 0.2, 0.2))


def test_batches_cover_everything_once():
    x, y = torch.arange(10).view(10, 1, 1, 1).to(torch.uint8), torch.arange(10)
    batches = im.Batches(x, y, 4, shuffle=True, seed=0)
    assert len(batches) == 3
    seen = torch.cat([b for _, b in batches])
    assert sorted(seen.tolist()) == list(range(10))
    assert len(im.Batches(x, y, 4, drop_last=True)) == 2


def test_random_crop_is_a_shifted_window():
    x = torch.arange(2 * 1 * 6 * 6, dtype=torch.float32).view(2, 1, 6, 6)
    out = im.random_crop(x, padding=2, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape
    padded = torch.nn.functional.pad(x, (2,) * 4, mode="reflect")
    for i in range(2):  # each output must be some 6x6 window of its padded input
        assert any(torch.equal(out[i, 0], padded[i, 0, dy:dy + 6, dx:dx + 6]) for dy in range(5) for dx in range(5))


def test_flip_erase_jitter_shapes_and_ranges():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(8, 3, 16, 16, generator=g)
    flipped = im.random_flip(x, p=1.0)
    assert torch.equal(flipped, x.flip(-1))
    erased = im.random_erase(x, p=1.0, generator=g)
    assert ((erased == 0).flatten(1).sum(1) > 0).all()
    jit = im.colour_jitter(x, generator=g)
    assert jit.shape == x.shape and jit.min() >= 0 and jit.max() <= 1


def test_preprocess_normalises_and_augments_only_in_training():
    x = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8)
    mean, std = im.channel_stats(x)
    pre = im.Preprocess(mean, std, im.AugmentConfig(policy="strong"))
    pre.eval()
    out = pre(x)
    assert torch.allclose(out.mean(dim=(0, 2, 3)), torch.zeros(3), atol=1e-5)
    assert torch.equal(pre(x), out)  # deterministic in eval mode
    pre.train()
    assert not torch.equal(pre(x), out)
    with pytest.raises(ValueError, match="policy"):
        im.Preprocess(mean, std, im.AugmentConfig(policy="wild"))


@needs_dataset("cnn_dataset")
def test_real_dataset_first_files():
    data = im.load_dataset(limit_per_class=5)
    assert data.classes == ["dogs", "food", "vehicles"]
    assert data.images.shape == (15, 3, 64, 64)


def test_channel_stats_rejects_an_empty_training_split():
    with pytest.raises(ValueError, match="at least 2 training images"):
        im.channel_stats(torch.zeros(0, 3, 8, 8, dtype=torch.uint8))
