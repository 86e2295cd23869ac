import json

import pytest
import torch

from a2.io import atomic_write, save_torch, write_json


def test_write_json_roundtrip_with_numpy_and_torch(tmp_path):
    import numpy as np

    path = write_json(tmp_path / "r.json", {"a": np.float32(1.5), "b": torch.tensor([1, 2]), "c": np.arange(2)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [1, 2], "c": [0, 1]}


def test_failed_write_leaves_nothing_and_keeps_old_file(tmp_path):
    target = tmp_path / "w.pt"
    target.write_text("old")

    def boom(tmp):
        tmp.write_text("half")
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["w.pt"]


def test_save_torch_loads_weights_only(tmp_path):
    path = save_torch({"state_dict": {"w": torch.ones(2)}, "config": {"h": 3}}, tmp_path / "m.pt")
    loaded = torch.load(path, weights_only=True)
    assert loaded["config"] == {"h": 3} and torch.equal(loaded["state_dict"]["w"], torch.ones(2))
