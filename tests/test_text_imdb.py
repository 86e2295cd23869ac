from __future__ import annotations

import io
import tarfile

import pandas as pd
import pytest

from a2.text import explore, imdb


def _add(tf, name, text):
    data = text.encode()
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tf.addfile(info, io.BytesIO(data))


def _make_tar(root, n=8, urls=True):
    """n reviews per (split, sentiment); review i belongs to movie i // 2 (two reviews per movie)."""
    with tarfile.open(root / "aclImdb.tar.gz", "w:gz") as tf:
        for split in ("train", "test"):
            offset = 0 if split == "train" else 100
            for sent in ("pos", "neg"):
                for i in range(n):
                    _add(tf, f"aclImdb/{split}/{sent}/{i}_{8 if sent == 'pos' else 2}.txt", f"{split} {sent} {i}<br />")
                if urls:
                    lines = [f"http://www.imdb.com/title/tt{offset + i // 2:07d}/usercomments" for i in range(n)]
                    _add(tf, f"aclImdb/{split}/urls_{sent}.txt", "\n".join(lines) + "\n")


def test_read_with_movies_and_grouped_split(tmp_path):
    _make_tar(tmp_path)
    df = imdb.load(tmp_path)
    assert len(df) == 32 and set(df.columns) == {"split", "label", "rating", "id", "movie", "text"}
    assert (df[df.label == 1].rating == 8).all()
    assert df.loc[(df.split == "train") & (df.id == 5), "movie"].eq("tt0000002").all()
    pd.testing.assert_frame_equal(imdb.load(tmp_path), df)
    s = imdb.split(df, val_frac=0.25, seed=0)
    assert s.sizes()["train"] + s.sizes()["val"] == 16 and s.sizes()["test"] == 16
    assert not set(s.val.movie) & set(s.train.movie)  # grouped: no movie on both sides
    assert s.movie_overlap("val") == 0.0 and s.movie_overlap("test") == 0.0
    plain = imdb.split(df, val_frac=0.25, seed=0, by_movie=False)
    assert plain.val.label.sum() == 2 and plain.movie_overlap("val") > 0  # the leaky split, for contrast
    with pytest.raises(ValueError):
        imdb.split(df, val_frac=1.5)


def test_grouped_split_needs_movie_ids(tmp_path):
    _make_tar(tmp_path, urls=False)
    df = imdb.read_reviews(tmp_path)
    assert (df.movie == "").all()
    with pytest.raises(ValueError, match="urls_"):
        imdb.split(df)


def test_corrupt_tarball_names_the_file(tmp_path):
    (tmp_path / "aclImdb.tar.gz").write_bytes(b"\x1f\x8b garbage")
    with pytest.raises(ValueError, match="aclImdb.tar.gz"):
        imdb.read_reviews(tmp_path)


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
