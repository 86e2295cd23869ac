"""The source hash behind stored-run signatures: the same code hashes alike wherever it is defined, an edit does not."""

from __future__ import annotations

import importlib.util

from a2.vision import efficientnet, vit
from a2.vision.source import source_hash

MODULE = '''
STAGES = (1, 2, 3)


def helper(x):
    return x + 1


class Block:
    def run(self, x):
        return helper(x)


class Net:
    """A net."""

    def __init__(self):
        self.blocks = [Block() for _ in STAGES]

    def forward(self, x):
        return self.blocks[0].run(x)
'''


def _load(tmp_path, name: str, text: str):
    path = tmp_path / f"{name}.py"
    path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Net


def test_the_same_source_in_another_module_hashes_alike(tmp_path):
    assert source_hash(_load(tmp_path, "a", MODULE)) == source_hash(_load(tmp_path, "b", MODULE))


def test_an_edit_anywhere_the_model_reaches_changes_the_hash(tmp_path):
    base = source_hash(_load(tmp_path, "base", MODULE))
    edits = {"helper": ("return x + 1", "return x + 2"), "constant": ("(1, 2, 3)", "(1, 2)"),
             "docstring": ('"""A net."""', '"""A network."""'), "comment": ("return self.blocks[0].run(x)",
                                                                           "return self.blocks[0].run(x)  # first")}
    for name, (old, new) in edits.items():
        assert source_hash(_load(tmp_path, f"edit_{name}", MODULE.replace(old, new))) != base, name


def test_an_unreached_definition_does_not_count(tmp_path):
    base = source_hash(_load(tmp_path, "base", MODULE))
    assert source_hash(_load(tmp_path, "extra", MODULE + "\n\ndef unrelated():\n    return 0\n")) == base


def test_the_package_models_hash_their_helpers():
    assert len(source_hash(vit.ViT)) == 16
    assert source_hash(vit.ViT) != source_hash(vit.Block)
    assert source_hash(efficientnet.EfficientNet) != source_hash(efficientnet.MBConv)
