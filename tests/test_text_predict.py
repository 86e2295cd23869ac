from __future__ import annotations

import io
import sys

import numpy as np
import pytest
import torch

from a2.errors import WeightsError
from a2.io import save_torch
from a2.text import predict
from a2.text.models import TransformerClassifier, TransformerConfig
from a2.text.preprocess import TextConfig, Vocab
from tests.conftest import needs_dataset

pytestmark = needs_dataset("nltk_data")


def make_bundle(**extra):
    torch.manual_seed(0)
    vocab = Vocab.build([["good", "film", "bad", "plot", "great"]], min_freq=1)
    model = TransformerClassifier(TransformerConfig(vocab_size=len(vocab), d_model=16, n_heads=2, d_ff=32,
                                                    max_len=12))
    return predict.bundle(model, vocab, TextConfig(), 0.25, model_name="test model", **extra)


@pytest.fixture()
def weights(tmp_path):
    return save_torch(make_bundle(threshold=0.5), tmp_path / "w.pt")


def test_bundle_loads_weights_only(weights):
    data = torch.load(weights, weights_only=True)
    assert set(data) >= {"state_dict", "config", "vocab", "text_config"}


def test_predict_normal_long_and_foreign(weights):
    p = predict.Predictor.load(weights)
    out = p("A good film with a great plot.")
    assert out["label"] in ("neg", "pos") and 0.5 <= out["probability"] <= 1 and out["notes"] == []
    long = p("good film " * 500)
    assert any("long review" in n for n in long["notes"])
    foreign = p("Dieser Streifen war wirklich wunderschön und großartig")
    assert any("unknown" in n for n in foreign["notes"])
    cjk = p("这部电影非常好")
    assert cjk["tokens"] == 0 and cjk["notes"]


@pytest.mark.parametrize("text", ["", "   \n\t"])
def test_empty_is_an_error(weights, text):
    with pytest.raises(ValueError, match="empty"):
        predict.Predictor.load(weights)(text)


def test_cli(weights, capsys):
    assert predict.main(["A", "great", "film", "--weights", str(weights)]) == 0
    assert "probability" in capsys.readouterr().out
    assert predict.main(["  ", "--weights", str(weights)]) == 2
    assert "empty" in capsys.readouterr().err
    assert predict.main(["good", "--weights", "/nonexistent.pt"]) == 2
    assert capsys.readouterr().err.startswith("error: no weights at /nonexistent.pt (")


def test_many_reviews_from_a_file_one_tsv_line_each(weights, tmp_path, capsys):
    reviews = tmp_path / "r.txt"
    reviews.write_text("A good film.\n\nbad plot, bad film\r\n" + "good film " * 50 + "\n", encoding="utf-8")
    assert predict.main(["--file", str(reviews), "--weights", str(weights)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4
    fields = [line.split("\t") for line in lines]
    assert all(len(f) == 3 for f in fields)
    assert fields[1] == ["-", "", "empty review; no prediction"]
    for label, p_pos, _ in (fields[0], fields[2], fields[3]):
        assert label in ("neg", "pos") and 0 <= float(p_pos) <= 1 and (label == "pos") == (float(p_pos) >= 0.5)
    assert "long review" in fields[3][2]
    single = predict.Predictor.load(weights)("A good film.")  # same number as in a batch
    assert float(fields[0][1]) == pytest.approx(single["p_pos"], abs=1e-4)


def test_reviews_from_stdin(weights, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"good film\nbad plot\n")))
    assert predict.main(["-", "--weights", str(weights)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_non_utf8_input_names_the_line(weights, tmp_path, capsys):
    (tmp_path / "r.txt").write_bytes(b"good film\nbad \xff plot\n")
    assert predict.main(["--file", str(tmp_path / "r.txt"), "--weights", str(weights)]) == 2
    assert "line 2: not UTF-8" in capsys.readouterr().err


def test_stored_threshold_decides_the_label(tmp_path):
    low = predict.Predictor.load(save_torch(make_bundle(threshold=0.01), tmp_path / "low.pt"))
    high = predict.Predictor.load(save_torch(make_bundle(threshold=0.99), tmp_path / "high.pt"))
    assert low("good film")["label"] == "pos" and high("good film")["label"] == "neg"
    assert low("good film")["p_pos"] == pytest.approx(high("good film")["p_pos"])


def test_missing_threshold_falls_back_to_half_with_a_note(tmp_path, capsys):
    path = save_torch(make_bundle(), tmp_path / "w.pt")
    p = predict.Predictor.load(path)
    assert p.threshold == 0.5 and not p.threshold_stored
    assert predict.main(["good", "film", "--weights", str(path)]) == 0
    assert "stores no decision threshold; using 0.5" in capsys.readouterr().err


def _bad_weights(tmp_path, case):
    path = tmp_path / "bad.pt"
    good = save_torch(make_bundle(threshold=0.5), tmp_path / "good.pt").read_bytes()
    if case == "empty":
        path.write_bytes(b"")
    elif case == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif case == "random":
        path.write_bytes(np.random.default_rng(0).bytes(4096))
    elif case == "other model":
        save_torch({"name": "dense_ae", "config": {"window": 4}, "state_dict": {"w": torch.ones(2)}}, path)
    elif case == "truncated vocabulary":
        data = make_bundle(threshold=0.5)
        save_torch({**data, "vocab": data["vocab"][:-2]}, path)
    elif case == "vocabulary vs embedding":
        data = make_bundle(threshold=0.5)
        data["config"]["vocab_size"] -= 2
        save_torch({**data, "vocab": data["vocab"][:-2]}, path)
    elif case == "nan threshold":
        save_torch(make_bundle(threshold=float("nan")), path)
    elif case == "unknown config field":
        data = make_bundle()
        save_torch({**data, "config": {**data["config"], "layers": 3}}, path)
    elif case == "folder":
        path.mkdir()
    elif case == "device":
        return "/dev/zero"
    elif case == "malformed config value":
        data = make_bundle()
        save_torch({**data, "config": {**data["config"], "d_model": "big"}}, path)
    elif case == "nan weights":
        data = make_bundle(threshold=0.5)
        save_torch({**data, "state_dict": {k: torch.full_like(v, float("nan")) for k, v in data["state_dict"].items()}},
                   path)
    return path


@pytest.mark.parametrize("case, message", [
    ("empty", "is empty"),
    ("truncated", "not a readable weights file"),
    ("random", "not a readable weights file"),
    ("other model", "not a Part IV Transformer weights file"),
    ("truncated vocabulary", "vocabulary has 5 tokens but the model expects 7"),
    ("vocabulary vs embedding", "vocabulary has 5 tokens but the weights hold an embedding table of 7 rows"),
    ("nan threshold", "'threshold' is nan"),
    ("unknown config field", "malformed"),
    ("folder", "is a folder"),
    ("device", "not a regular file"),
    ("malformed config value", "do not fit the model"),
])
def test_unusable_weights_are_one_line_errors(tmp_path, capsys, case, message):
    path = _bad_weights(tmp_path, case)
    with pytest.raises(WeightsError, match=message):
        predict.Predictor.load(path)
    assert predict.main(["good", "--weights", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "--weights" in err  # says how to fix it


def test_predict_proba_keeps_order():
    torch.manual_seed(0)
    m = TransformerClassifier(TransformerConfig(vocab_size=20, d_model=8, n_heads=2, d_ff=16, max_len=10)).eval()
    seqs = [np.array([2, 3, 4, 5, 6]), np.array([7]), np.array([8, 9])]
    together = predict.predict_proba(m, seqs, batch_size=2)
    alone = np.concatenate([predict.predict_proba(m, [s]) for s in seqs])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert together.shape == (3,) and ((together > 0) & (together < 1)).all()


def test_predict_proba_passes_features_in_row_order():
    class Echo(torch.nn.Module):  # logit = first feature of the first token: recovers row order
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, ids, nb):
            return torch.stack([torch.zeros(len(ids)), nb[:, 0, 0]], dim=1) + self.w

    seqs = [np.arange(2, 2 + n) for n in (5, 1, 3)]
    feats = [np.full((len(s), 2), v, np.float32) for s, v in zip(seqs, (2.0, -2.0, 0.0), strict=True)]
    p = predict.predict_proba(Echo(), seqs, feats, batch_size=2)
    assert p[0] > 0.5 > p[1] and p[2] == pytest.approx(0.5)


def test_naive_bayes_channel_round_trip(tmp_path):
    torch.manual_seed(0)
    vocab = Vocab.build([["good", "film", "bad", "plot", "great"]], min_freq=1)
    model = TransformerClassifier(TransformerConfig(vocab_size=len(vocab), d_model=16, n_heads=2, d_ff=32,
                                                    max_len=12, nb_channels=2))
    ratios = {"unigram": torch.linspace(-1, 1, len(vocab)), "bigram": torch.zeros(31)}
    path = save_torch(predict.bundle(model, vocab, TextConfig(), 0.25, model_name="nb", threshold=0.4,
                                     nb_ratios=ratios),
                      tmp_path / "nb.pt")
    p = predict.Predictor.load(path)
    assert p.nb is not None and p.threshold == 0.4
    assert p("A good film.")["label"] in ("neg", "pos")
    path = save_torch(predict.bundle(model, vocab, TextConfig(), 0.25, model_name="nb", threshold=0.4),
                      tmp_path / "no_nb.pt")
    with pytest.raises(WeightsError, match="nb_ratios"):
        predict.Predictor.load(path)


def test_missing_nltk_data_is_a_one_line_error(weights, monkeypatch, capsys):
    def no_data(*a, **k):
        raise LookupError("NLTK data (stopwords, punkt_tab) not found")

    monkeypatch.setattr(predict, "tokenize", no_data)
    assert predict.main(["good", "film", "--weights", str(weights)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the NLTK data") and "A2_DATA_DIR" in err and err.count("\n") == 1


def test_weights_with_python_objects_are_refused(tmp_path):
    import fractions

    path = tmp_path / "obj.pt"
    torch.save({"state_dict": {}, "config": fractions.Fraction(1, 3), "vocab": [], "text_config": {}}, path)
    with pytest.raises(WeightsError, match="holds Python objects"):
        predict.Predictor.load(path)


def test_the_command_line_names_the_model(weights, capsys):
    assert predict.main(["good", "film", "--weights", str(weights)]) == 0
    assert "model: test model" in capsys.readouterr().out


def test_prediction_needs_no_nltk_data_when_the_file_holds_the_stop_words(weights, monkeypatch):
    def no_data(*a, **k):
        raise LookupError("no NLTK data")

    monkeypatch.setattr("a2.text.preprocess.stop_words", no_data)
    p = predict.Predictor.load(weights)
    assert p.stops and "the" in p.stops and "not" not in p.stops
    assert p("not a good film")["tokens"] == 3  # "a" is a stop word, "not" is kept


def test_nan_probabilities_are_refused(tmp_path, capsys):
    path = _bad_weights(tmp_path, "nan weights")
    assert predict.main(["good", "film", "--weights", str(path)]) == 2
    assert "not a number" in capsys.readouterr().err


def test_misused_predictor_says_what_was_wrong(weights):
    p = predict.Predictor.load(weights)
    with pytest.raises(ValueError, match="list of reviews"):
        p.predict("abc")
    with pytest.raises(ValueError, match="must be text, got int"):
        p(5)


def test_device_or_closed_stdin_as_input_is_a_clear_error(weights, monkeypatch, capsys):
    assert predict.main(["--file", "/dev/zero", "--weights", str(weights)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    monkeypatch.setattr(sys, "stdin", None)
    assert predict.main(["-", "--weights", str(weights)]) == 2
    assert "stdin is closed" in capsys.readouterr().err
