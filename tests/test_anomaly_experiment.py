"""The Part II recipe: training, losses per part, selection on validation loss, many series."""

import numpy as np
import pandas as pd
import pytest
import torch

from a2.anomaly import experiment as ex
from a2.anomaly import models, training

TRAINER = ex.Trainer(build=models.build_model, output_range=models.output_range, train=training.train)

RECIPE = ex.Recipe(window=12, resample="10min", models=("dense", "conv1d"), epochs=3, patience=None, lr=3e-3,
                   stride=2, smooth_steps=5, curves=True)


def synthetic_raw(n=600, seed=0):
    ts = pd.date_range("2020-01-01", periods=n, freq="5min")
    rng = np.random.default_rng(seed)
    value = np.sin(np.arange(n) * 2 * np.pi / 48) + 0.05 * rng.standard_normal(n)
    windows = [(ts[200], ts[219]), (ts[450], ts[469]), (ts[540], ts[559])]
    for a, b in ((200, 220), (450, 470), (540, 560)):
        value[a + 5 : b - 5] += 4.0
    return pd.DataFrame({"timestamp": ts, "value": value}), windows


def prepared(recipe=RECIPE, seed=0):
    raw, windows = synthetic_raw(seed=seed)
    return ex.prepare_for("synthetic", raw, windows, recipe)


def test_resample_rule_never_upsamples_and_keeps_short_series_fine():
    five = pd.Series(pd.date_range("2020", periods=30_000, freq="5min"))
    assert ex.resample_rule(five, "30min") == "30min"
    assert ex.resample_rule(five[:4000], "30min") is None  # would leave fewer than 2000 rows
    assert ex.resample_rule(pd.Series(pd.date_range("2020", periods=5000, freq="h")), "30min") is None
    assert ex.resample_rule(five, None) is None


def test_trainer_keeps_the_lowest_validation_value_mse_which_selection_recomputes():
    prep = prepared(ex.Recipe(**{**RECIPE.__dict__, "resample": None}))
    model, hist = TRAINER("conv1d", prep, RECIPE, progress=False)
    assert len(hist) == 3 and {"val_loss", "val_value_mse", "val_accuracy", "val_f1", "train_f1",
                                "threshold"} <= set(hist.keys())
    assert hist.best()["val_value_mse"] == min(hist["val_value_mse"]) and model.cfg.n_features == 4
    selection = ex.evaluate("conv1d", model, prep, RECIPE).selection_loss  # one quantity, one value
    assert selection == pytest.approx(hist.best_score, rel=1e-5)


def test_the_trainer_runs_the_code_it_is_given():
    calls = []

    def build(name, **cfg):
        calls.append(name)
        return models.build_model("dense", **cfg)

    recipe = ex.Recipe(**{**RECIPE.__dict__, "resample": None, "epochs": 1, "curves": False})
    model, _ = ex.Trainer(build=build, output_range=models.output_range, train=training.train)(
        "custom", prepared(recipe), recipe, progress=False)
    assert calls == ["custom"] and isinstance(model, models.DenseAE)


def test_recipe_gives_each_model_its_arithmetic():
    recipe = ex.Recipe(arithmetic={"lstm": "bf16"})
    assert recipe.train_config("lstm").arithmetic == "bf16" and recipe.train_config("dense").arithmetic == "fp32"
    assert recipe.train_config("dense").monitor == "val_value_mse"


def test_outputs_are_bounded_by_the_normal_training_range_unless_switched_off():
    recipe = ex.Recipe(**{**RECIPE.__dict__, "resample": None, "epochs": 1, "curves": False})
    prep = prepared(recipe)
    model, _ = TRAINER("dense", prep, recipe, progress=False)
    expected = models.output_range(prep.x[prep.normal_rows("train")], recipe.range_margin)
    assert (model.cfg.out_low, model.cfg.out_high) == (expected["out_low"], expected["out_high"])
    spike = torch.full((1, recipe.window, prep.x.shape[1]), 50.0)  # far above any normal training level
    assert (model(spike) <= torch.tensor(expected["out_high"])).all()
    plain, _ = TRAINER("dense", prep, ex.Recipe(**{**recipe.__dict__, "bounded": False}), progress=False)
    assert plain.cfg.out_low == () and plain.cfg.out_high == ()


def test_reconstruction_mse_per_part():
    prep = prepared()
    zero = models.MeanBaseline()
    all_test = ex.reconstruction_mse(zero, prep, "test", RECIPE.window)
    normal = ex.reconstruction_mse(zero, prep, "test", RECIPE.window, normal_only=True)
    assert all_test > normal > 0  # the shifted window raises the loss of the part that holds it
    value_only = ex.reconstruction_mse(zero, prep, "val", RECIPE.window, normal_only=True, channels=[0])
    assert value_only == pytest.approx(float((prep.x[prep.normal_rows("val"), 0] ** 2).mean()), rel=0.2)


def test_run_series_selects_on_validation_loss_and_adds_the_reference():
    run = ex.run_series(prepared(), RECIPE, TRAINER, progress=False)
    assert set(run.evaluations) == {"dense", "conv1d", ex.REFERENCE}
    assert run.best == min(("dense", "conv1d"), key=lambda k: run.evaluations[k].selection_loss)
    test = run.chosen.metrics["test"]
    assert {"loss", "loss_normal", "accuracy", "f1", "event_f1"} <= set(test) and test["loss"] > 0
    table = run.table("val")
    assert list(table.index)[-1] == "(reference) training mean" and "validation value MSE" in table.columns
    with pytest.raises(ValueError, match="no trained architecture"):
        ex.select({ex.REFERENCE: run.reference})


def test_multi_series_seeds_stacks_one_table_per_seed():
    raw, windows = synthetic_raw()
    ok, _ = ex.qualifying({"good.csv": (raw, windows)}, RECIPE)
    recipe = ex.Recipe(**{**RECIPE.__dict__, "models": ("dense",), "curves": False, "epochs": 1})
    table, ablation = ex.multi_series_seeds(ok, recipe, TRAINER, [0, 1], rules=([1], ["point_f1"]))
    assert table["seed"].tolist() == [0, 1] and list(table.index) == ["good.csv", "good.csv"]
    assert sorted(set(ablation["seed"])) == [0, 1]
    single, _ = ex.multi_series(ok, ex.Recipe(**{**recipe.__dict__, "seed": 1}), TRAINER)
    assert table[table["seed"] == 1]["f1 dense"].item() == pytest.approx(single["f1 dense"].item())
    means = ex.seed_means(table)
    assert list(means.index) == ["good.csv"] and "seed" not in means.columns
    assert means["f1 dense"].item() == pytest.approx(table["f1 dense"].mean())


def test_recipe_states_and_checks_its_threshold_rule():
    assert RECIPE.threshold_rule == ("step scores smoothed by a centred 5-step rolling median; "
                                     "max the mean of point-wise and event-wise F1 on the validation part")
    plain = ex.Recipe(smooth_steps=1, threshold_objective="point_f1")
    assert plain.threshold_rule == "max point-wise F1 on the validation part"
    with pytest.raises(ValueError, match="threshold_objective"):
        ex.Recipe(threshold_objective="accuracy")
    with pytest.raises(ValueError, match="smooth_steps"):
        ex.Recipe(smooth_steps=0)


def test_rule_ablation_covers_chosen_and_reference_on_validation():
    run = ex.run_series(prepared(), ex.Recipe(**{**RECIPE.__dict__, "curves": False}), TRAINER, progress=False)
    table = ex.rule_ablation(run, RECIPE, [1, 5], ["point_f1", "mean_f1"])
    assert len(table) == 8 and set(table["model"]) == {"chosen", ex.REFERENCE}
    assert table["val point F1"].between(0, 1).all() and table["val event F1"].between(0, 1).all()
    chosen = table[(table["model"] == "chosen") & (table["smoothing steps"] == 5) & (table["objective"] == "mean_f1")]
    val = run.chosen.metrics["val"]  # the recipe's own rule gives the same validation figures
    assert chosen["val point F1"].item() == pytest.approx(val["f1"])
    assert chosen["val event F1"].item() == pytest.approx(val["event_f1"])


def test_qualifying_and_multi_series_summary():
    raw, windows = synthetic_raw()
    series = {"good.csv": (raw, windows), "late.csv": (raw, windows[-1:])}
    ok, skipped = ex.qualifying(series, RECIPE)
    assert list(ok) == ["good.csv"] and skipped == {"late.csv": "no labelled window in validation"}
    table, ablation = ex.multi_series(ok, ex.Recipe(**{**RECIPE.__dict__, "models": ("dense",), "curves": False}),
                                      TRAINER, rules=([1, 5], ["point_f1", "mean_f1"]))
    assert list(table.index) == ["good.csv"] and table.loc["good.csv", "chosen"] == "dense"
    assert len(ablation) == 2 * 2 * 2 and set(ablation["series"]) == {"good.csv"}
    summary = ex.multi_summary(table)
    assert summary["n_series"] == 1 and set(summary["mean_f1"]) == {"chosen", "dense", ex.REFERENCE}
    assert summary["mean_event_f1"]["chosen"] == table["event_f1 chosen"].iloc[0]


def test_worker_processes_train_a_model_class_they_cannot_import():
    class Zero(models.Autoencoder):  # defined here, as in a notebook cell: a spawned worker has no module for it
        def __init__(self, cfg):
            super().__init__()
            self.cfg = cfg
            self.w = torch.nn.Parameter(torch.zeros(()))

        def forward(self, x):
            return torch.zeros_like(x) + 0 * self.w  # the mean level: scores exactly like the reference

    def build(name, **cfg):
        return Zero(models.make_config("dense", **cfg))

    raw, windows = synthetic_raw()
    ok, _ = ex.qualifying({"good.csv": (raw, windows)}, RECIPE)
    recipe = ex.Recipe(**{**RECIPE.__dict__, "models": ("dense",), "curves": False, "epochs": 1})
    trainer = ex.Trainer(build=build, output_range=models.output_range, train=training.train)
    table, _ = ex.multi_series_seeds(ok, recipe, trainer, [0, 1], workers=2)
    assert (table["f1 dense"] == table["f1 reference"]).all()
    assert (table["event_f1 dense"] == table["event_f1 reference"]).all()
