"""The one parameter counter, counting on ``meta``, and the short size format used in labels."""

from __future__ import annotations

import pytest
from torch import nn

from a2.params import count_on_meta, count_params, format_params


def test_count_params_trainable_only_or_all():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))  # 16 + 10
    model[0].weight.requires_grad_(False)
    assert count_params(model) == 26 - 12
    assert count_params(model, trainable_only=False) == 26


def test_count_on_meta_matches_a_real_build():
    assert count_on_meta(lambda: nn.Linear(1000, 1000)) == count_params(nn.Linear(1000, 1000)) == 1_001_000


@pytest.mark.parametrize(("n", "text"), [(689_011, "0.69M"), (2_799_651, "2.8M"), (5_288_548, "5.3M"),
                                         (11_689_512, "11.7M"), (133_047_848, "133M")])
def test_format_params(n, text):
    assert format_params(n) == text


def test_format_params_refuses_negative_counts():
    with pytest.raises(ValueError, match="negative"):
        format_params(-1)
