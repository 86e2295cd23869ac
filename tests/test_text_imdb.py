from __future__ import annotations

import io
import tarfile

import pandas as pd
import pytest

from a2.text import explore, imdb


def _make_tar(root):
    with tarfile.open(root / "aclImdb.tar.gz", "w:gz") as tf:
        for split in ("train", "test"):
            for sent in ("pos", "neg"):
                for i in range(4):
                    data = f"{split} {sent} review {i}<br />".encode()
                    info = tarfile.TarInfo(f"aclImdb/{split}/{sent}/{i}_{8 if sent == 'pos' else 2}.txt")
                    info.size = len(data)
                    tf.addfile(info, io.BytesIO(data))


def test_read_and_split(tmp_path, monkeypatch):
    _make_tar(tmp_path)
    monkeypatch.setenv("A2_CACHE_DIR", str(tmp_path / "cache"))
    df = imdb.load(tmp_path)
    assert len(df) == 16 and set(df.columns) == {"split", "label", "rating", "id", "text"}
    assert (df[df.label == 1].rating == 8).all()
    assert list((tmp_path / "cache").glob("imdb_reviews_*.pkl"))
    pd.testing.assert_frame_equal(imdb.load(tmp_path), df)
    s = imdb.split(df, val_frac=0.25, seed=0)
    assert s.sizes() == {"train": 6, "val": 2, "test": 8}
    assert s.val.label.sum() == 1
    with pytest.raises(ValueError):
        imdb.split(df, val_frac=1.5)


def test_missing_data(tmp_path):
    with pytest.raises(FileNotFoundError, match="aclImdb"):
        imdb.read_reviews(tmp_path)


def test_explore_helpers():
    corpus = [["good", "great"], ["bad"], ["good"]]
    assert list(explore.zipf(corpus)) == [2, 1, 1]
    cov = explore.coverage_vs_length([1, 2, 4], [2])
    assert cov.reviews_whole[0] == pytest.approx(2 / 3) and cov.tokens_kept[0] == pytest.approx(5 / 7)
    assert explore.vocab_coverage(corpus, ["good"]) == pytest.approx(0.5)
    assert set(explore.length_table([1, 2, 3], [0, 1, 1]).index) == {"neg", "pos"}
    assert len(explore.top_words(corpus, [1, 0, 1], k=2)) == 4
