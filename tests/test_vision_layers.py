"""DropPath: identity in eval mode, whole samples dropped in training, expectation preserved."""

from __future__ import annotations

import pytest
import torch

from a2.vision.layers import DropPath


def test_drop_path_is_identity_in_eval_and_at_zero():
    x = torch.randn(4, 3, 5)
    assert torch.equal(DropPath(0.5).eval()(x), x)
    assert torch.equal(DropPath(0.0).train()(x), x)


def test_drop_path_drops_whole_samples_and_rescales_the_rest():
    torch.manual_seed(0)
    out = DropPath(0.5).train()(torch.ones(2000, 3, 4))
    per_sample = out.flatten(1)
    assert set(per_sample.unique().tolist()) == {0.0, 2.0}
    assert bool((per_sample == per_sample[:, :1]).all())  # a sample is kept or dropped as a whole
    assert out.mean().item() == pytest.approx(1.0, abs=0.1)


def test_drop_path_rejects_a_probability_of_one():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        DropPath(1.0)
